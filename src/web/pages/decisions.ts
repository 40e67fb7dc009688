/** Decisions: server-side filtered and cursor-paginated; the first page refreshes on live events. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DecisionRecord, Page } from "../../protocol/records";
import { describeError, get, qs } from "../api";
import { decisionTick } from "../live";
import { Link } from "../nav";
import { Empty, ErrorNote, h, Table, time, Verdict } from "../ui";

const PAGE = 50;

export function Decisions(): VNode<any> {
  const [verdict, setVerdict] = useState("");
  const [q, setQ] = useState("");
  const [applied, setApplied] = useState({ verdict: "", q: "" });
  // cursors[i] is the cursor of page i (page 0 has none)
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page<DecisionRecord> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const index = cursors.length - 1;
  const tick = index === 0 ? decisionTick.value : -1;

  useEffect(() => {
    let alive = true;
    get<Page<DecisionRecord>>(`/api/v1/decisions${qs({ limit: PAGE, verdict: applied.verdict, q: applied.q, cursor: cursors[index] })}`).then(
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
  }, [applied, cursors, tick]);

  const submit = (e: Event) => {
    e.preventDefault();
    setCursors([null]);
    setApplied({ verdict, q: q.trim() });
  };
  const filtered = applied.verdict !== "" || applied.q !== "";
  return h(
    "section",
    null,
    h("h1", null, "Decisions"),
    h(
      "form",
      { class: "filters", onSubmit: submit, role: "search", "aria-label": "Filter decisions" },
      h("label", null, "Verdict", h("select", { name: "verdict", value: verdict, onChange: (e: Event) => setVerdict((e.target as HTMLSelectElement).value) }, h("option", { value: "" }, "any"), h("option", { value: "allow" }, "allow"), h("option", { value: "require_approval" }, "approval"), h("option", { value: "block" }, "block"))),
      h("label", null, "Command contains", h("input", { name: "q", type: "search", value: q, maxLength: 500, onInput: (e: Event) => setQ((e.target as HTMLInputElement).value), "aria-describedby": error ? "decisions-error" : undefined })),
      h("button", { type: "submit" }, "Apply"),
    ),
    h(ErrorNote, { error, id: "decisions-error" }),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? filtered
          ? h(Empty, { title: "No decision matches these filters." }, h("p", null, "Clear the filters to see every decision."))
          : h(Empty, { title: "No decisions yet." }, h("p", null, "Every command a governed agent runs is recorded here. Start one with ", h("code", null, "airlock run claude"), "."))
        : h(Table, {
            caption: "Decisions, newest first",
            head: ["When", "Command", "Verdict", "Policy / rule", "Agent", "Role", "Reason"],
            rows: page.items.map((d) =>
              h("tr", { key: d.id, "data-decision": d.id }, h("td", null, h(Link, { href: `/decisions/${encodeURIComponent(d.id)}`, "aria-label": `Decision ${d.id}: ${d.command}` }, time(d.decided_at))), h("td", null, h("code", null, d.command)), h("td", null, h(Verdict, { verdict: d.verdict })), h("td", null, [d.policy, d.rule].filter(Boolean).join(" / ") || "—"), h("td", null, d.agent ?? "—"), h("td", null, d.role ?? "—"), h("td", null, d.reason || "—")),
            ),
          }),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages" },
      h("button", { type: "button", disabled: index === 0, onClick: () => setCursors(cursors.slice(0, -1)) }, "Newer"),
      h("span", { class: "muted" }, `page ${index + 1}`),
      h("button", { type: "button", disabled: !page?.next_cursor, onClick: () => page?.next_cursor && setCursors([...cursors, page.next_cursor]) }, "Older"),
    ),
  );
}
