/**
 * Approvals: the requests that needed a human, and the pairings (terminal ⇄ approver device).
 * Metadata only: the admin UI cannot decrypt a request (only the paired approver can), so it shows
 * ids, status, times and the daemon's verification of the signed decision. A pairing's fingerprint
 * is computed here from its four public keys: it is the one both ends showed when pairing.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import { fingerprint } from "../../approvals";
import { APPROVAL_STATUSES, type ApprovalRecord, type PairingRecord } from "../../protocol/approvals";
import { describeError, get, qs, request, role } from "../api";
import { approvalTick, liveState } from "../live";
import { Link } from "../nav";
import { ConfirmDialog, Empty, ErrorNote, h, Table, time, useSettled } from "../ui";

/** only while the event stream is down: presence and decisions otherwise arrive as events */
const POLL_MS = 10_000;

function ms(n: number): string {
  return n < 10 ? `${n.toFixed(2)} ms` : n < 10_000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** a long id shortened for a table cell; the whole id in the tooltip */
function Id(props: { id: string; code?: boolean }): VNode<any> {
  const text = props.id.length > 18 ? `${props.id.slice(0, 15)}…` : props.id;
  return h(props.code ? "code" : "span", { title: props.id }, text);
}

/** the time of day for today, else the date and time */
function when(iso: string | null): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : time(iso);
}

function between(a: string, b: string | null): string {
  if (!b) return "—";
  const d = Date.parse(b) - Date.parse(a);
  return Number.isFinite(d) ? ms(Math.max(0, d)) : "—";
}

function Status(props: { status: string }): VNode<any> {
  const cls = props.status === "approved" || props.status === "paired" ? "s-running" : props.status === "denied" || props.status === "removed" ? "s-revoked" : props.status === "pending" ? "s-ready" : "s-exited";
  return h("span", { class: `badge ${cls}`, "data-status": props.status }, props.status);
}

function Verification(props: { v: ApprovalRecord["verification"] }): VNode<any> {
  const v = props.v;
  if (!v) return h("span", { class: "muted" }, "—");
  return h(
    "span",
    { "data-verified": v.ok ? "ok" : "rejected", title: `verified at ${time(v.at)}` },
    h("span", { class: `badge ${v.ok ? "s-running" : "s-revoked"}` }, v.ok ? "signature ok" : `rejected: ${v.reason}`),
    h("div", { class: "muted" }, `verify ${ms(v.verify_ms)} · round trip ${ms(v.total_ms)}`),
  );
}

/** every pairing's fingerprint, computed from its public keys (null until the approver claimed it) */
function useFingerprints(pairings: PairingRecord[] | null): Record<string, string> {
  const [out, setOut] = useState<Record<string, string>>({});
  useEffect(() => {
    let alive = true;
    const todo = (pairings ?? []).filter((p) => p.approver && !out[p.id]);
    if (todo.length === 0) return;
    Promise.all(todo.map(async (p) => [p.id, await fingerprint(p.daemon, p.approver!).catch(() => "invalid keys")] as const)).then((pairs) => alive && setOut((o) => ({ ...o, ...Object.fromEntries(pairs) })));
    return () => {
      alive = false;
    };
  }, [pairings]);
  return out;
}

function Pairings(props: { tick: number }): VNode<any> {
  const admin = role.value === "admin";
  const [items, setItems] = useState<PairingRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<PairingRecord | null>(null);
  const [reload, setReload] = useState(0);
  const fps = useFingerprints(items);
  useEffect(() => {
    get<{ items: PairingRecord[] }>("/api/v1/pairings").then(
      (r) => {
        setItems(r.items);
        setError(null);
      },
      (e) => setError(describeError(e)),
    );
  }, [props.tick, reload]);
  return h(
    "section",
    { "aria-labelledby": "pairings-title" },
    h("h2", { id: "pairings-title" }, "Pairings"),
    h(ErrorNote, { error }),
    items === null
      ? !error && h("p", { class: "muted" }, "Loading…")
      : items.length === 0
        ? h(Empty, { title: "No terminal is paired with an approver yet." }, h("p", null, "A developer signs in with ", h("code", null, "airlock sign-in"), ", runs ", h("code", null, "airlock pair"), " and enters the code on ", h("a", { href: "/approver" }, "the approver page"), " on their phone."))
        : h(Table, {
            caption: "Pairings",
            head: ["User", "Client", "Approver", "Fingerprint", "Status", "Online", "Paired", ...(admin ? [""] : [])],
            rows: items.map((p) =>
              h(
                "tr",
                { key: p.id, "data-pairing": p.id },
                h("td", null, h(Id, { id: p.user }), h("div", { class: "muted" }, h(Id, { id: p.id }))),
                h("td", null, p.label ?? h(Id, { id: p.client_id }), p.label && h("div", { class: "muted" }, h(Id, { id: p.client_id }))),
                h("td", null, p.approver_label ?? (p.approver ? "(unnamed)" : h("span", { class: "muted" }, "not claimed yet"))),
                h("td", null, fps[p.id] ? h("code", { class: "nowrap", "data-fingerprint": fps[p.id] }, fps[p.id]) : "—"),
                h("td", null, h(Status, { status: p.status })),
                h("td", null, p.status === "paired" ? h("span", { class: `badge ${p.approver_online ? "s-running" : "s-exited"}`, "data-online": String(p.approver_online) }, p.approver_online ? "online" : "offline") : "—"),
                h("td", null, when(p.paired_at ?? p.created_at)),
                admin ? h("td", null, p.status === "removed" ? null : h("button", { type: "button", class: "danger small", onClick: () => setRemoving(p), "aria-label": `Remove pairing ${p.id}` }, "Remove")) : null,
              ),
            ),
          }),
    removing &&
      h(ConfirmDialog, {
        title: "Remove this pairing?",
        body: `${removing.user} on ${removing.label ?? removing.client_id} with ${removing.approver_label ?? "its approver"}. The approver device is signed out at once, and every command that needs approval on that terminal is blocked until it pairs again.`,
        confirm: "Remove pairing",
        busy: "Removing…",
        action: () => request("DELETE", `/api/v1/pairings/${encodeURIComponent(removing.id)}`),
        onClose: (changed) => {
          setRemoving(null);
          if (changed) setReload(reload + 1);
        },
      }),
  );
}

