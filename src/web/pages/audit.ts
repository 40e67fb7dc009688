/**
 * Audit trail: keyset-paginated, filtered by type, actor, target and time (kept in the page's
 * query), each event's full detail, chain verification, JSONL export through fetch.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { AuditEventRecord, Page } from "../../protocol/records";
import { describeError, download, get, qs } from "../api";
import { Link, navigate, queryValues, search, withQuery } from "../nav";
import { Empty, ErrorNote, Facts, h, isoToLocal, localToIso, Pager, Table, time } from "../ui";

const PAGE = 50;

interface Verify {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  problem?: { kind: string; seq: number; id: string | null; message: string };
}

function VerifyStatus(): VNode<any> {
  const [result, setResult] = useState<Verify | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = () => {
    setBusy(true);
    get<Verify>("/api/v1/audit/verify").then(
      (r) => (setResult(r), setError(null), setBusy(false)),
      (e) => (setError(describeError(e)), setBusy(false)),
    );
  };
  useEffect(run, []);
  return h(
    "div",
    { class: "verify", "aria-live": "polite" },
    result &&
      (result.ok
        ? h("p", { class: "ok", "data-verify": "ok" }, `Chain intact: ${result.checked} events verified${result.head ? `, head #${result.head.seq} (${result.head.hash.slice(0, 12)}…)` : ""}.`)
        : h("p", { class: "error", "data-verify": "broken" }, `Chain broken at event #${result.problem?.seq ?? "?"}: ${result.problem?.message ?? "unknown problem"}`)),
    h(ErrorNote, { error }),
    h("button", { type: "button", onClick: run, disabled: busy }, busy ? "Verifying…" : "Verify again"),
  );
}

const AUDIT_FILTERS = ["type", "actor", "target", "since", "until"] as const;
type Filters = Record<(typeof AUDIT_FILTERS)[number], string>;

/** one event in full: every field, the details as JSON, the hash chain link */
function EventDetail(props: { ev: AuditEventRecord }): VNode<any> {
  const ev = props.ev;
  return h(
    "div",
    { class: "event-detail", "data-audit-detail": ev.seq },
    h(Facts, {
      rows: [
        ["Type", h("code", null, ev.type)],
        ["Code", h("code", null, ev.code)],
        ["Actor", h(Link, { href: withQuery("/audit", { actor: ev.actor }), title: "Every event by this actor" }, ev.actor)],
        ["Target", h(Link, { href: withQuery("/audit", { target: ev.target }), title: "Every event about this target" }, ev.target)],
        ["Created", `${time(ev.created_at)} (${ev.created_at})`],
        ["Sequence", `#${ev.seq}`],
        ["Id", h("code", null, ev.id)],
        ["Previous hash", h("code", { class: "hash" }, ev.prev_hash)],
        ["Hash", h("code", { class: "hash" }, ev.hash)],
      ],
    }),
    h("p", { class: "muted" }, "Details"),
    h("pre", { class: "json" }, JSON.stringify(ev.details, null, 2)),
  );
}

