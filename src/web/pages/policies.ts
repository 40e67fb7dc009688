/**
 * Policies: the list, a JSON editor whose errors come from the gateway's field details (the same
 * rules as `airlock policy lint`), the active/disabled switch, a try-it box (POST /check) and a
 * simulation of the draft against recorded decisions before it is saved. Viewers read, try and
 * simulate; they cannot save.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { ErrorDetail } from "../../protocol/errors";
import type { JsonObject, PolicyRecord, RoleRecord } from "../../protocol/records";
import { ApiError, del, describeError, get, isVersionConflict, post, put, role } from "../api";
import { jsonPathOffsets, lineOfParseError, lineOfPath } from "../json-lines";
import { ConfirmDialog, Empty, ErrorNote, h, Table, time, Verdict } from "../ui";

const TEMPLATE = { id: "my-policy", name: "My policy", status: "active", description: "What this policy guards against.", blocked_commands: ["terraform destroy"], rules: [{ command: "kubectl apply", action: "require_approval", reason: "changes a live cluster" }] };

const count = (doc: JsonObject, key: string) => (Array.isArray(doc[key]) ? (doc[key] as unknown[]).length : 0);

/** `body.rules[0].command` → `rules[0].command` (the gateway prefixes where the document sat) */
const fieldPath = (path: string) => path.replace(/^body\.policy\.?/, "").replace(/^body\.?/, "");

interface Problem {
  field: string;
  message: string;
  line: number | null;
}

function FieldErrors(props: { problems: Problem[]; id: string; onGo: (line: number) => void }): VNode<any> | null {
  if (props.problems.length === 0) return null;
  return h(
    "ul",
    { class: "field-errors", id: props.id, role: "alert", "aria-label": "Problems in the policy" },
    props.problems.map((d, i) =>
      h(
        "li",
        { key: i, "data-field": d.field || "(the document)", "data-line": d.line ?? undefined },
        d.line !== null && h("button", { type: "button", class: "link line-ref", onClick: () => props.onGo(d.line!), "aria-label": `Go to line ${d.line}` }, `line ${d.line}`),
        h("code", null, d.field || "(the document)"),
        " ",
        d.message,
      ),
    ),
  );
}

/**
 * A JSON textarea with line numbers; the lines with a problem are marked in the gutter and
 * highlighted behind the text. `wrap=off` keeps one text line per gutter line.
 */
function CodeEditor(props: { id: string; value: string; readOnly: boolean; bad: Map<number, string>; onInput: (v: string) => void; describedBy: string; invalid: boolean; areaRef: { current: HTMLTextAreaElement | null } }): VNode<any> {
  const [scroll, setScroll] = useState(0);
  const lines = props.value.split("\n").length;
  return h(
    "div",
    { class: "editor" },
    h(
      "div",
      { class: "gutter", "aria-hidden": "true" },
      h(
        "div",
        { style: { transform: `translateY(${-scroll}px)` } },
        Array.from({ length: lines }, (_, i) => h("div", { key: i, class: props.bad.has(i + 1) ? "bad" : undefined, title: props.bad.get(i + 1) }, String(i + 1))),
      ),
    ),
    h(
      "div",
      { class: "editor-body" },
      h(
        "div",
        { class: "underlay", "aria-hidden": "true", style: { transform: `translateY(${-scroll}px)` } },
        [...props.bad.keys()].map((line) => h("div", { key: line, class: "bad-line", "data-bad-line": line, style: { top: `calc(${line - 1} * var(--lh))` } })),
      ),
      h("textarea", {
        id: props.id,
        ref: props.areaRef,
        class: "code-editor",
        rows: 18,
        wrap: "off",
        spellcheck: false,
        autoComplete: "off",
        readOnly: props.readOnly,
        value: props.value,
        onInput: (e: Event) => props.onInput((e.target as HTMLTextAreaElement).value),
        onScroll: (e: Event) => setScroll((e.target as HTMLTextAreaElement).scrollTop),
        "aria-invalid": props.invalid ? "true" : undefined,
        "aria-describedby": props.describedBy,
      }),
    ),
  );
}

interface CheckResult {
  verdict: string;
  reason: string;
  policy: string | null;
  rule: string | null;
  pattern: string | null;
  normalized: string[];
  role: string | null;
}

