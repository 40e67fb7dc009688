/**
 * The part of the gateway API a daemon speaks, over plain fetch (injectable for tests): role
 * bundles with If-None-Match, the change feed (long-poll), session registration and transitions,
 * decision batches, enrollment. Every failure is a `GatewayRequestError` (src/client/gateway.ts)
 * whose message names the method, URL and status; `status` is null when nothing answered.
 * Nothing is retried here: sync.ts owns retries and backoff.
 */
import { GatewayRequestError, knownErrorCode, normalizeBaseUrl } from "../client/gateway";
import type { ApprovalRecord, Envelope } from "../protocol/approvals";
import type { ErrorCode } from "../protocol/errors";
import type { ClientRecord, JsonObject, PolicyRecord, RoleRecord, SessionRecord } from "../protocol/records";

/** A role's effective bundle as `GET /api/v1/roles/:id/bundle` returns it. */
export interface WireBundle {
  role: RoleRecord;
  policies: PolicyRecord[];
  etag: string;
}

export interface FeedEvent {
  seq: number;
  type: string;
  target: string;
  actor: string;
  details: JsonObject;
  created_at: string;
}

export interface FeedPage {
  events: FeedEvent[];
  next: number;
  more: boolean;
}

export interface GatewaySessionBody {
  id: string;
  agent: string;
  role: string;
  user: string;
  host: string;
  cwd: string;
  pid: number | null;
}

export interface GatewayDecision {
  id: string;
  session_id: string | null;
  role: string | null;
  agent: string | null;
  tool: string | null;
  command: string;
  normalized: string[];
  verdict: "allow" | "require_approval" | "block";
  policy: string | null;
  rule: string | null;
  pattern: string | null;
  reason: string;
  source: "shim" | "hook" | "check" | "gateway";
  cwd: string | null;
  decided_at: string;
}

export type BundleResult = { status: "not_modified" } | { status: "ok"; bundle: WireBundle; etag: string };

export interface DaemonGatewayApi {
  readonly baseUrl: string;
  bundle(role: string, etag: string | null): Promise<BundleResult>;
  changes(after: number, waitSeconds: number, signal?: AbortSignal): Promise<FeedPage>;
  /** `exists` when the gateway already has this id (a retry after a crash) */
  createSession(body: GatewaySessionBody): Promise<"created" | "exists">;
  sessionStatus(id: string, body: { status: "running" | "exited"; exit_code?: number | null }): Promise<SessionRecord>;
  postDecisions(decisions: GatewayDecision[]): Promise<{ accepted: number; duplicates: number }>;
  /** `POST /api/v1/approvals`: a sealed request for the paired approver (docs/approvals.md) */
  createApproval(body: { id: string; pairing_id: string; session_id: string | null; expires_at: string; envelope: Envelope }): Promise<{ approval: ApprovalRecord; approver_online: boolean }>;
  /** `GET /api/v1/approvals/:id?wait=S`: long-polls up to S seconds (≤ 30) while pending */
  approval(id: string, waitSeconds: number, signal?: AbortSignal): Promise<ApprovalRecord>;
  /** `POST /api/v1/approvals/:id/verification`: the verifier's result, audited by the gateway */
  reportVerification(id: string, body: { ok: boolean; reason: string; verify_ms: number; total_ms: number }): Promise<void>;
}

export interface GatewayApiOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof globalThis.fetch;
  /** per request (the long-poll adds its wait), default 10 s */
  timeoutMs?: number;
}

export type GatewayApiFactory = (options: GatewayApiOptions) => DaemonGatewayApi;

/** Any other 5xx is `unavailable` here: sync.ts retries those, with backoff. */
function codeFor(status: number, body: unknown): ErrorCode {
  return knownErrorCode(status, body) ?? (status >= 500 ? "unavailable" : "invalid_input");
}

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** statuses answered as a value instead of an error */
  accept?: number[];
}

