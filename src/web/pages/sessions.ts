/** Sessions: filtered on the server, paginated with the cursor; admins revoke after a confirmation. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { Page, SessionRecord } from "../../protocol/records";
import { SESSION_STATUSES } from "../../protocol/records";
import { describeError, get, post, qs, role } from "../api";
import { sessionTick } from "../live";
import { Link } from "../nav";
import { ConfirmDialog, Empty, ErrorNote, h, Table, time } from "../ui";

const PAGE = 50;
const LIVE = new Set(["ready", "running"]);

export function RevokeDialog(props: { session: SessionRecord; onClose: (changed: boolean) => void }): VNode<any> {
  const s = props.session;
  return h(ConfirmDialog, {
    title: "Revoke this session?",
    body: `${s.agent} run by ${s.user} on ${s.host} (${s.id}). Every command it tries after this is refused, and it cannot be undone.`,
    confirm: "Revoke session",
    busy: "Revoking…",
    action: () => post(`/api/v1/sessions/${encodeURIComponent(s.id)}/revoke`),
    onClose: props.onClose,
  });
}

export function Sessions(): VNode<any> {
  const [form, setForm] = useState({ status: "", agent: "", user: "", host: "" });
  const [applied, setApplied] = useState(form);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page<SessionRecord> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<SessionRecord | null>(null);
  const [reload, setReload] = useState(0);
  const index = cursors.length - 1;
  const tick = index === 0 ? sessionTick.value : -1;
  const admin = role.value === "admin";

  useEffect(() => {
    let alive = true;
    get<Page<SessionRecord>>(`/api/v1/sessions${qs({ limit: PAGE, ...applied, cursor: cursors[index] })}`).then(
      (p) => {
        if (!alive) return;
        setPage(p);
        setError(null);
      },
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [applied, cursors, tick, reload]);

  const field = (name: "agent" | "user" | "host", label: string) =>
    h("label", null, label, h("input", { name, type: "search", value: form[name], onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }) }));
  const filtered = Object.values(applied).some((v) => v !== "");
  return h(
    "section",
    null,
    h("h1", null, "Sessions"),
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter sessions", onSubmit: (e: Event) => (e.preventDefault(), setCursors([null]), setApplied({ status: form.status, agent: form.agent.trim(), user: form.user.trim(), host: form.host.trim() })) },
      h("label", null, "State", h("select", { name: "status", value: form.status, onChange: (e: Event) => setForm({ ...form, status: (e.target as HTMLSelectElement).value }) }, h("option", { value: "" }, "any"), SESSION_STATUSES.map((s) => h("option", { value: s }, s)))),
      field("agent", "Agent"),
      field("user", "User"),
      field("host", "Host"),
      h("button", { type: "submit" }, "Apply"),
    ),
    h(ErrorNote, { error }),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? filtered
          ? h(Empty, { title: "No session matches these filters." })
          : h(Empty, { title: "No sessions yet." }, h("p", null, "A session is one governed agent run on an enrolled workstation. Start one with ", h("code", null, "airlock run claude"), "."))
        : h(Table, {
            caption: "Sessions, newest first",
            head: ["Started", "State", "Agent", "Role", "User", "Host", "Directory", ...(admin ? [""] : [])],
            rows: page.items.map((s) =>
              h(
                "tr",
                { key: s.id, "data-session": s.id },
                h("td", null, h(Link, { href: `/sessions/${encodeURIComponent(s.id)}`, "aria-label": `Session ${s.id}, started ${time(s.started_at ?? s.created_at)}` }, time(s.started_at ?? s.created_at))),
                h("td", null, h("span", { class: `badge s-${s.status}` }, s.status)),
                h("td", null, s.agent),
                h("td", null, s.role),
                h("td", null, s.user),
                h("td", null, s.host),
                h("td", null, h("code", null, s.cwd)),
                admin && h("td", null, LIVE.has(s.status) ? h("button", { type: "button", class: "danger small", onClick: () => setRevoking(s), "aria-label": `Revoke session ${s.id}` }, "Revoke") : null),
              ),
            ),
          }),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", disabled: index === 0, onClick: () => setCursors(cursors.slice(0, -1)) }, "Newer"),
      h("span", { class: "muted" }, `page ${index + 1}`),
      h("button", { type: "button", disabled: !page?.next_cursor, onClick: () => page?.next_cursor && setCursors([...cursors, page.next_cursor]) }, "Older"),
    ),
    revoking &&
      h(RevokeDialog, {
        session: revoking,
        onClose: (changed) => {
          setRevoking(null);
          if (changed) setReload(reload + 1);
        },
      }),
  );
}
