/** Clients (enrolled workstations): list with last seen, revoke after confirmation, enrollment tokens shown once. */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { ClientRecord } from "../../protocol/records";
import { describeError, get, post, role } from "../api";
import { ConfirmDialog, Empty, ErrorNote, h, Table, time } from "../ui";

function RevokeClient(props: { client: ClientRecord; onClose: (changed: boolean) => void }): VNode<any> {
  const c = props.client;
  return h(ConfirmDialog, {
    title: "Revoke this client?",
    body: `${c.name} (${c.user}@${c.hostname}, ${c.id}). Its credential stops working at once: it can no longer fetch policies, open sessions or report decisions. It has to enroll again with a new token.`,
    confirm: "Revoke client",
    busy: "Revoking…",
    action: () => post(`/api/v1/clients/${encodeURIComponent(c.id)}/revoke`),
    onClose: props.onClose,
  });
}

function EnrollmentToken(): VNode<any> {
  const [name, setName] = useState("");
  const [minutes, setMinutes] = useState("1440");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setError("Name the workstation this token is for.");
    try {
      const r = await post<{ token: string }>("/api/v1/clients/enrollment-tokens", { name: name.trim(), expires_in_minutes: Number(minutes) });
      setSecret(r.token);
      setCopied(false);
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret ?? "");
      setCopied(true);
    } catch {
      setError("The browser did not allow copying; select the token and copy it by hand.");
    }
  };
  return h(
    "section",
    { class: "panel", "aria-labelledby": "enroll-title" },
    h("h2", { id: "enroll-title" }, "Enroll a workstation"),
    h(
      "form",
      { class: "filters", onSubmit: submit },
      h("label", { class: "grow" }, "Token name", h("input", { name: "enroll-name", value: name, maxLength: 128, placeholder: "alice's laptop", onInput: (e: Event) => setName((e.target as HTMLInputElement).value), "aria-describedby": error ? "enroll-error" : undefined })),
      h("label", null, "Valid for", h("select", { name: "expires", value: minutes, onChange: (e: Event) => setMinutes((e.target as HTMLSelectElement).value) }, h("option", { value: "60" }, "1 hour"), h("option", { value: "1440" }, "1 day"), h("option", { value: "10080" }, "7 days"))),
      h("button", { type: "submit" }, "Create enrollment token"),
    ),
    h(ErrorNote, { error, id: "enroll-error" }),
    secret &&
      h(
        "div",
        { class: "result", role: "status" },
        h("p", null, h("strong", null, "Copy this token now: it is shown only once."), " It enrolls one workstation, once."),
        h("div", { class: "secret" }, h("code", { "data-secret": "enrollment" }, secret), h("button", { type: "button", class: "small", onClick: copy }, copied ? "Copied" : "Copy")),
        h("p", { class: "muted" }, "On the workstation, save it to a file only you can read, then run ", h("code", null, `airlock client enroll --gateway ${location.origin} --token-file ~/enroll.token`), "."),
      ),
  );
}

export function Clients(): VNode<any> {
  const admin = role.value === "admin";
  const [items, setItems] = useState<ClientRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ClientRecord | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    get<{ items: ClientRecord[] }>("/api/v1/clients").then((r) => setItems(r.items), (e) => setError(describeError(e)));
  }, [reload]);
  return h(
    "section",
    null,
    h("h1", null, "Clients"),
    h("p", { class: "muted" }, "Enrolled workstations: each runs the Airlock daemon, fetches its role's policies and reports sessions and decisions."),
    h(ErrorNote, { error }),
    admin && h(EnrollmentToken, {}),
    items === null
      ? h("p", { class: "muted" }, "Loading…")
      : items.length === 0
        ? h(Empty, { title: "No workstation is enrolled yet." }, h("p", null, admin ? "Create an enrollment token above and run " : "An admin creates an enrollment token; the workstation runs ", h("code", null, "airlock client enroll"), "."))
        : h(Table, {
            caption: "Enrolled clients",
            head: ["Client", "User@host", "Version", "Enrolled", "Last seen", "State", ...(admin ? [""] : [])],
            rows: items.map((c) =>
              h(
                "tr",
                { key: c.id, "data-client": c.id },
                h("td", null, h("strong", null, c.name), h("div", { class: "muted" }, c.id)),
                h("td", null, `${c.user}@${c.hostname}`),
                h("td", null, c.version),
                h("td", null, time(c.created_at)),
                h("td", null, time(c.last_seen_at)),
                h("td", null, c.revoked_at ? h("span", { class: "badge s-revoked" }, "revoked") : h("span", { class: "badge s-running" }, "active")),
                admin && h("td", null, c.revoked_at ? null : h("button", { type: "button", class: "danger small", onClick: () => setRevoking(c), "aria-label": `Revoke client ${c.name}` }, "Revoke")),
              ),
            ),
          }),
    revoking &&
      h(RevokeClient, {
        client: revoking,
        onClose: (changed) => {
          setRevoking(null);
          if (changed) setReload(reload + 1);
        },
      }),
  );
}
