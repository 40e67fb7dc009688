/**
 * `createGatewayClient({ baseUrl, token })`: a typed ofetch client for the gateway API (`/api/v1`).
 *
 * Every failure is an `AirlockError` whose message names the method, the URL and the status:
 * - an API error body `{ code, message, details }` keeps its code and details;
 * - any other HTTP error gets the code of its status (404 → not_found, 503 → unavailable, ...);
 * - no answer at all (refused, DNS, reset, timeout) is `unavailable`: "cannot reach the gateway at URL: ...".
 * The original error is kept as `cause`. Nothing is retried: a CLI reports, a daemon decides its own retries.
 */
import { FetchError, ofetch, type $Fetch } from "ofetch";
import { AirlockError, ERROR_CODES, type ErrorCode, type ErrorDetail } from "../protocol/errors";
import type {
  ApprovalRecord,
  ClaimPairingResponse,
  CreatePairingResponse,
  DeviceStartResponse,
  DeviceTokenResponse,
  PairingRecord,
  PublicKeys,
  SignedDecision,
} from "../protocol/approvals";
import type { AuditEventRecord, Page, PolicyRecord, RoleRecord, SessionRecord, SessionStatus, TokenKind, TokenRecord, VerdictKind } from "../protocol/records";

/** An error of one gateway request: the AirlockError (code, message, details) plus where it happened. */
export class GatewayRequestError extends AirlockError {
  readonly method: string;
  readonly url: string;
  /** the HTTP status; null when no response came */
  readonly status: number | null;
  /** the API's own message, without the method, URL and status */
  readonly apiMessage: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    where: { method: string; url: string; status: number | null; apiMessage?: string | null },
    details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, details, options);
    this.method = where.method;
    this.url = where.url;
    this.status = where.status;
    this.apiMessage = where.apiMessage ?? null;
  }
}

export interface GatewayClientOptions {
  /** `http://127.0.0.1:8787`; a path prefix is kept (`https://proxy/airlock`) */
  baseUrl: string;
  /** bearer credential (admin, viewer, client ...); omitted: anonymous (health only) */
  token?: string | undefined;
  /** per request, until the response headers arrive (default 30 s) */
  timeoutMs?: number;
  /** tests inject a fetch; default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

export interface GatewayHealth {
  status: string;
  version: string;
}

export interface GatewayReadiness {
  ready: boolean;
  status: string;
  store: string | null;
}

export interface GatewayStatus {
  version: string;
  store: string;
  counts: {
    sessions_by_status: Record<SessionStatus, number>;
    decisions_by_verdict: Record<VerdictKind, number>;
    policies: number;
    roles: number;
    clients: number;
    audit_events: number;
  };
  head: { seq: number; hash: string } | null;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  problem?: { kind: string; seq: number; id: string | null; message: string };
}

export interface CreatedToken {
  /** the secret, shown once */
  token: string;
  record: TokenRecord;
}

export interface SessionListQuery {
  status?: SessionStatus;
  agent?: string;
  role?: string;
  user?: string;
  host?: string;
  limit?: number;
  cursor?: string;
}

/** One poll of the device flow: the token, or why not yet (RFC 8628 section 3.5). */
export type DeviceTokenOutcome =
  | { status: "approved"; token: DeviceTokenResponse }
  | { status: "authorization_pending" | "slow_down" | "expired_token" | "access_denied"; message: string };

const DEVICE_ERRORS = ["authorization_pending", "slow_down", "expired_token", "access_denied"] as const;

/** Which RFC 8628 error an answer names: in `error` (the RFC), `code`, `details[].message` or the message. */
function deviceError(status: number, body: unknown): (typeof DEVICE_ERRORS)[number] | null {
  const b = (body ?? {}) as Record<string, unknown>;
  for (const field of [b.error, b.code, b.reason]) if (typeof field === "string" && (DEVICE_ERRORS as readonly string[]).includes(field)) return field as (typeof DEVICE_ERRORS)[number];
  const text = JSON.stringify(body ?? "");
  for (const e of DEVICE_ERRORS) if (text.includes(e)) return e;
  if (status === 429) return "slow_down";
  if (status === 403) return "access_denied";
  return null;
}