async function call(fetchFn: typeof globalThis.fetch, baseUrl: string, token: string | null, method: string, path: string, timeoutMs: number, opts: CallOptions = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const url = `${baseUrl}${path}`;
  const headers: Record<string, string> = { accept: "application/json", ...(opts.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetchFn(url, { method, headers, signal, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  } catch (error) {
    const name = (error as Error)?.name;
    const why = name === "TimeoutError" ? `no answer within ${Math.round((opts.timeoutMs ?? timeoutMs) / 1000)} s` : name === "AbortError" ? "aborted" : ((error as Error)?.message ?? String(error));
    throw new GatewayRequestError("unavailable", `cannot reach the gateway at ${baseUrl}: ${method} ${url}: no response: ${why}`, { method, url, status: null }, [], { cause: error });
  }
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    throw new GatewayRequestError("unavailable", `${method} ${url}: ${res.status}: the response broke off: ${(error as Error).message}`, { method, url, status: null }, [], { cause: error });
  }
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, headers: res.headers, body };
  const apiMessage = typeof (body as { message?: unknown } | null)?.message === "string" ? (body as { message: string }).message : typeof body === "string" ? body.slice(0, 200) : null;
  const details = Array.isArray((body as { details?: unknown } | null)?.details) ? ((body as { details: { path?: string; message: string }[] }).details) : [];
  throw new GatewayRequestError(codeFor(res.status, body), `${method} ${url}: ${res.status}${apiMessage ? `: ${apiMessage}` : ""}`, { method, url, status: res.status, apiMessage }, details);
}

export function createGatewayApi(options: GatewayApiOptions): DaemonGatewayApi {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const req = (method: string, path: string, opts?: CallOptions) => call(fetchFn, baseUrl, options.token, method, path, timeoutMs, opts);
  const id = encodeURIComponent;

  return {
    baseUrl,

    async bundle(role, etag) {
      const r = await req("GET", `/api/v1/roles/${id(role)}/bundle`, { accept: [304], ...(etag ? { headers: { "if-none-match": `"${etag}"` } } : {}) });
      if (r.status === 304) return { status: "not_modified" };
      const bundle = r.body as WireBundle;
      if (!bundle || typeof bundle !== "object" || !bundle.role || !Array.isArray(bundle.policies) || typeof bundle.etag !== "string") {
        throw new GatewayRequestError("invalid_input", `GET ${baseUrl}/api/v1/roles/${role}/bundle: 200: the answer is not a role bundle`, { method: "GET", url: `${baseUrl}/api/v1/roles/${role}/bundle`, status: 200 });
      }
      return { status: "ok", bundle, etag: bundle.etag };
    },

    async changes(after, waitSeconds, signal) {
      const r = await req("GET", `/api/v1/changes?after=${after}&wait=${waitSeconds}`, { timeoutMs: timeoutMs + waitSeconds * 1000, ...(signal ? { signal } : {}) });
      const page = r.body as FeedPage;
      if (!page || !Array.isArray(page.events) || typeof page.next !== "number") {
        throw new GatewayRequestError("invalid_input", `GET ${baseUrl}/api/v1/changes: 200: the answer is not a change feed page`, { method: "GET", url: `${baseUrl}/api/v1/changes`, status: 200 });
      }
      return page;
    },

    async createSession(body) {
      const r = await req("POST", "/api/v1/sessions", { body, accept: [409] });
      return r.status === 409 ? "exists" : "created";
    },

    async sessionStatus(sessionId, body) {
      return (await req("POST", `/api/v1/sessions/${id(sessionId)}/status`, { body })).body as SessionRecord;
    },

    async postDecisions(decisions) {
      return (await req("POST", "/api/v1/decisions", { body: { decisions } })).body as { accepted: number; duplicates: number };
    },

    async createApproval(body) {
      const r = await req("POST", "/api/v1/approvals", { body });
      const answer = r.body as { approval?: ApprovalRecord; approver_online?: unknown };
      if (!answer?.approval || typeof answer.approval.id !== "string") {
        throw new GatewayRequestError("invalid_input", `POST ${baseUrl}/api/v1/approvals: ${r.status}: the answer is not an approval`, { method: "POST", url: `${baseUrl}/api/v1/approvals`, status: r.status });
      }
      return { approval: answer.approval, approver_online: answer.approver_online === true };
    },

    async approval(approvalId, waitSeconds, signal) {
      const wait = Math.max(0, Math.min(30, Math.floor(waitSeconds)));
      const r = await req("GET", `/api/v1/approvals/${id(approvalId)}?wait=${wait}`, { timeoutMs: timeoutMs + wait * 1000, ...(signal ? { signal } : {}) });
      const record = r.body as ApprovalRecord;
      if (!record || typeof record !== "object" || record.id !== approvalId || typeof record.status !== "string") {
        throw new GatewayRequestError("invalid_input", `GET ${baseUrl}/api/v1/approvals/${approvalId}: 200: the answer is not this approval`, { method: "GET", url: `${baseUrl}/api/v1/approvals/${approvalId}`, status: 200 });
      }
      return record;
    },

    async reportVerification(approvalId, body) {
      await req("POST", `/api/v1/approvals/${id(approvalId)}/verification`, { body });
    },
  };
}

/** `POST /api/v1/clients/enroll` with a one-time enrollment token: the client and its credential. */
export async function requestEnrollment(options: {
  baseUrl: string;
  enrollmentToken: string;
  body: { name: string; hostname: string; user: string; version: string };
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}): Promise<{ client: ClientRecord; token: string; baseUrl: string }> {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const r = await call(options.fetch ?? globalThis.fetch, baseUrl, options.enrollmentToken, "POST", "/api/v1/clients/enroll", options.timeoutMs ?? 15_000, { body: options.body });
  const answer = r.body as { client?: ClientRecord; token?: string };
  if (!answer?.client?.id || typeof answer.token !== "string") {
    throw new GatewayRequestError("invalid_input", `POST ${baseUrl}/api/v1/clients/enroll: ${r.status}: the answer has no client credential`, { method: "POST", url: `${baseUrl}/api/v1/clients/enroll`, status: r.status });
  }
  return { client: answer.client, token: answer.token, baseUrl };
}
