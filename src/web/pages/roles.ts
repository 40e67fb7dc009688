/**
 * Roles: the list; create and edit (attach and detach policies, default action) with the gateway's
 * field errors next to each field; and the effective blocked-command list from the role's bundle.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { ErrorDetail } from "../../protocol/errors";
import type { JsonObject, PolicyRecord, RoleRecord } from "../../protocol/records";
import { ApiError, del, describeError, get, isVersionConflict, post, put, role } from "../api";
import { ConfirmDialog, Empty, ErrorNote, h, Table, time } from "../ui";

interface Bundle {
  role: RoleRecord;
  policies: PolicyRecord[];
}

interface Blocked {
  policy: string;
  rule: string;
  pattern: string;
  reason: string | null;
}

/** every `blocked_commands` entry and block rule of the role's active policies */
export function effectiveBlocked(bundle: Bundle): Blocked[] {
  const out: Blocked[] = [];
  for (const p of bundle.policies) {
    const doc = p.document as JsonObject & { status?: string; blocked_commands?: string[]; rules?: { command?: string; tool?: string; path?: string; action: string; reason?: string }[] };
    if (doc.status !== "active") continue;
    (doc.blocked_commands ?? []).forEach((pattern, i) => out.push({ policy: p.id, rule: `blocked_commands[${i}]`, pattern, reason: null }));
    (doc.rules ?? []).forEach((r, i) => {
      if (r.action !== "block") return;
      const pattern = r.command ?? `tool ${r.tool ?? "?"}${r.path ? ` path ${r.path}` : ""}`;
      out.push({ policy: p.id, rule: `rules[${i}]`, pattern, reason: r.reason ?? null });
    });
  }
  return out;
}

const fieldOf = (path: string | undefined) => (path ?? "").replace(/^body\.?/, "").replace(/\[\d+\]$/, "") || "body";

function EffectiveBlocked(props: { id: string; version: number }): VNode<any> {
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Bundle>(`/api/v1/roles/${encodeURIComponent(props.id)}/bundle`).then(setBundle, (e) => setError(describeError(e)));
  }, [props.id, props.version]);
  if (error) return h(ErrorNote, { error });
  if (!bundle) return h("p", { class: "muted" }, "Loading…");
  const blocked = effectiveBlocked(bundle);
  return h(
    "section",
    { "aria-labelledby": "blocked-title" },
    h("h3", { id: "blocked-title" }, `Effectively blocked for ${props.id} (${blocked.length})`),
    blocked.length === 0
      ? h("p", { class: "muted" }, "No active policy of this role blocks anything.")
      : h("div", { class: "scroll-box" }, h(Table, {
          caption: `Commands blocked for role ${props.id}`,
          head: ["Pattern", "Policy / rule", "Reason"],
          rows: blocked.map((b) => h("tr", { key: `${b.policy}/${b.rule}`, "data-blocked": b.pattern }, h("td", null, h("code", null, b.pattern)), h("td", null, `${b.policy} / ${b.rule}`), h("td", null, b.reason ?? "—"))),
        })),
  );
}

