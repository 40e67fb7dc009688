/**
 * The one store interface the gateway (and later the daemon) uses. Two backends implement it:
 * SQLite (embedded default, `sqlite.ts`) and PostgreSQL (shared control plane, `postgres.ts`). The
 * contract suite in test/store/contract.ts runs against every backend.
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
import type { ApprovalRecord, ApprovalStatus, DeviceRequestRecord, Envelope, PairingRecord, PairingStatus, PublicKeys, SignedDecision, DecisionValue } from "../protocol/approvals";
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

// ---------------------------------------------------------------- sign-in, pairings, approvals (docs/approvals.md)

export interface NewDeviceRequest {
  id: string;
  /** SHA-256 hex of the device_code; the code itself is never stored */
  device_hash: string;
  /** 8 characters of CODE_ALPHABET, normalized (no dash) */
  user_code: string;
  client_name: string | null;
  /** seconds between polls */
  interval: number;
  expires_at: string;
}

/** A device-flow request as the store keeps it; `status` is `expired` once past `expires_at` (unless denied or used). */
export interface DeviceRequest extends DeviceRequestRecord {
  id: string;
  interval: number;
  decided_at: string | null;
  decided_by: string | null;
  /** the identity a user token will act as (`user:<id>`), once approved */
  user: string | null;
}

/** What a poll of the device flow found (the store records the poll time; only `issued` creates a token). */
export type DevicePoll =
  | { status: "unknown" }
  | { status: "pending" | "slow_down"; interval: number }
  | { status: "expired" | "denied" | "used" }
  | { status: "issued"; token: TokenRecord; user: string };

export interface NewPairing {
  id: string;
  client_id: string;
  /** the signed-in user who pairs (`user:<id>`) */
  user: string;
  label: string | null;
  daemon: PublicKeys;
  /** SHA-256 hex of the normalized pairing code */
  code_hash: string;
  code_expires_at: string;
}

/** A pairing as stored: presence (`approver_online`) is the gateway's, not the store's. */
export type StoredPairing = Omit<PairingRecord, "approver_online">;

export interface PairingFilter {
  user?: string;
  client_id?: string;
  status?: PairingStatus;
}

export interface NewApproval {
  id: string;
  pairing_id: string;
  client_id: string;
  session_id: string | null;
  expires_at: string;
  envelope: Envelope;
}

export interface ApprovalFilter {
  status?: ApprovalStatus;
  pairing_id?: string;
  client_id?: string;
}

export interface VerificationInput {
  ok: boolean;
  reason: string;
  verify_ms: number;
  total_ms: number;
}

/**
 * A small message between the processes sharing one store (gateway replicas on one PostgreSQL
 * database): ids and metadata only, never secrets or envelopes. Its JSON is at most
 * `STORE_SIGNAL_MAX_BYTES` (UTF-8) long.
 */
export interface StoreSignal {
  type: string;
  data: unknown;
}

/** PostgreSQL's NOTIFY payload limit is 8000 bytes; the rest is headroom */
export const STORE_SIGNAL_MAX_BYTES = 7_900;

/**
 * Sent by the store itself to its own subscribers (never broadcast) when its link was re-established
 * after a drop: signals broadcast meanwhile are lost, so subscribers re-announce their state and re-read.
 */
export const STORE_RESYNC = "store.resync";

export interface StoreSubscription {
  readonly ready: Promise<void>;
  unsubscribe(): void;
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

  // -------------------------------------------------------- sign-in (device flow)

  /** audits auth.device_started; conflict when a live request already has this user code */
  createDeviceRequest(request: NewDeviceRequest, actor: string): Promise<DeviceRequest>;
  /** the newest request with this (normalized) user code, or null */
  getDeviceRequest(userCode: string): Promise<DeviceRequest | null>;
  /**
   * approve (recording the user the token will act as) or deny a pending request: audits
   * auth.device_approved / auth.device_denied. not_found; `expired` past its expiry; conflict when
   * already decided.
   */
  decideDeviceRequest(userCode: string, decision: { approve: boolean; user: string }, actor: string): Promise<DeviceRequest>;
  /**
   * A poll by device-code hash: records the poll time; a poll sooner than `interval` seconds after
   * the previous one is `slow_down` (and the interval grows by 5 s); an approved request creates
   * `token` (kind user, audited token.created) and becomes `used`.
   */
  pollDeviceRequest(deviceHash: string, token: NewToken): Promise<DevicePoll>;
  /** a user or approver token's binding: who a user token is, which pairing an approver token serves */
  getTokenBinding(tokenId: string): Promise<{ user: string | null; pairing_id: string | null } | null>;

