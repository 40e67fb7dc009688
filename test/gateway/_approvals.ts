/**
 * Helpers for the approvals tests: sign-in, pairing with real WebCrypto keys, sealing a real
 * envelope, signing a decision; and a gateway on a real port (WebSocket needs Bun.serve).
 */
import { join } from "node:path";
import { actionHash, sealAction } from "../../src/approvals/envelope";
import { signDecision } from "../../src/approvals/decision";
import { generateKeyPairs, publicKeys, type KeyPairs } from "../../src/approvals/keys";
import { profileFiles } from "../../src/config/assets";
import { bootstrapStore, startGateway, type RunningGateway } from "../../src/gateway/server";
import { loadPolicySources } from "../../src/policy/load";
import type { PairingRecord } from "../../src/protocol/approvals";
import { openSqliteStore } from "../../src/store/sqlite";
import type { Store } from "../../src/store/types";
import { actionFor } from "../support/approvals";
import { seedDocuments } from "../support/gateway";
import { shellAnalyzer } from "../support/shell";
import { tempDir, type TempDir } from "../support/tmp";

export const ADMIN = "test-admin-token-0123456789abcdefghijklmnop";

/** what a request needs: method, path, bearer token (null: none), JSON body */
export type Call = (method: string, path: string, token: string | null, body?: unknown) => Promise<{ status: number; body: any }>;

export async function signIn(call: Call, approver = ADMIN): Promise<{ token: string; user: string }> {
  const started = await call("POST", "/api/v1/auth/device", null, { client_name: "test laptop" });
  if (started.status !== 200) throw new Error(`device start: ${JSON.stringify(started.body)}`);
  const approved = await call("POST", "/api/v1/auth/device/approve", approver, { user_code: started.body.user_code, approve: true });
  if (approved.status !== 200) throw new Error(`device approve: ${JSON.stringify(approved.body)}`);
  const polled = await call("POST", "/api/v1/auth/device/token", null, { device_code: started.body.device_code });
  if (polled.status !== 200) throw new Error(`device token: ${JSON.stringify(polled.body)}`);
  return { token: polled.body.access_token, user: polled.body.user };
}

export interface Paired {
  pairing: PairingRecord;
  approverToken: string;
  daemon: KeyPairs;
  approver: KeyPairs;
}

export async function pair(call: Call, userToken: string, clientId: string): Promise<Paired> {
  const daemon = await generateKeyPairs(true);
  const approver = await generateKeyPairs(false);
  const created = await call("POST", "/api/v1/pairings", userToken, { client_id: clientId, daemon: await publicKeys(daemon), label: "laptop" });
  if (created.status !== 201) throw new Error(`pair: ${JSON.stringify(created.body)}`);
  const claimed = await call("POST", "/api/v1/pairings/claim", null, { code: created.body.code, approver: await publicKeys(approver), label: "phone" });
  if (claimed.status !== 200) throw new Error(`claim: ${JSON.stringify(claimed.body)}`);
  return { pairing: claimed.body.pairing, approverToken: claimed.body.approver_token, daemon, approver };
}

let n = 0;
/** a sealed request body for POST /api/v1/approvals, with its action and the action's hash */
export async function sealedRequest(p: Paired, command: string, ttlMs = 60_000) {
  const id = `apr-${Date.now().toString(36)}-${++n}`;
  const expires_at = new Date(Date.now() + ttlMs).toISOString();
  const action = actionFor(id, expires_at, command);
  const envelope = await sealAction({ id, pairing_id: p.pairing.id, expires_at, action, daemonSign: p.daemon.sign.privateKey, approverBoxKey: (await publicKeys(p.approver)).box_key });
  return { body: { id, pairing_id: p.pairing.id, session_id: null, expires_at, envelope }, action, hash: await actionHash(action) };
}

export async function decide(p: Paired, request: { id: string; expires_at: string; hash: string }, decision: "approve" | "deny") {
  return signDecision({ request_id: request.id, action_hash: request.hash, expires_at: request.expires_at, decision, approverSign: p.approver.sign.privateKey });
}

export interface LiveGateway extends AsyncDisposable {
  url: string;
  wsUrl: string;
  store: Store;
  dir: TempDir;
  dbPath: string;
  gateway: RunningGateway;
  clientId: string;
  clientToken: string;
  call: Call;
}

/** a gateway listening on 127.0.0.1:0 with one enrolled client */
export async function liveGateway(options: { approverAuthTimeoutMs?: number; publicUrl?: string } = {}): Promise<LiveGateway> {
  const dir = await tempDir("airlock-gw-live-");
  const dbPath = join(dir.path, "gateway.db");
  const store = openSqliteStore(dbPath);
  await bootstrapStore(store, seedDocuments(), ADMIN);
  const { profiles } = loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null });
  const quiet = { info() {}, warn() {}, error() {} };
  const gateway = startGateway({
    hostname: "127.0.0.1",
    port: 0,
    store,
    analyzer: await shellAnalyzer(),
    profiles,
    version: "test",
    log: quiet,
    failedAuth: { max: 1000, windowMs: 60_000 },
    ...options,
  });
  const call: Call = async (method, path, token, body) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${gateway.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const enrollment = await call("POST", "/api/v1/clients/enrollment-tokens", ADMIN, { name: "laptop" });
  const enrolled = await call("POST", "/api/v1/clients/enroll", enrollment.body.token, { name: "laptop", hostname: "laptop.local", user: "dev", version: "test" });
  return {
    url: gateway.url,
    wsUrl: `${gateway.url.replace(/^http/, "ws")}/api/v1/approver/ws`,
    store,
    dir,
    dbPath,
    gateway,
    clientId: enrolled.body.client.id,
    clientToken: enrolled.body.token,
    call,
    async [Symbol.asyncDispose]() {
      await gateway.stop(1000);
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** a WebSocket client that queues messages and its close */
export interface TestSocket {
  ws: WebSocket;
  next(type?: string, timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function openSocket(url: string): Promise<TestSocket> {
  const ws = new WebSocket(url);
  const queue: any[] = [];
  let waiter: (() => void) | null = null;
  ws.onmessage = (e) => {
    queue.push(JSON.parse(String(e.data)));
    waiter?.();
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => {
      resolve({ code: e.code, reason: e.reason });
      waiter?.();
    };
  });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket failed to open"));
  });
  return {
    ws,
    closed,
    async next(type, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((m) => type === undefined || m.type === type);
        if (i >= 0) return queue.splice(i, 1)[0];
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${type}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type ?? "message"} within ${timeoutMs} ms (got ${JSON.stringify(queue)})`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, left);
        });
        waiter = null;
      }
    },
  };
}