function Requests(props: { tick: number }): VNode<any> {
  const [status, setStatus] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ items: ApprovalRecord[]; next_cursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const index = cursors.length - 1;
  // live refreshes only on the first page: older pages hold still while being read
  const tick = index === 0 ? props.tick : -1;
  useEffect(() => {
    let alive = true;
    get<{ items: ApprovalRecord[]; next_cursor: string | null }>(`/api/v1/approvals${qs({ limit: 50, status, cursor: cursors[index] })}`).then(
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
  }, [status, cursors, tick]);
  return h(
    "section",
    { "aria-labelledby": "requests-title" },
    h("h2", { id: "requests-title" }, "Requests"),
    h(
      "div",
      { class: "filters" },
      h(
        "label",
        null,
        "Status",
        h(
          "select",
          {
            name: "status",
            value: status,
            onChange: (e: Event) => {
              setStatus((e.target as HTMLSelectElement).value);
              setCursors([null]);
            },
          },
          h("option", { value: "" }, "any"),
          APPROVAL_STATUSES.map((s) => h("option", { value: s }, s)),
        ),
      ),
    ),
    h(ErrorNote, { error }),
    page === null
      ? !error && h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? h(Empty, { title: status ? `No ${status} request.` : "No approval request yet." }, h("p", null, "A policy rule with ", h("code", null, "require_approval"), " sends one to the paired approver of the terminal where it matched."))
        : h(Table, {
            caption: "Approval requests",
            head: ["Request", "Session", "Status", "Asked", "Decided", "Human took", "Daemon's check"],
            rows: page.items.map((a) =>
              h(
                "tr",
                { key: a.id, "data-approval": a.id },
                h("td", null, h(Id, { id: a.id, code: true }), h("div", { class: "muted" }, "pairing ", h(Id, { id: a.pairing_id }))),
                h("td", null, a.session_id ? h(Link, { href: `/sessions/${encodeURIComponent(a.session_id)}` }, h(Id, { id: a.session_id })) : "—"),
                h("td", null, h(Status, { status: a.status })),
                h("td", { style: "white-space: nowrap" }, when(a.created_at), h("div", { class: "muted" }, `expires ${when(a.expires_at)}`)),
                h("td", { style: "white-space: nowrap" }, when(a.decided_at)),
                h("td", null, between(a.created_at, a.decided_at)),
                h("td", null, h(Verification, { v: a.verification })),
              ),
            ),
          }),
    page &&
      (index > 0 || page.next_cursor) &&
      h(
        "nav",
        { class: "pager", "aria-label": "Request pages" },
        h("button", { type: "button", disabled: index === 0, onClick: () => setCursors(cursors.slice(0, -1)) }, "Newer"),
        h("span", { class: "muted" }, `page ${index + 1}`),
        h("button", { type: "button", disabled: !page.next_cursor, onClick: () => page.next_cursor && setCursors([...cursors, page.next_cursor]) }, "Older"),
      ),
  );
}

export function Approvals(): VNode<any> {
  // approval and pairing events from the gateway's stream refresh both lists (settled, so a burst
  // refetches once); while the stream is down, a slow poll keeps the page roughly current
  const [poll, setPoll] = useState(0);
  const down = liveState.value !== "live";
  useEffect(() => {
    if (!down) return;
    const t = setInterval(() => document.visibilityState === "visible" && setPoll((n) => n + 1), POLL_MS);
    return () => clearInterval(t);
  }, [down]);
  const tick = poll + useSettled(approvalTick.value, 300);
  return h(
    "section",
    null,
    h("h1", null, "Approvals"),
    h("p", { class: "muted" }, "Commands a policy sends to a human. The gateway relays them encrypted for the paired approver device: this page sees who, when and how it ended, never the command itself. Developers approve on ", h("a", { href: "/approver" }, "the approver page"), " (installable on a phone)."),
    h(Requests, { tick }),
    h(Pairings, { tick }),
  );
}