export function TryIt(props: { roles: RoleRecord[] }): VNode<any> {
  const [command, setCommand] = useState("");
  const [roleId, setRoleId] = useState("");
  const [result, setResult] = useState<CheckResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!command.trim()) return setError("Type a command to check.");
    try {
      setResult(await post<CheckResult>("/api/v1/check", { command, ...(roleId ? { role: roleId } : {}) }));
      setError(null);
    } catch (err) {
      setResult(null);
      setError(describeError(err));
    }
  };
  return h(
    "section",
    { class: "panel", "aria-labelledby": "tryit-title" },
    h("h2", { id: "tryit-title" }, "Try a command"),
    h("p", { class: "muted" }, "The verdict the stored policies give now, from the gateway's own engine. Nothing runs."),
    h(
      "form",
      { class: "filters", onSubmit: submit },
      h("label", { class: "grow" }, "Command", h("input", { name: "command", value: command, spellcheck: false, placeholder: "git push --force origin main", onInput: (e: Event) => setCommand((e.target as HTMLInputElement).value), "aria-describedby": error ? "tryit-error" : undefined })),
      h("label", null, "Role", h("select", { name: "role", value: roleId, onChange: (e: Event) => setRoleId((e.target as HTMLSelectElement).value) }, h("option", { value: "" }, "default role"), props.roles.map((r) => h("option", { value: r.id }, r.id)))),
      h("button", { type: "submit" }, "Check"),
    ),
    h(ErrorNote, { error, id: "tryit-error" }),
    result &&
      h(
        "div",
        { class: "result", "data-check-verdict": result.verdict, role: "status" },
        h("p", null, h(Verdict, { verdict: result.verdict }), " ", result.reason),
        h("dl", { class: "facts" }, h("dt", null, "Role"), h("dd", null, result.role ?? "—"), h("dt", null, "Policy / rule"), h("dd", null, [result.policy, result.rule].filter(Boolean).join(" / ") || "—"), h("dt", null, "Pattern"), h("dd", null, result.pattern ? h("code", null, result.pattern) : "—"), h("dt", null, "Normalized"), h("dd", null, result.normalized.length ? result.normalized.map((n) => h("code", { class: "block" }, n)) : "—")),
      ),
  );
}

interface Simulation {
  policy: string;
  new_policy: boolean;
  counts: { considered: number; replayed: number; skipped: number; changed: number; newly_blocked: number; newly_allowed: number; other: number };
  changes: { kind: string; decision_id: string; role: string; command: string; decided_at: string; before: { verdict: string; reason: string }; after: { verdict: string; policy: string | null; rule: string | null; reason: string } }[];
}

const KIND_LABEL: Record<string, string> = { newly_blocked: "newly blocked", newly_allowed: "newly allowed", changed: "changed" };

function SimulationView(props: { sim: Simulation }): VNode<any> {
  const { sim } = props;
  const c = sim.counts;
  return h(
    "div",
    { class: "result", "data-simulation": "done", role: "status" },
    h("p", null, `Replayed ${c.replayed} of the last ${c.considered} recorded decisions against this draft${sim.new_policy ? " (a new policy, added to each role)" : ""}: `, h("strong", { "data-count": "newly_blocked" }, `${c.newly_blocked} newly blocked`), ", ", h("strong", { "data-count": "newly_allowed" }, `${c.newly_allowed} newly allowed`), `, ${c.other} otherwise changed.`, c.skipped ? ` ${c.skipped} had no known role and were skipped.` : ""),
    sim.changes.length === 0
      ? h("p", { class: "muted" }, "No recorded decision would change.")
      : h(Table, {
          caption: "Decisions whose verdict would change",
          head: ["Change", "Command", "Role", "Before", "After", "Why"],
          rows: sim.changes.map((x) => h("tr", { key: x.decision_id, "data-change": x.kind }, h("td", null, KIND_LABEL[x.kind] ?? x.kind), h("td", null, h("code", null, x.command)), h("td", null, x.role), h("td", null, h(Verdict, { verdict: x.before.verdict })), h("td", null, h(Verdict, { verdict: x.after.verdict })), h("td", null, x.after.reason))),
        }),
  );
}

