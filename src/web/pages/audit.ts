/** Audit trail: keyset-paginated, filtered by type, chain verification, JSONL export through fetch. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { AuditEventRecord, Page } from "../../protocol/records";
import { describeError, download, get, qs } from "../api";
import { Empty, ErrorNote, h, Table, time } from "../ui";

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

export function Audit(): VNode<any> {
  const [type, setType] = useState("");
  const [applied, setApplied] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page<AuditEventRecord> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const index = cursors.length - 1;

  useEffect(() => {
    let alive = true;
    get<Page<AuditEventRecord>>(`/api/v1/audit${qs({ limit: PAGE, type: applied, cursor: cursors[index] })}`).then(
      (p) => alive && (setPage(p), setError(null)),
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [applied, cursors]);

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
      { class: "filters", role: "search", "aria-label": "Filter audit events", onSubmit: (e: Event) => (e.preventDefault(), setCursors([null]), setApplied(type.trim())) },
      h("label", null, "Event type or prefix", h("input", { name: "type", type: "search", placeholder: "session. or policy.updated", value: type, onInput: (e: Event) => setType((e.target as HTMLInputElement).value), "aria-describedby": error ? "audit-error" : undefined })),
      h("button", { type: "submit" }, "Apply"),
    ),
    h(ErrorNote, { error, id: "audit-error" }),
    page === null
      ? h("p", { class: "muted" }, "Loading…")
      : page.items.length === 0
        ? h(Empty, { title: applied ? `No audit event of type ${applied}.` : "No audit events yet." }, h("p", null, "Every change to policies, roles, tokens, clients and sessions is recorded here."))
        : h(Table, {
            caption: "Audit events, newest first",
            head: ["#", "When", "Type", "Actor", "Target", "Hash"],
            rows: page.items.map((ev) =>
              h("tr", { key: ev.seq, "data-audit": ev.type }, h("td", null, ev.seq), h("td", null, time(ev.created_at)), h("td", null, h("code", { class: "nowrap" }, ev.type)), h("td", null, ev.actor), h("td", null, ev.target), h("td", null, h("code", { class: "nowrap", title: ev.hash }, `${ev.hash.slice(0, 10)}…`))),
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
