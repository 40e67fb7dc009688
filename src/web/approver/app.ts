/**
 * The approver (`/approver`): a phone-sized page, installable as a PWA, that pairs with a terminal
 * through its 6-character code and then decides that terminal's approval requests. It never sees
 * the admin token: it holds an approver token and two non-extractable key pairs (IndexedDB). Each
 * request is opened with `openEnvelope` (the terminal's signature first), shown in full, and the
 * human's answer is signed with `signDecision` before it goes to the gateway.
 */
import { render, type VNode } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { batch, signal } from "@preact/signals";
import { h } from "preact";
import type { ApprovalAction, ApprovalRecord, ApproverServerMessage, ClaimPairingResponse, DecisionValue } from "../../protocol/approvals";
import { actionHash, ApprovalCryptoError, fingerprint, generateKeyPairs, openEnvelope, publicKeys, signDecision } from "../../approvals";
import { call, describe, GatewayError } from "./client";
import { openLink, type LinkState } from "./socket";
import { clearDevice, loadDevice, saveDevice, type Device } from "./store";

interface Item {
  approval: ApprovalRecord;
  action: ApprovalAction | null;
  hash: string | null;
  /** the envelope did not open: the request is shown as untrustworthy, without buttons */
  error: string | null;
  busy: DecisionValue | null;
  failed: string | null;
  sent: DecisionValue | null;
}

/** undefined while IndexedDB is read */
const device = signal<Device | null | undefined>(undefined);
const link = signal<LinkState>("offline");
const items = signal<Item[]>([]);
const notice = signal<string | null>(null);
const now = signal(Date.now());
let stopLink: (() => void) | null = null;

const CODE_RE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;
const normalize = (s: string) => s.toUpperCase().replace(/[\s-]/g, "");

function defaultLabel(): string {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return "iPhone";
  if (/iPad/.test(ua)) return "iPad";
  if (/Android/.test(ua)) return "Android phone";
  if (/Mac OS X/.test(ua)) return "Mac browser";
  if (/Windows/.test(ua)) return "Windows browser";
  return "Browser";
}

function update(id: string, patch: Partial<Item>): void {
  items.value = items.value.map((i) => (i.approval.id === id ? { ...i, ...patch } : i));
}

async function open(d: Device, approval: ApprovalRecord): Promise<Item> {
  const base: Item = { approval, action: null, hash: null, error: null, busy: null, failed: null, sent: null };
  try {
    const action = await openEnvelope({ id: approval.id, pairing_id: approval.pairing_id, expires_at: approval.expires_at, envelope: approval.envelope, approverBox: d.box.privateKey, daemonSignKey: d.pairing.daemon.sign_key });
    return { ...base, action, hash: await actionHash(action) };
  } catch (e) {
    const reason = e instanceof ApprovalCryptoError ? e.reason : null;
    const why =
      reason === "bad_signature"
        ? "The terminal's signature on this request is not valid: it was not sent, as shown, by the terminal you paired with."
        : reason === "decrypt_failed"
          ? "This request cannot be decrypted with this device's key: it was tampered with or sealed for another device."
          : `This request cannot be opened: ${describe(e)}`;
    return { ...base, error: why };
  }
}

async function add(d: Device, approvals: ApprovalRecord[], replace: boolean): Promise<void> {
  const pending = approvals.filter((a) => a.status === "pending" && a.pairing_id === d.pairing.id);
  const opened = await Promise.all(pending.map((a) => open(d, a)));
  if (device.value !== d) return;
  const keep = replace ? items.value.filter((i) => opened.some((o) => o.approval.id === i.approval.id)) : items.value;
  const known = new Map(keep.map((i) => [i.approval.id, i]));
  for (const o of opened) if (!known.has(o.approval.id)) known.set(o.approval.id, o);
  items.value = [...known.values()].sort((a, b) => a.approval.created_at.localeCompare(b.approval.created_at));
}

async function forget(message: string | null): Promise<void> {
  stopLink?.();
  stopLink = null;
  await clearDevice().catch(() => {});
  batch(() => {
    items.value = [];
    device.value = null;
    notice.value = message;
  });
}

function connect(d: Device): void {
  stopLink?.();
  stopLink = openLink(d.approver_token, {
    state: (s) => (link.value = s),
    refused: (message) => void forget(`The gateway no longer accepts this device (${message}). Pair it again with a new code.`),
    message: (m: ApproverServerMessage) => {
      if (m.type === "ready") {
        if (m.pairing.status === "removed") return void forget("This device was unpaired. Pair it again with a new code.");
        const next = { ...d, pairing: { ...d.pairing, ...m.pairing, daemon: d.pairing.daemon } };
        device.value = next;
        d = next;
        void add(d, m.pending, true);
      } else if (m.type === "request") void add(d, [m.approval], false);
      else if (m.type === "resolved") items.value = items.value.filter((i) => i.approval.id !== m.id);
      else if (m.type === "unpaired") void forget("This device was unpaired (from the terminal, or by an admin). Pair it again with a new code.");
      else if (m.type === "error") notice.value = `The gateway said: ${m.message}`;
    },
  });
}

