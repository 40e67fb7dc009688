/**
 * The one store interface the gateway (and later the daemon) uses. Two backends implement it:
 * SQLite (embedded default, `sqlite.ts`) and PostgreSQL (shared control plane, later). The contract
 * suite in test/store/contract.ts runs against every backend.
 *
 * Rules every backend keeps:
 * - every mutation writes its audit event (src/audit) in the SAME transaction as the state change;
 *   `actor` names who did it (`admin:<token id>`, `client:<client id>`, `system`);
 * - the audit chain is appended under a lock (SQLite: BEGIN IMMEDIATE), seq is gapless, and the
 *   chain head (seq, hash) is stored alongside;
 * - errors are AirlockError: not_found, conflict (duplicate id, illegal transition, version
 *   mismatch, policy still attached), unauthorized (bad/used enrollment token);
 * - times are ISO-8601 UTC strings with milliseconds (`Date#toISOString`), from the injected clock;
 * - listing is keyset-paginated, newest first; a cursor is opaque (base64url) and a malformed one is
 *   an `invalid_input` error.
 */
import type { AuditEvent } from "../audit/chain";
import type {
  ClientRecord,
  DecisionRecord,
  JsonObject,
  Page,
  PolicyRecord,
  RoleRecord,
  SessionRecord,
  SessionStatus,
  TokenKind,
  TokenRecord,
  VerdictKind,
} from "../protocol/records";

export interface StoreOptions {
  /** the clock (tests pass a fake); default () => new Date() */
  now?: () => Date;
}

export interface NewToken {
  id: string;
  kind: TokenKind;
  name: string;
  /** SHA-256 hex of the secret; the secret itself is never stored */
  hash: string;
  client_id?: string | null;
  expires_at?: string | null;
}

export interface NewClient {
  id: string;
  name: string;
  hostname: string;
  user: string;
  version: string;
}

export interface NewSession {
  id: string;
  client_id: string | null;
  agent: string;
  role: string;
  user: string;
  host: string;
  cwd: string;
  pid: number | null;
  /** SHA-256 hex of the session token (checks of its own session) */
  token_hash: string;
}

export type DecisionInput = Omit<DecisionRecord, "received_at" | "client_id">;

/** One `ingestDecisions` call's arguments, for group commit. */
export interface DecisionBatch {
  clientId: string | null;
  decisions: DecisionInput[];
  actor: string;
}

/** What that `ingestDecisions` call would have returned, or thrown. */
export type DecisionBatchResult = { ok: true; value: { accepted: number; duplicates: number } } | { ok: false; error: unknown };

export interface SessionFilter {
  status?: SessionStatus;
  agent?: string;
  role?: string;
  user?: string;
  host?: string;
  client_id?: string;
  since?: string;
  until?: string;
}

export interface DecisionFilter {
  verdict?: VerdictKind;
  session_id?: string;
  role?: string;
  agent?: string;
  tool?: string;
  policy?: string;
  rule?: string;
  client_id?: string;
  /** substring of the command, case-insensitive */
  q?: string;
  since?: string;
  until?: string;
}

export interface AuditFilter {
  /** exact type, or a prefix ending in `.` (`session.`) */
  type?: string;
  actor?: string;
  target?: string;
  since?: string;
  until?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** The effective bundle of a role: what a daemon needs to decide locally. */
export interface RoleBundle {
  role: RoleRecord;
  /** the documents of the role's attached policies, in the role's order (active and disabled) */
  policies: PolicyRecord[];
  /** changes whenever the role or any attached policy changes: an ETag */
  etag: string;
}

export interface StoreCounts {
  sessions_by_status: Record<SessionStatus, number>;
  decisions_by_verdict: Record<VerdictKind, number>;
  policies: number;
  roles: number;
  clients: number;
  audit_events: number;
}

/** What the Overview shows: decisions per minute by verdict and the most blocked commands, over a window. */
export interface DecisionStats {
  /** start of the window (inclusive, whole minute, UTC) */
  since: string;
  minutes: number;
  /** one entry per minute of the window that has decisions, oldest first; `minute` is `YYYY-MM-DDTHH:MM` */
  per_minute: { minute: string; allow: number; require_approval: number; block: number }[];
  /** blocked commands of the window, most frequent first */
  top_blocked: { command: string; count: number; last_at: string }[];
}

export interface Store {
  readonly backend: "sqlite" | "postgres";
  /** a trivial round trip; throws when the store is unreachable */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * First start: seeds policies and roles, stores the bootstrap admin token, writes
   * store.initialized. Race-safe and idempotent: returns false (and changes nothing) when the store
   * was already initialized.
   */
  initialize(seed: { policies: JsonObject[]; roles: JsonObject[]; adminToken: NewToken }): Promise<boolean>;