type Method = "GET" | "POST" | "PUT" | "DELETE";
type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GatewayClient {
  readonly baseUrl: string;
  readonly hasToken: boolean;

  health(): Promise<GatewayHealth>;
  readiness(): Promise<GatewayReadiness>;
  status(): Promise<GatewayStatus>;

  listPolicies(): Promise<PolicyRecord[]>;
  getPolicy(id: string): Promise<PolicyRecord>;
  createPolicy(document: unknown): Promise<PolicyRecord>;
  updatePolicy(id: string, document: unknown, ifVersion?: number): Promise<PolicyRecord>;
  deletePolicy(id: string): Promise<void>;

  listRoles(): Promise<RoleRecord[]>;
  getRole(id: string): Promise<RoleRecord>;
  createRole(document: unknown): Promise<RoleRecord>;
  updateRole(id: string, document: unknown, ifVersion?: number): Promise<RoleRecord>;
  deleteRole(id: string): Promise<void>;

  listSessions(query?: SessionListQuery): Promise<Page<SessionRecord>>;
  getSession(id: string): Promise<SessionRecord>;
  revokeSession(id: string): Promise<SessionRecord>;

  createToken(body: { kind: "admin" | "viewer"; name: string; expires_in_days?: number }): Promise<CreatedToken>;
  listTokens(kind?: TokenKind): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<TokenRecord>;

  /** device flow (docs/approvals.md): start, then poll until approved, denied or expired */
  startDeviceSignIn(body?: { client_name?: string }): Promise<DeviceStartResponse>;
  /** one poll of the device flow; the RFC 8628 errors are outcomes, not exceptions */
  pollDeviceToken(deviceCode: string): Promise<DeviceTokenOutcome>;
  /** gives the presenting `user` token back (revoked at the gateway) */
  signOut(): Promise<void>;

  createPairing(body: { client_id: string; daemon: PublicKeys; label?: string }): Promise<CreatePairingResponse>;
  claimPairing(body: { code: string; approver: PublicKeys; label?: string }): Promise<ClaimPairingResponse>;
  getPairing(id: string): Promise<PairingRecord>;
  listPairings(): Promise<PairingRecord[]>;
  deletePairing(id: string): Promise<void>;
  listApprovals(query?: { status?: string; pairing_id?: string; limit?: number; cursor?: string }): Promise<Page<ApprovalRecord>>;
  getApproval(id: string, waitSeconds?: number): Promise<ApprovalRecord>;
  submitDecision(id: string, decision: SignedDecision): Promise<ApprovalRecord>;

  listAudit(query?: { type?: string; actor?: string; target?: string; limit?: number; cursor?: string }): Promise<Page<AuditEventRecord>>;
  verifyAudit(): Promise<AuditVerifyResult>;
  /** the JSONL export as it streams; a broken stream throws an AirlockError naming the URL */
  exportAudit(): Promise<AsyncIterable<Uint8Array>>;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "invalid_input",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  412: "conflict",
  413: "invalid_input",
  422: "invalid_input",
  429: "rate_limited",
  502: "unavailable",
  503: "unavailable",
  504: "unavailable",
};

/**
 * The error code an API answer carries: the body's own `code` when it is one of ours, else the
 * code of a well-known status, else null (each caller decides what an unlisted status means).
 */
export function knownErrorCode(status: number, body: unknown): ErrorCode | null {
  const code = (body as { code?: unknown } | null)?.code;
  if (isErrorCode(code)) return code;
  return STATUS_CODES[status] ?? null;
}

