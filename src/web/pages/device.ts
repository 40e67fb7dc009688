/**
 * Device sign-in (`/device?code=ABCD-EFGH`): `airlock sign-in` opens this page; the signed-in
 * person sees what is asking (client name, when, until when) and approves or denies. Approving
 * issues a `user` credential named after the approving token to the terminal that polls for it.
 */
import { useEffect, useState } from "preact/hooks";
import type { VNode } from "preact";
import type { DeviceRequestRecord } from "../../protocol/approvals";
import { describeError, get, post } from "../api";
import { ErrorNote, h, time } from "../ui";

const CODE_RE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/;
const normalize = (s: string) => s.toUpperCase().replace(/[\s-]/g, "");
const shown = (c: string) => `${c.slice(0, 4)}-${c.slice(4)}`;

function Facts(props: { rows: [string, unknown][] }): VNode<any> {
  return h("dl", { class: "facts" }, props.rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v as any)]));
}

function CodeEntry(props: { initial: string; onCode: (code: string) => void }): VNode<any> {
  const [value, setValue] = useState(props.initial);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: Event) => {
    e.preventDefault();
    const c = normalize(value);
    if (!CODE_RE.test(c)) return setError("The code is 8 letters and digits, shown as ABCD-EFGH by airlock sign-in.");
    history.replaceState(null, "", `/device?code=${shown(c)}`);
    props.onCode(c);
  };
  return h(
    "form",
    { class: "panel", onSubmit: submit, "aria-labelledby": "device-code-title" },
    h("h2", { id: "device-code-title" }, "Enter the code from your terminal"),
    h("p", { class: "muted" }, h("code", null, "airlock sign-in"), " prints a code like ", h("code", null, "ABCD-EFGH"), " and a link to this page."),
    h(
      "div",
      { class: "filters" },
      h("label", null, "Code", h("input", { name: "user_code", value, maxLength: 16, autoComplete: "off", spellcheck: false, autoFocus: true, "aria-invalid": error ? "true" : undefined, "aria-describedby": error ? "device-code-error" : undefined, onInput: (e: Event) => setValue((e.target as HTMLInputElement).value.toUpperCase()) })),
      h("button", { type: "submit" }, "Continue"),
    ),
    h(ErrorNote, { error, id: "device-code-error" }),
  );
}

const STATUS_TEXT: Record<DeviceRequestRecord["status"], string> = {
  pending: "waiting for you",
  approved: "approved",
  denied: "denied",
  expired: "expired",
  used: "approved and picked up by the terminal",
};

function DeviceRequest(props: { code: string }): VNode<any> {
  const [record, setRecord] = useState<DeviceRequestRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"approve" | "deny" | null>(null);
  const [done, setDone] = useState<boolean | null>(null);
  useEffect(() => {
    setRecord(null);
    setError(null);
    setDone(null);
    get<DeviceRequestRecord>(`/api/v1/auth/device/${encodeURIComponent(props.code)}`).then(setRecord, (e) => setError(describeError(e)));
  }, [props.code]);
  const answer = async (approve: boolean) => {
    setBusy(approve ? "approve" : "deny");
    setError(null);
    try {
      await post("/api/v1/auth/device/approve", { user_code: props.code, approve });
      setDone(approve);
      setRecord((r) => (r ? { ...r, status: approve ? "approved" : "denied" } : r));
    } catch (e) {
      setError(describeError(e));
    }
    setBusy(null);
  };
  const expired = record ? Date.parse(record.expires_at) <= Date.now() : false;
  return h(
    "section",
    { class: "panel", "aria-labelledby": "device-title", "data-device-code": props.code },
    h("h2", { id: "device-title" }, "Sign in a terminal: ", h("code", null, shown(props.code))),
    h(ErrorNote, { error }),
    record === null && !error && h("p", { class: "muted" }, "Loading…"),
    record &&
      h(
        "div",
        null,
        h(Facts, {
          rows: [
            ["Client", record.client_name ?? "(unnamed)"],
            ["Asked", time(record.created_at)],
            ["Expires", time(record.expires_at)],
            ["Status", h("span", { "data-status": record.status }, STATUS_TEXT[record.status])],
          ],
        }),
        done === null && record.status === "pending" && !expired
          ? h(
              "div",
              null,
              h("p", null, "Approve only if you just ran ", h("code", null, "airlock sign-in"), " yourself and your terminal shows this same code. The terminal then acts as you: it can pair an approver and see your pairings."),
              h(
                "div",
                { class: "actions", style: "justify-content: flex-start" },
                h("button", { type: "submit", disabled: busy !== null, onClick: () => answer(true) }, busy === "approve" ? "Approving…" : "Approve sign-in"),
                h("button", { type: "button", class: "danger", disabled: busy !== null, onClick: () => answer(false) }, busy === "deny" ? "Denying…" : "Deny"),
              ),
            )
          : done === true
            ? h("p", { class: "ok", role: "status" }, "Approved. Go back to your terminal: it finishes signing in by itself.")
            : done === false
              ? h("p", { class: "ok", role: "status" }, "Denied. The terminal's sign-in fails; nothing was issued.")
              : h("p", { class: "muted" }, expired || record.status === "expired" ? "This code has expired: run airlock sign-in again." : "Nothing left to do for this code."),
      ),
  );
}

export function Device(): VNode<any> {
  const raw = new URLSearchParams(location.search).get("code") ?? "";
  const [code, setCode] = useState(normalize(raw));
  return h(
    "section",
    null,
    h("h1", null, "Device sign-in"),
    CODE_RE.test(code) ? h(DeviceRequest, { code }) : h(CodeEntry, { initial: raw, onCode: setCode }),
  );
}