async function decide(item: Item, decision: DecisionValue): Promise<void> {
  const d = device.value;
  if (!d || !item.hash) return;
  update(item.approval.id, { busy: decision, failed: null });
  try {
    const signed = await signDecision({ request_id: item.approval.id, action_hash: item.hash, expires_at: item.approval.expires_at, decision, approverSign: d.sign.privateKey });
    await call("POST", `/api/v1/approvals/${encodeURIComponent(item.approval.id)}/decision`, d.approver_token, signed);
    update(item.approval.id, { busy: null, sent: decision });
    notice.value = `${decision === "approve" ? "Approved" : "Denied"}: ${item.action?.command ?? item.approval.id}`;
  } catch (e) {
    if (e instanceof GatewayError && e.status === 401) return void forget("The gateway no longer accepts this device. Pair it again with a new code.");
    update(item.approval.id, { busy: null, failed: describe(e) });
  }
}

function timeLeft(expires: string, at: number): string {
  const s = Math.floor((Date.parse(expires) - at) / 1000);
  if (s <= 0) return "expired";
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min left` : `${m}:${String(s % 60).padStart(2, "0")} left`;
}

// ------------------------------------------------------------------ views

function Pair(): VNode<any> {
  const [code, setCode] = useState(() => normalize(new URLSearchParams(location.search).get("code") ?? ""));
  const [label, setLabel] = useState(defaultLabel);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const c = normalize(code);
    if (!CODE_RE.test(c)) return setError("The code is 6 characters (letters and digits), as shown by airlock pair.");
    setBusy(true);
    setError(null);
    try {
      if (!crypto.subtle) throw new Error("This page needs a secure connection (HTTPS) to create keys.");
      const keys = await generateKeyPairs(false);
      const mine = await publicKeys(keys);
      const r = await call<ClaimPairingResponse>("POST", "/api/v1/pairings/claim", null, { code: c, approver: mine, ...(label.trim() ? { label: label.trim().slice(0, 128) } : {}) });
      const d: Device = { pairing: r.pairing, approver_token: r.approver_token, sign: keys.sign, box: keys.box, fingerprint: await fingerprint(r.pairing.daemon, mine), confirmed: false };
      await saveDevice(d);
      if (location.search) history.replaceState(null, "", "/approver");
      batch(() => {
        notice.value = null;
        device.value = d;
      });
    } catch (err) {
      setBusy(false);
      if (err instanceof GatewayError && (err.status === 404 || err.status === 400 || err.status === 409 || err.status === 410)) setError(`${err.message}. Codes work once and for 5 minutes: run airlock pair again for a new one.`);
      else if (err instanceof GatewayError && err.status === 429) setError("Too many attempts. Wait a minute, then try again.");
      else if ((err as Error)?.name === "NotSupportedError") setError("This browser cannot create Ed25519/X25519 keys. Use a current Chrome, Edge, Safari or Firefox.");
      else setError(describe(err));
    }
  };
  return h(
    "form",
    { class: "ap-card", onSubmit: submit, "aria-labelledby": "pair-title" },
    h("h1", { id: "pair-title" }, "Pair this device"),
    h("p", { class: "muted" }, "On your workstation, run ", h("code", null, "airlock pair"), ". Enter the 6-character code it shows. This device then approves or denies that terminal's commands."),
    notice.value && h("p", { class: "ap-notice", role: "status" }, notice.value),
    h("label", { for: "pair-code" }, "Pairing code"),
    h("input", {
      id: "pair-code",
      class: "ap-code-input",
      name: "code",
      value: code,
      maxLength: 9,
      autoComplete: "one-time-code",
      autoCapitalize: "characters",
      spellcheck: false,
      inputMode: "text",
      "aria-invalid": error ? "true" : undefined,
      "aria-describedby": error ? "pair-error" : undefined,
      onInput: (e: Event) => setCode((e.target as HTMLInputElement).value.toUpperCase()),
      autoFocus: true,
    }),
    h("label", { for: "pair-label" }, "Name of this device (shown to your admins)"),
    h("input", { id: "pair-label", name: "label", value: label, maxLength: 128, onInput: (e: Event) => setLabel((e.target as HTMLInputElement).value) }),
    error && h("p", { class: "error", id: "pair-error", role: "alert" }, error),
    h("button", { type: "submit", class: "ap-primary", disabled: busy }, busy ? "Pairing…" : "Pair"),
  );
}

function Fingerprint(props: { d: Device }): VNode<any> {
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    const d = { ...props.d, confirmed: true };
    await saveDevice(d).catch(() => {});
    device.value = d;
  };
  return h(
    "section",
    { class: "ap-card", "aria-labelledby": "fp-title" },
    h("h1", { id: "fp-title" }, "Compare with your terminal"),
    h("p", null, "Your terminal shows a fingerprint after ", h("code", null, "airlock pair"), ". It must be exactly this one:"),
    h("p", { class: "ap-fingerprint", "data-fingerprint": props.d.fingerprint, "aria-label": `Fingerprint ${props.d.fingerprint.split("").join(" ")}` }, props.d.fingerprint),
    h("p", { class: "muted" }, "If the two differ, someone between this device and your terminal swapped a key: choose \u201cThey differ\u201d to unpair at once."),
    h(
      "div",
      { class: "ap-actions" },
      h("button", { type: "button", class: "ap-primary", onClick: confirm }, "They match"),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          disabled: busy,
          onClick: async () => {
            setBusy(true);
            await unpair(props.d);
          },
        },
        "They differ",
      ),
    ),
  );
}

async function unpair(d: Device): Promise<string | null> {
  try {
    await call("DELETE", `/api/v1/pairings/${encodeURIComponent(d.pairing.id)}`, d.approver_token);
  } catch (e) {
    // already gone on the gateway (401/404): forget it here too; anything else: keep it and say so
    if (!(e instanceof GatewayError && (e.status === 401 || e.status === 404))) return describe(e);
  }
  await forget("This device is unpaired. Its keys are deleted.");
  return null;
}

function Facts(props: { a: ApprovalAction }): VNode<any> {
  const a = props.a;
  const rows: [string, string | null][] = [
    ["Directory", a.cwd],
    ["Agent", a.agent],
    ["Host", a.host],
    ["Session", a.session_id],
    ["Role", a.role],
    ["Policy", a.policy ? `${a.policy}${a.rule ? ` · ${a.rule}` : ""}` : null],
    ["Reason", a.reason || null],
    ["Asked", new Date(a.requested_at).toLocaleTimeString()],
  ];
  return h(
    "dl",
    { class: "ap-facts" },
    rows.filter(([, v]) => v).flatMap(([k, v]) => [h("dt", null, k), h("dd", { "data-fact": k.toLowerCase() }, v)]),
  );
}

/**
 * The command, wrapped only between words (a break after a `-` inside `--namespace` would show a
 * lone `--` at a line's end); a word longer than a line breaks anywhere. Copying gives the exact text.
 */
function Command(props: { text: string }): (VNode<any> | string)[] {
  return props.text.split(/(\s+)/).map((part, i) => (i % 2 === 1 || part === "" ? part : h("span", { class: part.length > 24 ? "ap-long" : "ap-word" }, part)));
}

function Request(props: { item: Item }): VNode<any> {
  const { item } = props;
  const a = item.approval;
  const left = timeLeft(a.expires_at, now.value);
  const expired = left === "expired";
  const titleId = `req-${a.id}-title`;
  const cmdId = `req-${a.id}-cmd`;
  if (item.error) {
    return h(
      "article",
      { class: "ap-request ap-bad", "data-request": a.id, "aria-labelledby": titleId },
      h("h2", { id: titleId }, "Untrusted request"),
      h("p", { class: "error", role: "alert" }, item.error),
      h("p", { class: "muted" }, "Nothing can be approved here. It expires on its own; if this repeats, unpair this device and pair again."),
      h("p", { class: "muted ap-small" }, `request ${a.id} · ${left}`),
    );
  }
  const act = item.action!;
  return h(
    "article",
    { class: "ap-request", "data-request": a.id, "aria-labelledby": titleId },
    h("div", { class: "ap-request-head" }, h("h2", { id: titleId }, `${act.agent ?? "An agent"} wants to run`), h("span", { class: expired ? "ap-left ap-expired" : "ap-left", "data-left": true }, left)),
    h("pre", { class: "ap-command", id: cmdId }, h("code", null, Command({ text: act.command }))),
    h(Facts, { a: act }),
    item.failed && h("p", { class: "error", role: "alert" }, item.failed),
    item.sent
      ? h("p", { class: "ok", role: "status" }, item.sent === "approve" ? "Approved and signed. Your terminal checks the signature, then runs it." : "Denied. Your terminal blocks it.")
      : h(
          "div",
          { class: "ap-actions" },
          h("button", { type: "button", class: "ap-approve", disabled: expired || item.busy !== null, "aria-describedby": cmdId, onClick: () => decide(item, "approve") }, item.busy === "approve" ? "Signing…" : "Approve"),
          h("button", { type: "button", class: "ap-deny", disabled: expired || item.busy !== null, "aria-describedby": cmdId, onClick: () => decide(item, "deny") }, item.busy === "deny" ? "Signing…" : "Deny"),
        ),
  );
}

const LINK_LABEL: Record<LinkState, string> = { connecting: "connecting…", online: "online", offline: "offline" };

function Requests(props: { d: Device }): VNode<any> {
  const d = props.d;
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    connect(d);
    const t = setInterval(() => (now.value = Date.now()), 1000);
    return () => {
      clearInterval(t);
      stopLink?.();
      stopLink = null;
    };
  }, [d.pairing.id]);
  const list = items.value;
  useEffect(() => {
    document.title = list.length > 0 ? `(${list.length}) Airlock approver` : "Airlock approver";
    // a decided card leaves the page with the keyboard focus in it: bring the focus back to the list
    if (!document.activeElement || document.activeElement === document.body) heading.current?.focus();
  }, [list.length]);
  return h(
    "div",
    { class: "ap-main" },
    h(
      "p",
      { class: "ap-status" },
      h("span", { class: `ap-link ap-link-${link.value}`, role: "status", "data-link": link.value }, LINK_LABEL[link.value]),
      h("span", { class: "muted ap-small" }, "fingerprint ", h("code", { "data-fingerprint": d.fingerprint }, d.fingerprint)),
    ),
    notice.value && h("p", { class: "ap-notice", role: "status" }, notice.value),
    h("h1", { ref: heading, tabIndex: -1, "aria-live": "polite" }, list.length === 0 ? "Nothing to approve" : list.length === 1 ? "1 request" : `${list.length} requests`),
    list.length === 0
      ? h("p", { class: "muted" }, link.value === "online" ? "Requests from your terminal appear here as soon as an agent asks. Keep this page open, or install it to your home screen." : "Not connected to the gateway: requests appear when the connection is back.")
      : list.map((i) => h(Request, { key: i.approval.id, item: i })),
    h(
      "footer",
      { class: "ap-footer" },
      h("p", { class: "muted ap-small" }, `Paired with ${d.pairing.label ?? "a terminal"} · client ${d.pairing.client_id}`),
      error && h("p", { class: "error", role: "alert" }, error),
      confirming
        ? h(
            "div",
            { class: "ap-actions", role: "group", "aria-label": "Confirm unpairing" },
            h("span", null, "Unpair? This device's keys are deleted."),
            h(
              "button",
              {
                type: "button",
                class: "danger",
                onClick: async () => {
                  const e = await unpair(d);
                  if (e) setError(e);
                },
              },
              "Unpair",
            ),
            h("button", { type: "button", onClick: () => setConfirming(false), autoFocus: true }, "Cancel"),
          )
        : h("button", { type: "button", class: "danger", onClick: () => setConfirming(true) }, "Unpair this device"),
    ),
  );
}

function App(): VNode<any> {
  const d = device.value;
  return h(
    "div",
    { class: "ap" },
    h("header", { class: "ap-top" }, h("img", { src: "/approver-icon.svg", alt: "", width: 28, height: 28 }), h("span", { class: "brand" }, "Airlock approver")),
    h("main", { id: "content" }, d === undefined ? h("p", { class: "muted" }, "Loading…") : d === null ? h(Pair, {}) : !d.confirmed ? h(Fingerprint, { d }) : h(Requests, { d })),
  );
}

function installable(): void {
  const add = (tag: string, attrs: Record<string, string>) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    document.head.append(el);
  };
  add("link", { rel: "manifest", href: "/approver.webmanifest" });
  add("link", { rel: "icon", href: "/approver-icon.svg", type: "image/svg+xml" });
  add("link", { rel: "apple-touch-icon", href: "/approver-icon-192.png" });
  add("meta", { name: "theme-color", content: "#1f5fbf" });
  if ("serviceWorker" in navigator && isSecureContext) {
    navigator.serviceWorker
      .register("/approver-sw.js", { scope: "/approver" })
      .then(() => navigator.serviceWorker.ready)
      .then((reg) => {
        // the hashed scripts and stylesheet this page loaded: the worker keeps them for offline starts
        const urls = performance.getEntriesByType("resource").map((e) => new URL(e.name)).filter((u) => u.origin === location.origin && u.pathname.startsWith("/assets/")).map((u) => u.pathname);
        reg.active?.postMessage({ type: "cache", urls });
      })
      .catch(() => {
        /* no offline start; everything else works */
      });
  }
}

export function startApprover(root: HTMLElement): void {
  document.title = "Airlock approver";
  installable();
  loadDevice().then(
    (d) => {
      if (d) {
        // a device paired with a fingerprint not yet confirmed lands on the comparison again
        device.value = d;
      } else device.value = null;
    },
    (e) => {
      notice.value = `This browser does not keep data for this page (${describe(e)}). Pairing needs IndexedDB: leave private browsing.`;
      device.value = null;
    },
  );
  render(h(App, {}), root);
}