function codeForStatus(status: number): ErrorCode {
  return STATUS_CODES[status] ?? (status >= 400 && status < 500 ? "invalid_input" : "internal");
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

function apiDetails(value: unknown): ErrorDetail[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((d): d is { path?: unknown; message: unknown } => d !== null && typeof d === "object" && "message" in d)
    .map((d) => (typeof d.path === "string" && d.path !== "" ? { path: d.path, message: String(d.message) } : { message: String(d.message) }));
}

function withQuery(url: string, query: Query | undefined): string {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${url}${url.includes("?") ? "&" : "?"}${qs}` : url;
}

function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const text = error.message || error.name;
  return typeof code === "string" && !text.includes(code) ? `${text} (${code})` : text;
}

/** Normalizes a base URL: must be http(s); no trailing slash, no query or fragment. */
export function normalizeBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AirlockError("usage", `the gateway URL must be a URL like http://127.0.0.1:8787, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AirlockError("usage", `the gateway URL must be http:// or https://, got ${JSON.stringify(value)}`);
  }
  if (url.username || url.password) throw new AirlockError("usage", "the gateway URL must not carry credentials: use AIRLOCK_TOKEN or --token-file");
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "");
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const $fetch: $Fetch = ofetch.create(
    { baseURL: baseUrl, headers, retry: 0, timeout: timeoutMs },
    options.fetch ? { fetch: options.fetch } : {},
  );

  const toError = (method: Method, url: string, error: unknown): AirlockError => {
    if (error instanceof AirlockError) return error;
    const fe = error instanceof FetchError ? error : null;
    const status = fe?.response?.status;
    if (fe === null || status === undefined) {
      const cause = fe?.cause ?? error;
      const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
      const why = timedOut ? `no answer within ${Math.round(timeoutMs / 1000)} s` : causeText(cause);
      return new GatewayRequestError("unavailable", `cannot reach the gateway at ${baseUrl}: ${method} ${url}: no response: ${why}`, { method, url, status: null }, [], { cause: error });
    }
    const statusText = `${status}${fe.response?.statusText ? ` ${fe.response.statusText}` : ""}`;
    const data = fe.data as { code?: unknown; message?: unknown; details?: unknown } | string | undefined;
    if (data && typeof data === "object" && isErrorCode(data.code) && typeof data.message === "string") {
      return new GatewayRequestError(data.code, `${method} ${url}: ${statusText}: ${data.message}`, { method, url, status, apiMessage: data.message }, apiDetails(data.details), { cause: error });
    }
    const text = typeof data === "string" && data.trim() ? data.trim().slice(0, 200) : null;
    return new GatewayRequestError(codeForStatus(status), `${method} ${url}: ${statusText}${text ? `: ${text}` : ""}`, { method, url, status, apiMessage: text }, [], { cause: error });
  };

  async function call<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = withQuery(`${baseUrl}${path}`, opts.query);
    try {
      return (await $fetch<T>(url, {
        method,
        ...(opts.body === undefined ? {} : { body: opts.body as Record<string, unknown> }),
        ...(opts.headers ? { headers: opts.headers } : {}),
      })) as T;
    } catch (error) {
      throw toError(method, url, error);
    }
  }

  const id = (value: string) => encodeURIComponent(value);
  const ifMatch = (version: number | undefined) => (version === undefined ? undefined : { "if-match": `"${version}"` });

  return {
    baseUrl,
    hasToken: Boolean(options.token),

    health: () => call<GatewayHealth>("GET", "/healthz"),

    async readiness() {
      const url = `${baseUrl}/readyz`;
      let res: Awaited<ReturnType<typeof $fetch.raw<{ status?: string; store?: string }>>>;
      try {
        res = await $fetch.raw<{ status?: string; store?: string }>(url, { method: "GET", ignoreResponseError: true });
      } catch (error) {
        throw toError("GET", url, error);
      }
      if (res.status !== 200 && res.status !== 503) {
        throw new GatewayRequestError(codeForStatus(res.status), `GET ${url}: ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`, { method: "GET", url, status: res.status });
      }
      const data = res._data && typeof res._data === "object" ? res._data : {};
      return { ready: res.status === 200, status: data.status ?? String(res.status), store: data.store ?? null };
    },

    status: () => call<GatewayStatus>("GET", "/api/v1/status"),

    listPolicies: async () => (await call<{ items: PolicyRecord[] }>("GET", "/api/v1/policies")).items,
    getPolicy: (policyId) => call<PolicyRecord>("GET", `/api/v1/policies/${id(policyId)}`),
    createPolicy: (document) => call<PolicyRecord>("POST", "/api/v1/policies", { body: document }),
    updatePolicy: (policyId, document, ifVersion) =>
      call<PolicyRecord>("PUT", `/api/v1/policies/${id(policyId)}`, { body: document, ...(ifMatch(ifVersion) ? { headers: ifMatch(ifVersion)! } : {}) }),
    deletePolicy: async (policyId) => {
      await call<unknown>("DELETE", `/api/v1/policies/${id(policyId)}`);
    },

    listRoles: async () => (await call<{ items: RoleRecord[] }>("GET", "/api/v1/roles")).items,
    getRole: (roleId) => call<RoleRecord>("GET", `/api/v1/roles/${id(roleId)}`),
    createRole: (document) => call<RoleRecord>("POST", "/api/v1/roles", { body: document }),
    updateRole: (roleId, document, ifVersion) =>
      call<RoleRecord>("PUT", `/api/v1/roles/${id(roleId)}`, { body: document, ...(ifMatch(ifVersion) ? { headers: ifMatch(ifVersion)! } : {}) }),
    deleteRole: async (roleId) => {
      await call<unknown>("DELETE", `/api/v1/roles/${id(roleId)}`);
    },

    listSessions: (query = {}) => call<Page<SessionRecord>>("GET", "/api/v1/sessions", { query: { ...query } }),
    getSession: (sessionId) => call<SessionRecord>("GET", `/api/v1/sessions/${id(sessionId)}`),
    revokeSession: (sessionId) => call<SessionRecord>("POST", `/api/v1/sessions/${id(sessionId)}/revoke`),

    createToken: (body) => call<CreatedToken>("POST", "/api/v1/tokens", { body }),
    listTokens: async (kind) => (await call<{ items: TokenRecord[] }>("GET", "/api/v1/tokens", { query: { kind } })).items,
    revokeToken: (tokenId) => call<TokenRecord>("POST", `/api/v1/tokens/${id(tokenId)}/revoke`),

    startDeviceSignIn: (body = {}) => call<DeviceStartResponse>("POST", "/api/v1/auth/device", { body }),
    async pollDeviceToken(deviceCode) {
      const url = `${baseUrl}/api/v1/auth/device/token`;
      let res: Awaited<ReturnType<typeof $fetch.raw<unknown>>>;
      try {
        res = await $fetch.raw<unknown>(url, { method: "POST", body: { device_code: deviceCode }, ignoreResponseError: true });
      } catch (error) {
        throw toError("POST", url, error);
      }
      const data = res._data;
      if (res.status === 200) return { status: "approved", token: data as DeviceTokenResponse };
      const kind = deviceError(res.status, data);
      const message = typeof (data as { message?: unknown } | undefined)?.message === "string" ? (data as { message: string }).message : `${res.status}`;
      if (kind) return { status: kind, message };
      const code = knownErrorCode(res.status, data) ?? codeForStatus(res.status);
      throw new GatewayRequestError(code, `POST ${url}: ${res.status}${res.statusText ? ` ${res.statusText}` : ""}: ${message}`, { method: "POST", url, status: res.status, apiMessage: message });
    },

    signOut: async () => {
      await call<unknown>("POST", "/api/v1/auth/sign-out");
    },
    createPairing: (body) => call<CreatePairingResponse>("POST", "/api/v1/pairings", { body }),
    claimPairing: (body) => call<ClaimPairingResponse>("POST", "/api/v1/pairings/claim", { body }),
    getPairing: (pairingId) => call<PairingRecord>("GET", `/api/v1/pairings/${id(pairingId)}`),
    listPairings: async () => (await call<{ items: PairingRecord[] }>("GET", "/api/v1/pairings")).items,
    deletePairing: async (pairingId) => {
      await call<unknown>("DELETE", `/api/v1/pairings/${id(pairingId)}`);
    },
    listApprovals: (query = {}) => call<Page<ApprovalRecord>>("GET", "/api/v1/approvals", { query: { ...query } }),
    getApproval: (approvalId, waitSeconds) => call<ApprovalRecord>("GET", `/api/v1/approvals/${id(approvalId)}`, { query: { wait: waitSeconds } }),
    submitDecision: (approvalId, decision) => call<ApprovalRecord>("POST", `/api/v1/approvals/${id(approvalId)}/decision`, { body: decision }),

    listAudit: (query = {}) => call<Page<AuditEventRecord>>("GET", "/api/v1/audit", { query: { ...query } }),
    verifyAudit: () => call<AuditVerifyResult>("GET", "/api/v1/audit/verify"),

    async exportAudit() {
      const url = `${baseUrl}/api/v1/audit/export`;
      let body: ReadableStream<Uint8Array>;
      try {
        body = await $fetch<ReadableStream<Uint8Array>, "stream">(url, { method: "GET", responseType: "stream", headers: { accept: "application/x-ndjson" } });
      } catch (error) {
        throw toError("GET", url, error);
      }
      return {
        async *[Symbol.asyncIterator]() {
          const reader = body.getReader();
          let bytes = 0;
          try {
            for (;;) {
              let chunk: Awaited<ReturnType<typeof reader.read>>;
              try {
                chunk = await reader.read();
              } catch (error) {
                throw new GatewayRequestError("unavailable", `GET ${url}: 200: the export stream broke after ${bytes} bytes: ${causeText(error)}`, { method: "GET", url, status: 200 }, [], { cause: error });
              }
              if (chunk.done) return;
              bytes += chunk.value.byteLength;
              yield chunk.value;
            }
          } finally {
            reader.releaseLock();
          }
        },
      };
    },
  };
}
