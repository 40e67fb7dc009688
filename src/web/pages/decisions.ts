/**
 * Decisions: server-side filtered and cursor-paginated; the first page refreshes on live events.
 * The filters live in the page's query (`/decisions?verdict=block&policy=git-guard`), so a filtered
 * view can be shared and survives a reload; the form follows the URL on back and forward.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DecisionRecord, Page, PolicyRecord, RoleRecord } from "../../protocol/records";
import { describeError, get, qs } from "../api";
import { decisionTick } from "../live";
import { Link, navigate, queryValues, search, withQuery } from "../nav";
import { Empty, ErrorNote, h, isoToLocal, localToIso, Pager, Table, time, Verdict } from "../ui";

const PAGE = 50;

export const DECISION_FILTERS = ["verdict", "q", "role", "policy", "rule", "agent", "tool", "session_id", "client_id", "since", "until"] as const;
type Filters = Record<(typeof DECISION_FILTERS)[number], string>;

const TEXT_FIELDS: [keyof Filters, string, string?][] = [
  ["q", "Command contains"],
  ["policy", "Policy", "policy-options"],
  ["role", "Role", "role-options"],
];
/** behind "More filters" unless one of them is in use */
const MORE_FIELDS: [keyof Filters, string, string?][] = [
  ["rule", "Rule"],
  ["agent", "Agent"],
  ["tool", "Tool"],
  ["session_id", "Session"],
];
const MORE_KEYS = ["rule", "agent", "tool", "session_id", "client_id", "since", "until"] as const;

/** the role and policy ids, offered as suggestions in the filter inputs */
function useSuggestions(): { roles: string[]; policies: string[] } {
  const [s, setS] = useState<{ roles: string[]; policies: string[] }>({ roles: [], policies: [] });
  useEffect(() => {
    Promise.all([get<{ items: RoleRecord[] }>("/api/v1/roles"), get<{ items: PolicyRecord[] }>("/api/v1/policies")]).then(
      ([r, p]) => setS({ roles: r.items.map((x) => x.id), policies: p.items.map((x) => x.id) }),
      () => {},
    );
  }, []);
  return s;
}