function RoleForm(props: { record: RoleRecord | null; policies: PolicyRecord[]; onSaved: (r: RoleRecord) => void; onClose: () => void; onReload: () => void }): VNode<any> {
  const admin = role.value === "admin";
  const doc = (props.record?.document ?? {}) as { id?: string; name?: string; description?: string; policies?: string[]; default_action?: string };
  const [form, setForm] = useState({ id: doc.id ?? "", name: doc.name ?? "", description: doc.description ?? "", policies: doc.policies ?? [], default_action: doc.default_action ?? "allow" });
  const [details, setDetails] = useState<ErrorDetail[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const creating = props.record === null;
  const errorsFor = (field: string) => details.filter((d) => fieldOf(d.path) === field);
  const note = (field: string) => {
    const list = errorsFor(field);
    return list.length ? h("span", { class: "error", id: `role-${field}-error`, role: "alert" }, list.map((d) => d.message).join("; ")) : null;
  };
  const described = (field: string) => (errorsFor(field).length ? { "aria-invalid": "true", "aria-describedby": `role-${field}-error` } : {});

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const body: JsonObject = { id: form.id.trim(), name: form.name, policies: form.policies, default_action: form.default_action };
    if (form.description.trim()) body.description = form.description;
    try {
      const record = creating ? await post<RoleRecord>("/api/v1/roles", body) : await put<RoleRecord>(`/api/v1/roles/${encodeURIComponent(props.record!.id)}`, body, props.record!.version);
      setDetails([]);
      setError(null);
      setConflict(null);
      props.onSaved(record);
    } catch (err) {
      if (isVersionConflict(err)) {
        setDetails([]);
        setError(null);
        setConflict(`Role ${props.record!.id} was changed by someone else since you opened it (you loaded version ${props.record!.version}). Reload to see their change, then make yours again.`);
        return;
      }
      const known = new Set(["id", "name", "description", "policies", "default_action"]);
      if (err instanceof ApiError) {
        setDetails(err.details);
        const unplaced = err.details.filter((d) => !known.has(fieldOf(d.path)));
        setError(unplaced.length || err.details.length === 0 ? describeError(err) : "The gateway refused this role; see the fields marked.");
      } else setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const toggle = (id: string, on: boolean) => setForm({ ...form, policies: on ? [...form.policies, id] : form.policies.filter((p) => p !== id) });
  return h(
    "form",
    { class: "panel", onSubmit: save, "aria-labelledby": "role-form-title" },
    h("div", { class: "title-row" }, h("h2", { id: "role-form-title" }, creating ? "New role" : `${admin ? "Edit" : "View"} role ${props.record!.id}`), h("button", { type: "button", onClick: props.onClose }, "Close")),
    h("fieldset", { class: "plain", disabled: !admin },
      h("label", null, "Id", h("input", { name: "id", value: form.id, readOnly: !creating, onInput: (e: Event) => setForm({ ...form, id: (e.target as HTMLInputElement).value }), ...described("id") }), note("id")),
      h("label", null, "Name", h("input", { name: "name", value: form.name, onInput: (e: Event) => setForm({ ...form, name: (e.target as HTMLInputElement).value }), ...described("name") }), note("name")),
      h("label", null, "Description", h("input", { name: "description", value: form.description, onInput: (e: Event) => setForm({ ...form, description: (e.target as HTMLInputElement).value }), ...described("description") }), note("description")),
      h("label", null, "Default action (for a command no rule matches)", h("select", { name: "default_action", value: form.default_action, onChange: (e: Event) => setForm({ ...form, default_action: (e.target as HTMLSelectElement).value }), ...described("default_action") }, h("option", { value: "allow" }, "allow"), h("option", { value: "require_approval" }, "require approval")), note("default_action")),
      h(
        "fieldset",
        { class: "checks", ...described("policies") },
        h("legend", null, "Attached policies"),
        props.policies.map((p) =>
          h("label", { key: p.id }, h("input", { type: "checkbox", name: "policy", value: p.id, checked: form.policies.includes(p.id), onChange: (e: Event) => toggle(p.id, (e.target as HTMLInputElement).checked) }), p.id, p.document.status !== "active" && h("span", { class: "muted" }, " (disabled)")),
        ),
        note("policies"),
      ),
    ),
    h(ErrorNote, { error, id: "role-error" }),
    conflict && h("div", { class: "conflict", role: "alert", id: "role-conflict" }, h("p", null, conflict), h("button", { type: "button", onClick: props.onReload }, "Reload the current version")),
    admin && h("div", { class: "actions" }, h("button", { type: "submit", disabled: busy }, creating ? "Create role" : "Save role")),
    !creating && h(EffectiveBlocked, { id: props.record!.id, version: props.record!.version }),
  );
}

export function Roles(): VNode<any> {
  const admin = role.value === "admin";
  const [items, setItems] = useState<RoleRecord[] | null>(null);
  const [policies, setPolicies] = useState<PolicyRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<RoleRecord | null | "new">(null);
  const [deleting, setDeleting] = useState<RoleRecord | null>(null);
  const [reload, setReload] = useState(0);
  const reloadEditor = async (id: string) => {
    try {
      setEditing(await get<RoleRecord>(`/api/v1/roles/${encodeURIComponent(id)}`));
      setReload(reload + 1);
    } catch (e) {
      setError(describeError(e));
    }
  };
  useEffect(() => {
    let alive = true;
    Promise.all([get<{ items: RoleRecord[] }>("/api/v1/roles"), get<{ items: PolicyRecord[] }>("/api/v1/policies")]).then(
      ([r, p]) => {
        if (!alive) return;
        setItems(r.items);
        setPolicies(p.items);
      },
      (e) => alive && setError(describeError(e)),
    );
    return () => {
      alive = false;
    };
  }, [reload]);
  return h(
    "section",
    null,
    h("div", { class: "title-row" }, h("h1", null, "Roles"), admin && h("button", { type: "submit", onClick: () => setEditing("new") }, "New role")),
    h("p", { class: "muted" }, "A role is what a governed session runs under: the active policies attached to it, and what happens to a command none of them matches."),
    h(ErrorNote, { error }),
    editing !== null &&
      h(RoleForm, {
        key: editing === "new" ? "new" : `${editing.id}@${editing.version}`,
        record: editing === "new" ? null : editing,
        policies,
        onSaved: (r) => {
          setEditing(r);
          setReload(reload + 1);
        },
        onClose: () => setEditing(null),
        onReload: () => editing !== "new" && reloadEditor(editing.id),
      }),
    items === null
      ? h("p", { class: "muted" }, "Loading…")
      : items.length === 0
        ? h(Empty, { title: "No roles yet." }, h("p", null, "A session needs a role. ", admin ? "Create one with New role." : "Ask an admin to create one."))
        : h(Table, {
            caption: "Roles",
            head: ["Role", "Default action", "Policies", "Version", "Updated", ""],
            rows: items.map((r) => {
              const d = r.document as { name?: string; default_action?: string; policies?: string[] };
              return h(
                "tr",
                { key: r.id, "data-role": r.id },
                h("td", null, h("strong", null, r.id), h("div", { class: "muted" }, d.name ?? "")),
                h("td", null, d.default_action ?? "—"),
                h("td", null, (d.policies ?? []).join(", ") || "—"),
                h("td", null, r.version),
                h("td", null, time(r.updated_at)),
                h(
                  "td",
                  { class: "row-actions" },
                  h("button", { type: "button", class: "small", onClick: () => setEditing(r), "aria-label": `${admin ? "Edit" : "View"} role ${r.id}` }, admin ? "Edit" : "View"),
                  admin && h("button", { type: "button", class: "small danger", onClick: () => setDeleting(r), "aria-label": `Delete role ${r.id}` }, "Delete"),
                ),
              );
            }),
          }),
    deleting &&
      h(ConfirmDialog, {
        title: `Delete role ${deleting.id}?`,
        body: "The role and its policy attachments go (the policies stay). Workstations can no longer fetch its bundle, and new sessions cannot ask for it. Its history stays in the audit trail; it cannot be undone.",
        confirm: "Delete role",
        busy: "Deleting…",
        action: () => del(`/api/v1/roles/${encodeURIComponent(deleting.id)}`),
        onClose: (changed) => {
          if (changed) {
            if (editing !== null && editing !== "new" && editing.id === deleting.id) setEditing(null);
            setReload(reload + 1);
          }
          setDeleting(null);
        },
      }),
  );
}