  // -------------------------------------------------------- pairings

  /** a pending pairing with its code: audits pairing.created; not_found for an unknown client, conflict for a revoked one */
  createPairing(pairing: NewPairing, actor: string): Promise<StoredPairing>;
  /**
   * Claims a pending pairing by its code hash (single use): stores the approver's keys, creates the
   * approver `token` bound to the pairing, audits pairing.claimed. not_found for an unknown or used
   * code, `expired` for an expired one.
   */
  claimPairing(codeHash: string, claim: { approver: PublicKeys; label: string | null }, token: NewToken): Promise<{ pairing: StoredPairing; token: TokenRecord }>;
  getPairing(id: string): Promise<StoredPairing | null>;
  /** newest first, at most 500 */
  listPairings(filter: PairingFilter): Promise<StoredPairing[]>;
  /**
   * Unpairs: status removed, the pairing's approver tokens revoked, its pending approvals expired
   * (each audited approval.expired), audits pairing.removed. not_found; conflict when already removed.
   */
  removePairing(id: string, actor: string): Promise<{ pairing: StoredPairing; tokens_revoked: string[]; approvals_expired: string[] }>;

  // -------------------------------------------------------- approvals

  /**
   * A pending approval (audits approval.requested). The pairing must be paired and belong to the
   * client (else conflict); idempotent for an identical retry; conflict for another with the same id.
   */
  createApproval(approval: NewApproval, actor: string): Promise<ApprovalRecord>;
  getApproval(id: string): Promise<ApprovalRecord | null>;
  listApprovals(filter: ApprovalFilter, page: PageRequest): Promise<Page<ApprovalRecord>>;
  /**
   * Stores the signed decision verbatim and sets approved/denied (audits approval.approved /
   * approval.denied). not_found; `expired` when past expires_at or expired; conflict when decided.
   */
  decideApproval(id: string, decision: SignedDecision & { decision: DecisionValue }, actor: string): Promise<ApprovalRecord>;
  /** every pending approval past its expiry becomes expired (each audited approval.expired, actor system) */
  expireApprovals(): Promise<ApprovalRecord[]>;
  /** the daemon's verifier result, once per approval: audits approval.verified (ok) or approval.rejected */
  recordVerification(id: string, result: VerificationInput, actor: string): Promise<ApprovalRecord>;
  approvalCounts(): Promise<Record<ApprovalStatus, number>>;

  // -------------------------------------------------------- signals between processes (optional)

  /**
   * Optional, for backends several processes share (PostgreSQL: LISTEN/NOTIFY on one channel):
   * sends `signal` to every subscriber of every process on this store, this process's included,
   * at most once each, in the order this process sent them; not inside any transaction (call it
   * after the write committed). Rejects `invalid_input` when its JSON is longer than
   * `STORE_SIGNAL_MAX_BYTES`, `unavailable` when the database is. SQLite (one process) has none.
   */
  broadcast?(signal: StoreSignal): Promise<void>;
  /**
   * Registers `onSignal` for every broadcast signal (and `STORE_RESYNC` after a reconnect); returns
   * the handle: `ready` resolves once signals are being received (it never rejects: while the
   * database is down the store keeps retrying), `unsubscribe()` removes the registration.
   */
  subscribe?(onSignal: (signal: StoreSignal) => void): StoreSubscription;

  counts(): Promise<StoreCounts>;
  /** decisions of the last `minutes` minutes (by decided_at) per minute and verdict, and the `top` most blocked commands */
  decisionStats(minutes: number, top: number): Promise<DecisionStats>;
}