export function Audit(): VNode<any> {
  const applied = queryValues(AUDIT_FILTERS);
  const key = search.value;
  const [form, setForm] = useState<Filters>(applied);
  const [pages, setPages] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  const cursors = pages.key === key ? pages.cursors : [null];
  const [page, setPage] = useState<Page<AuditEventRecord> | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const index = cursors.length - 1;

  useEffect(() => setForm(queryValues(AUDIT_FILTERS)), [key]);

  useEffect(() => {
    let alive = true;
    get<Page<AuditEventRecord>>(`/api/v1/audit${qs({ limit: PAGE, ...applied, cursor: cursors[index] })}`).then(
      (p) => alive && (setPage(p), setError(null)),
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [key, pages]);

  const apply = (f: Filters) => {
    const to = withQuery("/audit", Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v.trim()])));
    if (to === location.pathname + location.search) setPages({ key, cursors: [null] });
    else navigate(to);
  };
  const set = (k: keyof Filters) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const filtered = AUDIT_FILTERS.some((k) => applied[k] !== "");

  const exportJsonl = async (e: Event) => {
    e.preventDefault();
    setExporting(true);
    try {
      await download("/api/v1/audit/export", `airlock-audit-${new Date().toISOString().slice(0, 10)}.jsonl`);
      setExportError(null);
    } catch (err) {
      setExportError(describeError(err));
    }
    setExporting(false);
  };

  return h(
    "section",
    null,
    h("div", { class: "title-row" }, h("h1", null, "Audit trail"), h("a", { href: "/api/v1/audit/export", class: "button", onClick: exportJsonl, "aria-busy": exporting }, exporting ? "Exporting…" : "Export JSONL")),
    h(ErrorNote, { error: exportError }),
    h(VerifyStatus, {}),
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter audit events", onSubmit: (e: Event) => (e.preventDefault(), apply(form)) },
      h("label", null, "Event type or prefix", h("input", { name: "type", type: "search", placeholder: "session. or policy.updated", value: form.type, onInput: set("type"), "aria-describedby": error ? "audit-error" : undefined })),
      h("label", null, "Actor", h("input", { name: "actor", type: "search", placeholder: "admin:bootstrap", value: form.actor, onInput: set("actor") })),
      h("label", null, "Target", h("input", { name: "target", type: "search", placeholder: "policy:git-guard", value: form.target, onInput: set("target") })),
      h("label", null, "From", h("input", { name: "since", type: "datetime-local", value: isoToLocal(form.since), onInput: (e: Event) => setForm({ ...form, since: localToIso((e.target as HTMLInputElement).value) }) })),
      h("label", null, "Until", h("input", { name: "until", type: "datetime-local", value: isoToLocal(form.until), onInput: (e: Event) => setForm({ ...form, until: localToIso((e.target as HTMLInputElement).value) }) })),
      h("div", { class: "filter-actions" }, h("button", { type: "submit" }, "Apply"), filtered && h("button", { type: "button", onClick: () => apply({ type: "", actor: "", target: "", since: "", until: "" }) }, "Clear filters")),
    ),
    h(ErrorNote, { error, id: "audit-error" }),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? filtered
          ? h(Empty, { title: "No audit event matches these filters." }, h("p", null, "Types are dotted (", h("code", null, "policy.updated"), ") or a prefix ending in a dot (", h("code", null, "session."), "); actor and target match exactly, as shown in an event's detail."))
          : h(Empty, { title: "No audit events yet." }, h("p", null, "Every change to policies, roles, tokens, clients and sessions is recorded here."))
        : h(Table, {
            caption: "Audit events, newest first; open a row for the full event",
            head: ["#", "When", "Type", "Actor", "Target", "Hash"],
            rows: page.items.flatMap((ev) => {
              const expanded = open === ev.seq;
              const toggle = () => setOpen(expanded ? null : ev.seq);
              return [
                h(
                  "tr",
                  { key: ev.seq, "data-audit": ev.type, class: expanded ? "clickable open" : "clickable", onClick: (e: MouseEvent) => (e.target as HTMLElement).closest("a,button") === null && toggle() },
                  h("td", null, h("button", { type: "button", class: "link", "aria-expanded": expanded, "aria-controls": `audit-${ev.seq}`, "aria-label": `Event #${ev.seq} ${ev.type}: ${expanded ? "hide" : "show"} details`, onClick: toggle }, `#${ev.seq}`)),
                  h("td", { class: "nowrap" }, time(ev.created_at)),
                  h("td", null, h("code", { class: "nowrap" }, ev.type)),
                  h("td", { class: "break" }, ev.actor),
                  h("td", { class: "break" }, ev.target),
                  h("td", null, h("code", { class: "nowrap", title: ev.hash }, `${ev.hash.slice(0, 10)}…`)),
                ),
                expanded && h("tr", { key: `${ev.seq}-detail`, id: `audit-${ev.seq}`, class: "detail-row" }, h("td", { colSpan: 6 }, h(EventDetail, { ev }))),
              ];
            }),
          }),
    h(Pager, { cursors, next: page?.next_cursor, onChange: (c) => setPages({ key, cursors: c }) }),
  );
}