  createToken(token: NewToken, actor: string): Promise<TokenRecord>;
  /** a live token (not revoked, not expired, enrollment not used) by hash, else null */
  findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null>;
  touchToken(id: string): Promise<void>;
  listTokens(kind?: TokenKind): Promise<TokenRecord[]>;
  revokeToken(id: string, actor: string): Promise<TokenRecord>;

  listPolicies(): Promise<PolicyRecord[]>;
  getPolicy(id: string): Promise<PolicyRecord | null>;
  createPolicy(document: JsonObject, actor: string): Promise<PolicyRecord>;
  /** replaces the document; version + 1; `ifVersion` → conflict when it is not the current one */
  updatePolicy(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<PolicyRecord>;
  /** conflict while a role attaches it */
  deletePolicy(id: string, actor: string): Promise<void>;

  listRoles(): Promise<RoleRecord[]>;
  getRole(id: string): Promise<RoleRecord | null>;
  /** conflict when an attached policy does not exist */
  createRole(document: JsonObject, actor: string): Promise<RoleRecord>;
  updateRole(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<RoleRecord>;
  deleteRole(id: string, actor: string): Promise<void>;
  getRoleBundle(id: string): Promise<RoleBundle | null>;

  /** atomically uses the enrollment token (single use) and creates the client and its token */
  enrollClient(enrollmentHash: string, client: NewClient, clientToken: NewToken): Promise<{ client: ClientRecord; token: TokenRecord }>;
  listClients(): Promise<ClientRecord[]>;
  getClient(id: string): Promise<ClientRecord | null>;
  touchClient(id: string): Promise<void>;
  /** also revokes the client's tokens */
  revokeClient(id: string, actor: string): Promise<ClientRecord>;

  createSession(session: NewSession, actor: string): Promise<SessionRecord>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** the session whose token has this hash (any status) */
  findSessionByToken(hash: string): Promise<SessionRecord | null>;
  listSessions(filter: SessionFilter, page: PageRequest): Promise<Page<SessionRecord>>;
  /**
   * ready → running → exited; revoked from ready or running. Anything else: conflict.
   * `exit_code` applies to exited.
   */
  transitionSession(id: string, to: SessionStatus, actor: string, extra?: { exit_code?: number | null }): Promise<SessionRecord>;

  /** idempotent by decision id: a retried batch never duplicates; each new decision is audited */
  ingestDecisions(clientId: string | null, decisions: DecisionInput[], actor: string): Promise<{ accepted: number; duplicates: number }>;
  /**
   * Optional group commit: several batches in ONE transaction, each with its own result or error
   * exactly as if it had been its own `ingestDecisions` call (a failing batch writes nothing).
   * The gateway coalesces concurrent ingests through it when a backend offers it.
   */
  ingestDecisionBatches?(batches: readonly DecisionBatch[]): Promise<DecisionBatchResult[]>;
  getDecision(id: string): Promise<DecisionRecord | null>;
  listDecisions(filter: DecisionFilter, page: PageRequest): Promise<Page<DecisionRecord>>;

  listAudit(filter: AuditFilter, page: PageRequest): Promise<Page<AuditEvent>>;
  /** every event in seq order, oldest first, read in batches */
  iterateAudit(): AsyncIterable<AuditEvent>;
  auditHead(): Promise<{ seq: number; hash: string } | null>;
  /** events after `seq` (oldest first, at most `limit`), for change feeds */
  auditSince(seq: number, limit: number): Promise<AuditEvent[]>;

  counts(): Promise<StoreCounts>;
  /** decisions of the last `minutes` minutes (by decided_at) per minute and verdict, and the `top` most blocked commands */
  decisionStats(minutes: number, top: number): Promise<DecisionStats>;
}
