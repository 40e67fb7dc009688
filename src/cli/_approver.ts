/**
 * The headless approver (`airlock approver`): its 0600 key file, and the WebSocket loop that
 * receives sealed requests, opens them (the daemon's signature checked against the daemon keys
 * stored at pairing time, never against what the gateway says later), shows them, decides (a
 * fixed answer or a prompt) and posts the signed decision.
 */
import * as v from "valibot";
import { actionHash, ApprovalCryptoError, exportKeyFile, importKeyFile, KeyFile, openEnvelope, signDecision, type KeyPairs } from "../approvals/index";
import { createGatewayClient, type GatewayClient } from "../client/gateway";
import { err, out } from "../config/stdio";
import { PublicKeys, type ApprovalAction, type ApprovalRecord, type ApproverServerMessage, type DecisionValue } from "../protocol/approvals";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { readSecretJson, writeSecretJson } from "./_credentials";
import { shortTime } from "./_remote";

export const ApproverFile = v.object({
  v: v.literal(1),
  gateway_url: v.pipe(v.string(), v.url()),
  pairing_id: v.string(),
  approver_token: v.pipe(v.string(), v.minLength(16)),
  /** the daemon's public keys as they were when the fingerprint was shown */
  daemon: PublicKeys,
  approver: PublicKeys,
  fingerprint: v.string(),
  label: v.nullable(v.string()),
  paired_at: v.string(),
  keys: KeyFile,
});
export type ApproverFile = v.InferOutput<typeof ApproverFile>;

export function readApproverFile(path: string): ApproverFile | null {
  return readSecretJson(path, ApproverFile, "the approver key file");
}

export async function writeApproverFile(path: string, file: Omit<ApproverFile, "keys">, keys: KeyPairs): Promise<ApproverFile> {
  const full: ApproverFile = { ...file, keys: await exportKeyFile(keys) };
  writeSecretJson(path, full);
  return full;
}

export interface ApproverOptions {
  file: ApproverFile;
  keys: KeyPairs;
  /** a fixed answer (tests, benchmarks) or a question to a person */
  decide: (action: ApprovalAction, approval: ApprovalRecord) => Promise<DecisionValue | null>;
  /** exit after the first decision */
  once: boolean;
  json: boolean;
  /** resolves when the approver should stop (SIGINT/SIGTERM) */
  stop: Promise<void>;
}

export interface ApproverResult {
  reason: "once" | "stopped" | "unpaired";
  decisions: number;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 15_000];
const PING_MS = 25_000;

function wsUrl(gatewayUrl: string): string {
  return `${gatewayUrl.replace(/^http/, "ws").replace(/\/+$/, "")}/api/v1/approver/ws`;
}

function event(json: boolean, value: Record<string, unknown>, text: string): void {
  if (json) out(`${JSON.stringify({ at: new Date().toISOString(), ...value })}\n`);
  else out(text);
}

export function formatAction(a: ApprovalAction): string {
  const rows: [string, string | null][] = [
    ["command", a.command],
    ["cwd", a.cwd],
    ["agent", a.agent],
    ["session", a.session_id],
    ["role", a.role],
    ["tool", a.tool],
    ["policy", a.policy],
    ["rule", a.rule],
    ["reason", a.reason || null],
    ["host", a.host],
    ["requested", shortTime(a.requested_at)],
    ["expires", shortTime(a.expires_at)],
  ];
  return rows.map(([k, val]) => `  ${k.padEnd(9)} ${val ?? "-"}`).join("\n");
}