export function Decisions(): VNode<any> {
  const applied = queryValues(DECISION_FILTERS);
  const key = search.value;
  const [form, setForm] = useState<Filters>(applied);
  // cursors[i] is the cursor of page i (page 0 has none), kept with the query they belong to: a
  // new query starts at page 0
  const [pages, setPages] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = pages.key === key ? pages.cursors : [null];
  const setCursors = (c: (string | null)[]) => setPages({ key, cursors: c });
  const [page, setPage] = useState<Page<DecisionRecord> | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const suggestions = useSuggestions();
  const index = cursors.length - 1;
  const tick = index === 0 ? decisionTick.value : -1;

  const [more, setMore] = useState(() => MORE_KEYS.some((k) => applied[k] !== ""));

  // back/forward or a link to another filtered view: the form follows the URL
  useEffect(() => {
    const values = queryValues(DECISION_FILTERS);
    setForm(values);
    if (MORE_KEYS.some((k) => values[k] !== "")) setMore(true);
  }, [key]);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    get<Page<DecisionRecord>>(`/api/v1/decisions${qs({ limit: PAGE, ...applied, cursor: cursors[index] })}`).then(
      (p) => {
        if (!alive) return;
        setPage(p);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (!alive) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => {
      alive = false;
    };
  }, [key, pages, tick]);

  const apply = (f: Filters) => {
    const trimmed = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.trim()])) as Filters;
    const to = withQuery("/decisions", trimmed);
    // the same query again (Apply twice) goes back to its first page
    if (to === location.pathname + location.search) setPages({ key, cursors: [null] });
    else navigate(to);
  };
  const set = (k: keyof Filters) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const filtered = DECISION_FILTERS.some((k) => applied[k] !== "");
  const active = DECISION_FILTERS.filter((k) => applied[k] !== "");
  return h(
    "section",
    null,
    h("h1", null, "Decisions"),
    h(
      "form",
      { class: "filters", onSubmit: (e: Event) => (e.preventDefault(), apply(form)), role: "search", "aria-label": "Filter decisions" },
      h("label", null, "Verdict", h("select", { name: "verdict", value: form.verdict, onChange: set("verdict") }, h("option", { value: "" }, "any"), h("option", { value: "allow" }, "allow"), h("option", { value: "require_approval" }, "approval"), h("option", { value: "block" }, "block"))),
      [...TEXT_FIELDS, ...(more ? MORE_FIELDS : [])].map(([k, label, list]) =>
        h("label", { key: k, class: k === "q" ? "grow" : undefined }, label, h("input", { name: k, type: "search", value: form[k], maxLength: 500, spellcheck: false, list, onInput: set(k), "aria-describedby": error ? "decisions-error" : undefined })),
      ),
      more && h("label", { key: "since" }, "From", h("input", { name: "since", type: "datetime-local", value: isoToLocal(form.since), onInput: (e: Event) => setForm({ ...form, since: localToIso((e.target as HTMLInputElement).value) }) })),
      more && h("label", { key: "until" }, "Until", h("input", { name: "until", type: "datetime-local", value: isoToLocal(form.until), onInput: (e: Event) => setForm({ ...form, until: localToIso((e.target as HTMLInputElement).value) }) })),
      h(
        "div",
        { class: "filter-actions" },
        h("button", { type: "submit" }, "Apply"),
        h("button", { type: "button", "aria-expanded": more, onClick: () => setMore(!more) }, more ? "Fewer filters" : "More filters"),
        filtered && h("button", { type: "button", onClick: () => apply(Object.fromEntries(DECISION_FILTERS.map((k) => [k, ""])) as Filters) }, "Clear filters"),
      ),
      h("datalist", { id: "role-options" }, suggestions.roles.map((r) => h("option", { value: r }))),
      h("datalist", { id: "policy-options" }, suggestions.policies.map((p) => h("option", { value: p }))),
    ),
    active.length > 0 && h("p", { class: "muted", "data-active-filters": active.join(",") }, `Filtered by ${active.map((k) => `${k === "q" ? "command" : k.replace("_id", "")} ${k === "since" || k === "until" ? time(applied[k]) : `“${applied[k]}”`}`).join(", ")}. This address keeps the filters: copy it to share the view.`),
    h(ErrorNote, { error, id: "decisions-error" }),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? filtered
          ? h(Empty, { title: "No decision matches these filters." }, h("p", null, "Loosen or clear the filters to see more decisions."))
          : h(Empty, { title: "No decisions yet." }, h("p", null, "Every command a governed agent runs is recorded here. Enroll a workstation with ", h("code", null, "airlock client enroll"), ", then start a governed session with ", h("code", null, "airlock run claude"), "."))
        : h(
            "div",
            { "aria-busy": loading ? "true" : "false", class: loading ? "stale" : undefined },
            h(Table, {
              caption: "Decisions, newest first",
              head: ["When", "Command", "Verdict", "Policy / rule", "Agent", "Role", "Reason"],
              rows: page.items.map((d) =>
                h(
                  "tr",
                  { key: d.id, "data-decision": d.id },
                  h("td", { class: "nowrap" }, h(Link, { href: `/decisions/${encodeURIComponent(d.id)}`, "aria-label": `Decision ${d.id}: ${d.command}` }, time(d.decided_at))),
                  h("td", { class: "cmd" }, h("code", null, d.command)),
                  h("td", null, h(Verdict, { verdict: d.verdict })),
                  h("td", null, [d.policy, d.rule].filter(Boolean).join(" / ") || "—"),
                  h("td", null, d.agent ?? "—"),
                  h("td", null, d.role ?? "—"),
                  h("td", null, d.reason || "—"),
                ),
              ),
            }),
          ),
    h(Pager, { cursors, next: page?.next_cursor, onChange: setCursors }),
  );
}