function Editor(props: { record: PolicyRecord | null; roles: RoleRecord[]; notice: string | null; onSaved: (r: PolicyRecord) => void; onClose: () => void; onReload: () => void }): VNode<any> {
  const admin = role.value === "admin";
  const [text, setText] = useState(() => JSON.stringify(props.record?.document ?? TEMPLATE, null, 2));
  const [details, setDetails] = useState<ErrorDetail[]>([]);
  const [parseLine, setParseLine] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [sim, setSim] = useState<Simulation | null>(null);
  const [simRole, setSimRole] = useState("");
  const [busy, setBusy] = useState(false);
  // the parent's "Saved …" notice, until the next attempt
  const [showNotice, setShowNotice] = useState(true);
  const area = useRef<HTMLTextAreaElement>(null);
  const creating = props.record === null;

  // each problem at the line of the field it names, in the text as it was sent
  const [sent, setSent] = useState(text);
  const problems: Problem[] = useMemo(() => {
    const offsets = jsonPathOffsets(sent);
    return details.map((d) => {
      const field = fieldPath(d.path ?? "");
      return { field, message: d.message, line: field === "version" ? null : lineOfPath(sent, field, offsets) };
    });
  }, [details, sent]);
  const bad = new Map<number, string>();
  for (const p of problems) if (p.line !== null) bad.set(p.line, [bad.get(p.line), `${p.field}: ${p.message}`].filter(Boolean).join("; "));
  if (parseLine !== null) bad.set(parseLine, error ?? "not valid JSON");

  const goTo = (line: number) => {
    const ta = area.current;
    if (!ta) return;
    const lines = ta.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
    ta.scrollTop = Math.max(0, (line - 3) * lh);
  };

  const parse = (): unknown => {
    try {
      setParseLine(null);
      return JSON.parse(text);
    } catch (e) {
      setDetails([]);
      setParseLine(lineOfParseError(text, (e as Error).message));
      setError(`The policy is not valid JSON: ${(e as Error).message}`);
      return undefined;
    }
  };
  const fail = (e: unknown) => {
    if (isVersionConflict(e)) {
      setDetails([]);
      setError(null);
      setConflict(`${props.record!.id} was changed by someone else since you opened it (you loaded version ${props.record!.version}; ${e.details.find((d) => d.path === "version")?.message ?? "it is newer now"}). Reload to get their version, then make your change again; copy your draft first if you need it.`);
    } else if (e instanceof ApiError && e.details.length > 0 && (e.code === "invalid_policy" || e.code === "invalid_input")) {
      setDetails(e.details);
      setError(e.code === "invalid_policy" ? "The gateway refused this policy; the lines marked below have problems:" : e.message);
    } else {
      setDetails([]);
      setError(describeError(e));
    }
  };
  const save = async () => {
    const doc = parse();
    if (doc === undefined) return;
    setBusy(true);
    setSent(text);
    setShowNotice(false);
    try {
      const record = creating ? await post<PolicyRecord>("/api/v1/policies", doc) : await put<PolicyRecord>(`/api/v1/policies/${encodeURIComponent(props.record!.id)}`, doc, props.record!.version);
      setDetails([]);
      setError(null);
      setConflict(null);
      props.onSaved(record);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const simulate = async () => {
    const doc = parse();
    if (doc === undefined) return;
    setBusy(true);
    setSent(text);
    try {
      setSim(await post<Simulation>("/api/v1/policies/simulate", { policy: doc, limit: 1000, ...(simRole ? { role: simRole } : {}) }));
      setDetails([]);
      setError(null);
    } catch (e) {
      setSim(null);
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const title = creating ? "New policy" : `${admin ? "Edit" : "View"} ${props.record!.id}`;
  return h(
    "section",
    { class: "panel", "aria-labelledby": "editor-title" },
    h("div", { class: "title-row" }, h("h2", { id: "editor-title" }, title, !creating && h("span", { class: "muted version" }, `version ${props.record!.version}`)), h("button", { type: "button", onClick: props.onClose }, "Close")),
    h("label", { for: "policy-json" }, "Policy (JSON)"),
    h(CodeEditor, { id: "policy-json", value: text, readOnly: !admin, bad, onInput: setText, describedBy: "policy-problems", invalid: details.length > 0 || !!error, areaRef: area }),
    h(
      "div",
      { id: "policy-problems" },
      conflict && h("div", { class: "conflict", role: "alert", id: "policy-conflict" }, h("p", null, conflict), h("button", { type: "button", onClick: props.onReload }, "Reload the current version")),
      h(ErrorNote, { error, id: "policy-error" }),
      h(FieldErrors, { problems, id: "policy-field-errors", onGo: goTo }),
    ),
    showNotice && props.notice && h("p", { class: "ok", role: "status" }, props.notice),
    h(
      "div",
      { class: "filters" },
      admin && h("button", { type: "submit", disabled: busy, onClick: save }, creating ? "Create policy" : "Save policy"),
      h("label", null, "Simulate for role", h("select", { name: "sim-role", value: simRole, onChange: (e: Event) => setSimRole((e.target as HTMLSelectElement).value) }, h("option", { value: "" }, "every role"), props.roles.map((r) => h("option", { value: r.id }, r.id)))),
      h("button", { type: "button", disabled: busy, onClick: simulate }, "Simulate"),
    ),
    h("p", { class: "muted" }, "Simulate replays the last 1000 recorded decisions against this draft and shows which verdicts would change. Nothing is saved."),
    sim && h(SimulationView, { sim }),
  );
}

export function Policies(): VNode<any> {
  const admin = role.value === "admin";
  const [items, setItems] = useState<PolicyRecord[] | null>(null);
  const [roles, setRoles] = useState<RoleRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<PolicyRecord | null | "new">(null);
  const [reload, setReload] = useState(0);
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<PolicyRecord | null>(null);

  useEffect(() => {
    let alive = true;
    Promise.all([get<{ items: PolicyRecord[] }>("/api/v1/policies"), get<{ items: RoleRecord[] }>("/api/v1/roles")]).then(
      ([p, r]) => {
        if (!alive) return;
        setItems(p.items);
        setRoles(r.items);
        setError(null);
      },
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [reload]);

  const toggle = async (p: PolicyRecord) => {
    const status = p.document.status === "active" ? "disabled" : "active";
    try {
      await put(`/api/v1/policies/${encodeURIComponent(p.id)}`, { ...p.document, status }, p.version);
      setRowError(null);
      setReload(reload + 1);
    } catch (e) {
      setRowError({ id: p.id, message: isVersionConflict(e) ? `${p.id} was changed by someone else since this list was loaded; the list is reloaded, look again before you switch it.` : describeError(e) });
      if (isVersionConflict(e)) setReload(reload + 1);
    }
  };
  /** the latest stored version into the editor (after a conflict) */
  const reloadEditor = async (id: string) => {
    try {
      setEditing(await get<PolicyRecord>(`/api/v1/policies/${encodeURIComponent(id)}`));
      setNotice(`Reloaded ${id}: this is the current version.`);
      setReload(reload + 1);
    } catch (e) {
      setError(describeError(e));
    }
  };
  const attachedTo = (id: string) => roles.filter((r) => ((r.document as { policies?: string[] }).policies ?? []).includes(id)).map((r) => r.id);

  return h(
    "section",
    null,
    h("div", { class: "title-row" }, h("h1", null, "Policies"), admin && h("button", { type: "submit", onClick: () => (setEditing("new"), setNotice(null)) }, "New policy")),
    h("p", { class: "muted" }, "A policy is a reusable set of blocked commands and rules. A role combines the active policies attached to it."),
    h(ErrorNote, { error }),
    editing !== null &&
      h(Editor, {
        key: editing === "new" ? "new" : `${editing.id}@${editing.version}`,
        record: editing === "new" ? null : editing,
        roles,
        notice,
        onSaved: (r) => {
          setNotice(`Saved ${r.id}, version ${r.version}.`);
          setEditing(r);
          setReload(reload + 1);
        },
        onClose: () => (setEditing(null), setNotice(null)),
        onReload: () => editing !== "new" && reloadEditor(editing.id),
      }),
    items === null
      ? h("p", { class: "muted" }, "Loading…")
      : items.length === 0
        ? h(Empty, { title: "No policies yet." }, h("p", null, admin ? "Create one with New policy, or load the seed with " : "An admin creates policies here or with ", h("code", null, "airlock policy push"), "."))
        : h(Table, {
            caption: "Policies",
            head: ["Policy", "Status", "Blocked commands", "Rules", "Version", "Updated", ""],
            rows: items.map((p) =>
              h(
                "tr",
                { key: p.id, "data-policy": p.id },
                h("td", null, h("strong", null, p.id), h("div", { class: "muted" }, String(p.document.name ?? ""))),
                h("td", null, h("span", { class: `badge p-${String(p.document.status)}` }, String(p.document.status))),
                h("td", null, count(p.document, "blocked_commands")),
                h("td", null, count(p.document, "rules")),
                h("td", null, p.version),
                h("td", null, time(p.updated_at)),
                h(
                  "td",
                  { class: "row-actions" },
                  h("button", { type: "button", class: "small", onClick: () => (setEditing(p), setNotice(null)), "aria-label": `${admin ? "Edit" : "View"} policy ${p.id}` }, admin ? "Edit" : "View"),
                  admin && h("button", { type: "button", class: "small", onClick: () => toggle(p), "aria-label": `${p.document.status === "active" ? "Disable" : "Activate"} policy ${p.id}` }, p.document.status === "active" ? "Disable" : "Activate"),
                  admin && h("button", { type: "button", class: "small danger", onClick: () => setDeleting(p), "aria-label": `Delete policy ${p.id}` }, "Delete"),
                  rowError?.id === p.id && h("p", { class: "error", role: "alert" }, rowError.message),
                ),
              ),
            ),
          }),
    h(TryIt, { roles }),
    deleting &&
      h(ConfirmDialog, {
        title: `Delete policy ${deleting.id}?`,
        body: attachedTo(deleting.id).length > 0
          ? `It is attached to ${attachedTo(deleting.id).join(", ")}; the gateway refuses to delete an attached policy, so detach it on the Roles page first.`
          : "No role attaches it. Its history stays in the audit trail; the policy itself cannot be brought back.",
        confirm: "Delete policy",
        busy: "Deleting…",
        action: () => del(`/api/v1/policies/${encodeURIComponent(deleting.id)}`),
        onClose: (changed) => {
          if (changed) {
            setNotice(null);
            if (editing !== null && editing !== "new" && editing.id === deleting.id) setEditing(null);
            setReload(reload + 1);
          }
          setDeleting(null);
        },
      }),
  );
}