/** Runs until `once` is satisfied, the pairing is removed, or `stop` resolves. */
export async function runApprover(o: ApproverOptions): Promise<ApproverResult> {
  const gw: GatewayClient = createGatewayClient({ baseUrl: o.file.gateway_url, token: o.file.approver_token, timeoutMs: 15_000 });
  const handled = new Set<string>();
  let decisions = 0;
  let queue: Promise<void> = Promise.resolve();
  let finished: ((r: ApproverResult) => void) | null = null;
  let fatal: ((e: unknown) => void) | null = null;
  const done = new Promise<ApproverResult>((resolve, reject) => {
    finished = resolve;
    fatal = reject;
  });
  let over = false;
  const finish = (r: ApproverResult["reason"]) => {
    if (over) return;
    over = true;
    finished?.({ reason: r, decisions });
  };
  const fail = (e: unknown) => {
    if (over) return;
    over = true;
    fatal?.(e);
  };
  o.stop.then(() => finish("stopped"));

  const handle = async (approval: ApprovalRecord) => {
    if (over || handled.has(approval.id) || approval.status !== "pending") return;
    handled.add(approval.id);
    if (approval.pairing_id !== o.file.pairing_id) {
      event(o.json, { event: "refused", id: approval.id, reason: "other_pairing" }, `REFUSED request ${approval.id}: it belongs to pairing ${approval.pairing_id}, not ${o.file.pairing_id}\n`);
      return;
    }
    let action: ApprovalAction;
    try {
      action = await openEnvelope({ id: approval.id, pairing_id: approval.pairing_id, expires_at: approval.expires_at, envelope: approval.envelope, approverBox: o.keys.box.privateKey, daemonSignKey: o.file.daemon.sign_key });
    } catch (error) {
      const reason = error instanceof ApprovalCryptoError ? error.reason : "invalid";
      event(
        o.json,
        { event: "refused", id: approval.id, reason, message: (error as Error).message },
        `REFUSED request ${approval.id}: ${(error as Error).message}. It was not sent by the paired terminal as it is: nothing was signed.\n`,
      );
      return;
    }
    if (Date.parse(action.expires_at) <= Date.now()) {
      event(o.json, { event: "expired", id: approval.id }, `request ${approval.id} expired at ${shortTime(action.expires_at)}; skipped\n`);
      return;
    }
    event(o.json, { event: "request", id: approval.id, action }, `\napproval request ${approval.id}\n${formatAction(action)}\n`);
    const decision = await o.decide(action, approval);
    if (decision === null || over) return;
    const signed = await signDecision({ request_id: approval.id, action_hash: await actionHash(action), expires_at: approval.expires_at, decision, approverSign: o.keys.sign.privateKey });
    try {
      await gw.submitDecision(approval.id, signed);
    } catch (error) {
      if (isAirlockError(error) && (error.code === "conflict" || error.code === "not_found")) {
        event(o.json, { event: "not_decided", id: approval.id, message: error.message }, `request ${approval.id} was no longer pending: ${error.message}\n`);
        return;
      }
      throw error;
    }
    decisions++;
    event(o.json, { event: "decided", id: approval.id, decision }, `${decision === "approve" ? "APPROVED" : "DENIED"} ${approval.id} (signed; the workstation verifies it before running anything)\n`);
    if (o.once) finish("once");
  };
  const enqueue = (approval: ApprovalRecord) => {
    queue = queue.then(() => handle(approval)).catch((error) => {
      err(`airlock: approver: request ${approval.id}: ${(error as Error).message}\n`);
    });
  };

  let attempt = 0;
  let socket: WebSocket | null = null;
  let ping: ReturnType<typeof setInterval> | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    if (over) return;
    const ws = new WebSocket(wsUrl(o.file.gateway_url));
    socket = ws;
    let ready = false;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: o.file.approver_token }));
    ws.onmessage = (ev) => {
      let msg: ApproverServerMessage;
      try {
        msg = JSON.parse(typeof ev.data === "string" ? ev.data : new TextDecoder().decode(ev.data as ArrayBuffer));
      } catch {
        return;
      }
      switch (msg.type) {
        case "ready": {
          ready = true;
          attempt = 0;
          const keys = msg.pairing.daemon;
          if (keys && (keys.sign_key !== o.file.daemon.sign_key || keys.box_key !== o.file.daemon.box_key)) {
            err("airlock: WARNING: the gateway reports other daemon keys for this pairing than the ones paired; requests are checked against the paired keys only\n");
          }
          event(o.json, { event: "ready", pairing_id: msg.pairing.id, pending: msg.pending.length }, `connected to ${o.file.gateway_url} as the approver of pairing ${o.file.pairing_id} (fingerprint ${o.file.fingerprint}); ${msg.pending.length} pending\n`);
          for (const a of msg.pending) enqueue(a);
          break;
        }
        case "request":
          enqueue(msg.approval);
          break;
        case "resolved":
          if (!o.json) break;
          event(o.json, { event: "resolved", id: msg.id, status: msg.status }, "");
          break;
        case "unpaired":
          event(o.json, { event: "unpaired", pairing_id: msg.pairing_id }, `the pairing ${msg.pairing_id} was removed; this approver is no longer paired\n`);
          finish("unpaired");
          break;
        case "error":
          if (!ready && (msg.code === "unauthorized" || msg.code === "forbidden")) {
            fail(new AirlockError("unauthorized", `the gateway refused this approver's token (${msg.message}); the pairing may have been removed: pair again with 'airlock pair' and 'airlock approver --code XXXXXX'`));
          } else err(`airlock: approver: the gateway says ${msg.code}: ${msg.message}\n`);
          break;
        default:
          break;
      }
    };
    ws.onclose = (ev) => {
      if (ping) clearInterval(ping);
      if (over) return;
      if (ev.code === 4401 || ev.code === 4403 || ev.code === 1008) {
        fail(new AirlockError("unauthorized", `the gateway closed the approver socket: ${ev.reason || ev.code}; the pairing may have been removed: pair again`));
        return;
      }
      const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
      attempt++;
      if (attempt === 1 || attempt % 5 === 0) err(`airlock: approver: disconnected from ${o.file.gateway_url}${ev.reason ? ` (${ev.reason})` : ""}; reconnecting in ${delay} ms\n`);
      retry = setTimeout(connect, delay);
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
    ping = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
    }, PING_MS);
  };
  connect();

  try {
    return await done;
  } finally {
    if (retry) clearTimeout(retry);
    if (ping) clearInterval(ping);
    try {
      (socket as WebSocket | null)?.close(1000, "approver stopped");
    } catch {
      /* already closed */
    }
  }
}

/** Claims a pairing code with fresh extractable keys; returns the new key file's content. */
export async function claimCode(gatewayUrl: string, code: string, label: string, approver: PublicKeys): Promise<Omit<ApproverFile, "keys" | "fingerprint"> & { pairing_label: string | null }> {
  const gw = createGatewayClient({ baseUrl: gatewayUrl, timeoutMs: 15_000 });
  const r = await gw.claimPairing({ code, approver, label });
  if (!r.pairing.daemon) throw new AirlockError("internal", "the gateway's claim answer has no daemon keys");
  return {
    v: 1,
    gateway_url: gw.baseUrl,
    pairing_id: r.pairing.id,
    approver_token: r.approver_token,
    daemon: r.pairing.daemon,
    approver,
    label,
    paired_at: new Date().toISOString(),
    pairing_label: r.pairing.label,
  };
}

export async function loadKeys(file: ApproverFile): Promise<KeyPairs> {
  return importKeyFile(file.keys);
}
