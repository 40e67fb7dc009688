/**
 * `$AIRLOCK_HOME/daemon.db` (bun:sqlite, WAL, mode 0600): sessions, the cached policy bundle of
 * each role, the audit outbox, the enrollment (client credential) and the change-feed cursor; for
 * approvals (docs/approvals.md) the daemon's key pairs (JWK), the pairing, the requests it made with
 * the sealed action and its hash, the nonces it accepted (replay) and the grants of approved shell
 * strings.
 *
 * - Open: the file is created 0600 before SQLite touches it (its -wal/-shm files copy that mode);
 *   `busy_timeout` first, then WAL (retried: BUN-NOTES), then versioned migrations, each inside its
 *   own `BEGIN IMMEDIATE`. A database written by a newer airlock is refused.
 * - `synchronous = NORMAL`: a process crash (kill -9) loses no committed row; a power loss may lose
 *   the last few (BUN-NOTES: FULL would cap checks at ~5.5k/s).
 * - Every write that belongs to a check (implicit session, outbox rows) runs in one `tx()`.
 * - The outbox is ordered by `seq` (AUTOINCREMENT: never reused after a delete); rows leave it only
 *   when the gateway acknowledged them, or move to `outbox_rejected` when it refused them for good.
 */
import type { Database, Statement } from "bun:sqlite";
import type { DaemonSession } from "../protocol/daemon";
import { openSqliteFile, type Migration } from "../store/sqlite-file";

const BUSY_TIMEOUT_MS = 5000;
const WAL_RETRY_MS = 5000;


const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial daemon schema",
    sql: `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  agent TEXT NOT NULL,
  role TEXT NOT NULL,
  cwd TEXT NOT NULL,
  pid INTEGER,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'running', 'exited', 'revoked')),
  implicit INTEGER NOT NULL DEFAULT 0 CHECK (implicit IN (0, 1)),
  agent_pid INTEGER,
  exit_code INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  ended_at TEXT,
  -- implicit sessions: when the agent process was seen gone (a reused pid then opens a new session)
  agent_gone_at TEXT
);
CREATE INDEX sessions_implicit ON sessions (agent, agent_pid) WHERE implicit = 1 AND agent_gone_at IS NULL;
CREATE INDEX sessions_created ON sessions (created_at);

CREATE TABLE bundles (
  role TEXT PRIMARY KEY,
  -- {"role": RoleRecord, "policies": PolicyRecord[]} as the gateway sent it
  documents TEXT NOT NULL,
  etag TEXT NOT NULL,
  gateway_url TEXT NOT NULL,
  -- the last time the gateway confirmed this bundle (200 or 304), ms since the epoch
  fetched_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('session.create', 'session.status', 'decision')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);

-- rows the gateway refused for good (a 4xx other than 401/408/429): kept, never silently dropped
CREATE TABLE outbox_rejected (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  rejected_at TEXT NOT NULL,
  error TEXT NOT NULL
);

CREATE TABLE enrollment (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  gateway_url TEXT NOT NULL,
  client_id TEXT NOT NULL,
  client_token TEXT NOT NULL,
  name TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  -- set when the gateway said the credential is revoked (client.revoked event, or a 401)
  revoked_at TEXT,
  revoked_reason TEXT
);
`,
  },
  {
    version: 2,
    name: "sessions opened by agent hooks",
    sql: `
-- a session a hook opened: the hook's agent (claude, codex, cursor, gemini) and the agent's own session id
ALTER TABLE sessions ADD COLUMN hook_agent TEXT;
ALTER TABLE sessions ADD COLUMN agent_session_id TEXT;
CREATE INDEX sessions_agent_session ON sessions (hook_agent, agent_session_id) WHERE agent_session_id IS NOT NULL;
`,
  },
  {
    version: 3,
    name: "approvals: daemon keys, pairing, requests, consumed nonces",
    sql: `
-- the daemon's identity key pairs (docs/approvals.md): Ed25519 + X25519 private keys as a JWK key file
CREATE TABLE approval_keys (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key_file TEXT NOT NULL,
  sign_key TEXT NOT NULL,
  box_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- the current pairing: whose signatures the daemon accepts
CREATE TABLE pairing (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  pairing_id TEXT NOT NULL,
  approver_sign_key TEXT NOT NULL,
  approver_box_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  label TEXT,
  paired_at TEXT NOT NULL
);

-- every approval request this daemon made, with the action it sealed and its hash
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  pairing_id TEXT NOT NULL,
  -- the check decision that asked for it
  decision_id TEXT NOT NULL,
  session_id TEXT,
  -- sha-256 of what makes two checks "the same action": kind, command, cwd, session
  match_key TEXT NOT NULL,
  -- the canonical JSON of the sealed ApprovalAction, and base64url(sha-256) of it
  action TEXT NOT NULL,
  action_hash TEXT NOT NULL,
  -- the request's decision row (GatewayDecision JSON): final decisions are copies of it
  decision TEXT NOT NULL,
  -- the normalized commands that needed approval (JSON array): grants for the shims under a hook
  commands TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'rejected', 'expired')),
  reason TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  resolved_at TEXT,
  -- single use: set when a caller ran the action on this approval
  used_at TEXT
);
CREATE INDEX approvals_match ON approvals (match_key, created_at);

-- decisions the verifier accepted: a request id or a nonce is never accepted twice
CREATE TABLE approval_nonces (
  nonce TEXT PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  seen_at TEXT NOT NULL
) WITHOUT ROWID;

-- an approved shell string approves the commands it runs: their shims (same session) pass once each
CREATE TABLE approval_grants (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  approval_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  command TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX approval_grants_lookup ON approval_grants (session_id, command) WHERE used_at IS NULL;
`,
  },
];

export const DAEMON_DB_VERSION = MIGRATIONS.at(-1)!.version;

export type SessionStatus = DaemonSession["status"];
export type OutboxKind = "session.create" | "session.status" | "decision";

export interface SessionRow {
  id: string;
  token_hash: string;
  agent: string;
  role: string;
  cwd: string;
  pid: number | null;
  user: string;
  host: string;
  status: SessionStatus;
  implicit: number;
  agent_pid: number | null;
  exit_code: number | null;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
  agent_gone_at: string | null;
  hook_agent: string | null;
  agent_session_id: string | null;
}

export interface BundleRow {
  role: string;
  documents: string;
  etag: string;
  gateway_url: string;
  fetched_at: number;
}

export interface OutboxRow {
  seq: number;
  kind: OutboxKind;
  payload: string;
  created_at: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

export interface EnrollmentRow {
  gateway_url: string;
  client_id: string;
  client_token: string;
  name: string;
  enrolled_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface ApprovalKeysRow {
  key_file: string;
  sign_key: string;
  box_key: string;
  created_at: string;
}

export interface PairingRow {
  pairing_id: string;
  approver_sign_key: string;
  approver_box_key: string;
  fingerprint: string;
  label: string | null;
  paired_at: string;
}

export type ApprovalStatusLocal = "pending" | "approved" | "denied" | "rejected" | "expired";

export interface ApprovalRow {
  id: string;
  pairing_id: string;
  decision_id: string;
  session_id: string | null;
  match_key: string;
  action: string;
  action_hash: string;
  decision: string;
  commands: string;
  status: ApprovalStatusLocal;
  reason: string | null;
  created_at: string;
  expires_at: string;
  resolved_at: string | null;
  used_at: string | null;
}

export function sessionView(row: SessionRow): DaemonSession {
  return {
    id: row.id,
    agent: row.agent,
    role: row.role,
    cwd: row.cwd,
    pid: row.pid,
    user: row.user,
    host: row.host,
    status: row.status,
    implicit: row.implicit === 1,
    agent_session_id: row.agent_session_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const APPROVAL_COLS =
  "id, pairing_id, decision_id, session_id, match_key, action, action_hash, decision, commands, status, reason, created_at, expires_at, resolved_at, used_at";

const SESSION_COLS =
  "id, token_hash, agent, role, cwd, pid, user, host, status, implicit, agent_pid, exit_code, created_at, updated_at, ended_at, agent_gone_at, hook_agent, agent_session_id";

/** A session to insert: its row's fields the caller chooses (times and exit are the database's) */
export type NewSession = Omit<SessionRow, "implicit" | "exit_code" | "created_at" | "updated_at" | "ended_at" | "agent_gone_at" | "hook_agent" | "agent_session_id"> & {
  implicit: boolean;
  /** a session a hook opened: the hook's agent and the agent's own session id */
  hook_agent?: string | null;
  agent_session_id?: string | null;
};

export class DaemonDb {
  readonly path: string;
  private readonly db: Database;
  private readonly now: () => Date;
  private readonly s: ReturnType<DaemonDb["prepare"]>;

  constructor(db: Database, path: string, now: () => Date) {
    this.db = db;
    this.path = path;
    this.now = now;
    this.s = this.prepare();
  }

  private prepare() {
    const p = <R = unknown>(sql: string) => this.db.prepare(sql) as Statement<R>;
    return {
      begin: p("BEGIN IMMEDIATE"),
      commit: p("COMMIT"),
      rollback: p("ROLLBACK"),
      dataVersion: p<{ data_version: number }>("PRAGMA data_version"),
      metaGet: p<{ value: string }>("SELECT value FROM meta WHERE key = ?"),
      metaSet: p("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      metaDel: p("DELETE FROM meta WHERE key = ?"),

      sessionGet: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE id = ?`),
      sessionInsert: p(
        "INSERT INTO sessions (id, token_hash, agent, role, cwd, pid, user, host, status, implicit, agent_pid, created_at, updated_at, hook_agent, agent_session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      sessionByAgentSession: p<SessionRow>(
        `SELECT ${SESSION_COLS} FROM sessions WHERE agent_session_id = ? AND hook_agent = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      ),
      sessionLinkAgentSession: p("UPDATE sessions SET hook_agent = ?, agent_session_id = ?, updated_at = ? WHERE id = ?"),
      sessionImplicit: p<SessionRow>(
        `SELECT ${SESSION_COLS} FROM sessions WHERE implicit = 1 AND agent_gone_at IS NULL AND agent = ? AND agent_pid = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      ),
      sessionList: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      sessionListStatus: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      sessionSetStatus: p("UPDATE sessions SET status = ?, updated_at = ?, ended_at = ?, exit_code = coalesce(?, exit_code), pid = coalesce(?, pid) WHERE id = ?"),
      sessionSetPid: p("UPDATE sessions SET pid = ?, updated_at = ? WHERE id = ?"),
      sessionGone: p("UPDATE sessions SET agent_gone_at = ? WHERE id = ?"),
      sessionImplicitWatch: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE implicit = 1 AND agent_gone_at IS NULL`),
      sessionCounts: p<{ status: SessionStatus; n: number }>("SELECT status, count(*) AS n FROM sessions GROUP BY status"),
      sessionLiveRoles: p<{ role: string }>("SELECT DISTINCT role FROM sessions WHERE status IN ('ready', 'running')"),

      bundleGet: p<BundleRow>("SELECT role, documents, etag, gateway_url, fetched_at FROM bundles WHERE role = ?"),
      bundleAll: p<BundleRow>("SELECT role, documents, etag, gateway_url, fetched_at FROM bundles ORDER BY role"),
      bundlePut: p(
        "INSERT INTO bundles (role, documents, etag, gateway_url, fetched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (role) DO UPDATE SET documents = excluded.documents, etag = excluded.etag, gateway_url = excluded.gateway_url, fetched_at = excluded.fetched_at",
      ),
      bundleTouch: p("UPDATE bundles SET fetched_at = ? WHERE role = ? AND etag = ?"),
      bundleDel: p("DELETE FROM bundles WHERE role = ?"),
      bundleClear: p("DELETE FROM bundles"),

      outboxInsert: p("INSERT INTO outbox (kind, payload, created_at) VALUES (?, ?, ?)"),
      outboxHead: p<OutboxRow>("SELECT seq, kind, payload, created_at, attempts, next_attempt_at, last_error FROM outbox ORDER BY seq LIMIT ?"),
      outboxDelete: p("DELETE FROM outbox WHERE seq = ?"),
      outboxDeleteUpTo: p("DELETE FROM outbox WHERE seq >= ? AND seq <= ?"),
      outboxRetry: p("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ?"),
      outboxReady: p("UPDATE outbox SET next_attempt_at = 0 WHERE next_attempt_at > 0"),
      outboxStats: p<{ n: number; oldest: string | null }>("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox"),
      outboxAll: p<OutboxRow>("SELECT seq, kind, payload, created_at, attempts, next_attempt_at, last_error FROM outbox ORDER BY seq"),
      rejectedInsert: p("INSERT OR REPLACE INTO outbox_rejected (seq, kind, payload, created_at, rejected_at, error) VALUES (?, ?, ?, ?, ?, ?)"),
      rejectedCount: p<{ n: number }>("SELECT count(*) AS n FROM outbox_rejected"),

      enrollmentGet: p<EnrollmentRow>("SELECT gateway_url, client_id, client_token, name, enrolled_at, revoked_at, revoked_reason FROM enrollment WHERE id = 1"),
      enrollmentSet: p(
        "INSERT INTO enrollment (id, gateway_url, client_id, client_token, name, enrolled_at, revoked_at, revoked_reason) VALUES (1, ?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT (id) DO UPDATE SET gateway_url = excluded.gateway_url, client_id = excluded.client_id, client_token = excluded.client_token, name = excluded.name, enrolled_at = excluded.enrolled_at, revoked_at = NULL, revoked_reason = NULL",
      ),
      keysGet: p<ApprovalKeysRow>("SELECT key_file, sign_key, box_key, created_at FROM approval_keys WHERE id = 1"),
      keysInsert: p("INSERT OR IGNORE INTO approval_keys (id, key_file, sign_key, box_key, created_at) VALUES (1, ?, ?, ?, ?)"),
      pairingGet: p<PairingRow>("SELECT pairing_id, approver_sign_key, approver_box_key, fingerprint, label, paired_at FROM pairing WHERE id = 1"),
      pairingSet: p(
        "INSERT INTO pairing (id, pairing_id, approver_sign_key, approver_box_key, fingerprint, label, paired_at) VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pairing_id = excluded.pairing_id, approver_sign_key = excluded.approver_sign_key, approver_box_key = excluded.approver_box_key, fingerprint = excluded.fingerprint, label = excluded.label, paired_at = excluded.paired_at",
      ),
      pairingDel: p("DELETE FROM pairing WHERE id = 1"),
      approvalGet: p<ApprovalRow>(`SELECT ${APPROVAL_COLS} FROM approvals WHERE id = ?`),
      approvalInsert: p(
        "INSERT INTO approvals (id, pairing_id, decision_id, session_id, match_key, action, action_hash, decision, commands, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
      ),
      approvalsByKey: p<ApprovalRow>(`SELECT ${APPROVAL_COLS} FROM approvals WHERE match_key = ? AND pairing_id = ? AND used_at IS NULL AND status IN ('pending', 'approved') AND expires_at > ? ORDER BY created_at DESC, rowid DESC`),
      approvalResolve: p("UPDATE approvals SET status = ?, reason = ?, resolved_at = ? WHERE id = ? AND status = 'pending'"),
      approvalUse: p("UPDATE approvals SET used_at = ? WHERE id = ? AND status = 'approved' AND used_at IS NULL"),
      approvalsCancelPairing: p("UPDATE approvals SET status = 'expired', reason = ?, resolved_at = ? WHERE status = 'pending'"),
      nonceSeen: p<{ n: number }>("SELECT count(*) AS n FROM approval_nonces WHERE nonce = ? OR request_id = ?"),
      nonceInsert: p("INSERT INTO approval_nonces (nonce, request_id, seen_at) VALUES (?, ?, ?)"),
      grantInsert: p("INSERT INTO approval_grants (approval_id, session_id, command, expires_at) VALUES (?, ?, ?, ?)"),
      grantFind: p<{ id: number; approval_id: string }>("SELECT id, approval_id FROM approval_grants WHERE session_id = ? AND command = ? AND used_at IS NULL AND expires_at > ? ORDER BY id LIMIT 1"),
      grantUse: p("UPDATE approval_grants SET used_at = ? WHERE id = ? AND used_at IS NULL"),

      enrollmentRevoke: p("UPDATE enrollment SET revoked_at = ?, revoked_reason = ? WHERE id = 1 AND client_id = ? AND revoked_at IS NULL"),
    };
  }

  /** Runs `fn` inside one `BEGIN IMMEDIATE` transaction; a throw rolls everything back. */
  tx<T>(fn: () => T): T {
    this.s.begin.run();
    try {
      const result = fn();
      this.s.commit.run();
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.s.rollback.run();
      throw error;
    }
  }

  /** Changes whenever another connection (another process, `airlock client enroll`) commits. */
  dataVersion(): number {
    return this.s.dataVersion.get()!.data_version;
  }

  close(): void {
    this.db.close();
  }

  // ---------------------------------------------------------------- meta

  meta(key: string): string | null {
    return this.s.metaGet.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.s.metaSet.run(key, value);
  }

  feedCursor(): number {
    return Number(this.meta("feed_cursor") ?? "0");
  }

  setFeedCursor(seq: number): void {
    this.setMeta("feed_cursor", String(seq));
  }

  shippedTotal(): number {
    return Number(this.meta("shipped_total") ?? "0");
  }

  // ---------------------------------------------------------------- sessions

  session(id: string): SessionRow | null {
    return this.s.sessionGet.get(id) ?? null;
  }

  insertSession(session: NewSession): SessionRow {
    const at = this.now().toISOString();
    this.s.sessionInsert.run(
      session.id,
      session.token_hash,
      session.agent,
      session.role,
      session.cwd,
      session.pid,
      session.user,
      session.host,
      session.status,
      session.implicit ? 1 : 0,
      session.agent_pid,
      at,
      at,
      session.hook_agent ?? null,
      session.agent_session_id ?? null,
    );
    return this.s.sessionGet.get(session.id)!;
  }

  /** The latest session a hook of `hookAgent` opened for the agent's session `agentSessionId` (any status). */
  agentSession(hookAgent: string, agentSessionId: string): SessionRow | null {
    return this.s.sessionByAgentSession.get(agentSessionId, hookAgent) ?? null;
  }

  /** Records that a session (found by ancestry) is also the agent session a hook names. */
  linkAgentSession(id: string, hookAgent: string, agentSessionId: string): void {
    this.s.sessionLinkAgentSession.run(hookAgent, agentSessionId, this.now().toISOString(), id);
  }

  /** The latest implicit session of this agent process (any status), unless the process was seen gone. */
  implicitSession(agent: string, agentPid: number): SessionRow | null {
    return this.s.sessionImplicit.get(agent, agentPid) ?? null;
  }

  listSessions(limit: number, status?: SessionStatus): SessionRow[] {
    return status === undefined ? this.s.sessionList.all(limit) : this.s.sessionListStatus.all(status, limit);
  }

  setSessionStatus(id: string, status: SessionStatus, extra: { exit_code?: number | null; pid?: number | null } = {}): void {
    const at = this.now().toISOString();
    const ended = status === "exited" || status === "revoked" ? at : null;
    this.s.sessionSetStatus.run(status, at, ended, extra.exit_code ?? null, extra.pid ?? null, id);
  }

  setSessionPid(id: string, pid: number): void {
    this.s.sessionSetPid.run(pid, this.now().toISOString(), id);
  }

  markAgentGone(id: string): void {
    this.s.sessionGone.run(this.now().toISOString(), id);
  }

  watchedImplicitSessions(): SessionRow[] {
    return this.s.sessionImplicitWatch.all();
  }

  sessionCounts(): Record<SessionStatus, number> {
    const counts: Record<SessionStatus, number> = { ready: 0, running: 0, exited: 0, revoked: 0 };
    for (const row of this.s.sessionCounts.all()) counts[row.status] = row.n;
    return counts;
  }

  liveRoles(): string[] {
    return this.s.sessionLiveRoles.all().map((r) => r.role);
  }

  // ---------------------------------------------------------------- bundles

  bundle(role: string): BundleRow | null {
    return this.s.bundleGet.get(role) ?? null;
  }

  bundles(): BundleRow[] {
    return this.s.bundleAll.all();
  }

  putBundle(row: BundleRow): void {
    this.s.bundlePut.run(row.role, row.documents, row.etag, row.gateway_url, row.fetched_at);
  }

  touchBundle(role: string, etag: string, at: number): void {
    this.s.bundleTouch.run(at, role, etag);
  }

  deleteBundle(role: string): void {
    this.s.bundleDel.run(role);
  }

  // ---------------------------------------------------------------- outbox

  enqueue(kind: OutboxKind, payload: unknown): number {
    return Number(this.s.outboxInsert.run(kind, JSON.stringify(payload), this.now().toISOString()).lastInsertRowid);
  }

  outboxHead(limit: number): OutboxRow[] {
    return this.s.outboxHead.all(limit);
  }

  outboxAll(): OutboxRow[] {
    return this.s.outboxAll.all();
  }

  /** The gateway acknowledged these rows: they leave the outbox, and the shipped total grows, atomically. */
  acknowledge(rows: readonly OutboxRow[]): void {
    this.tx(() => {
      for (const row of rows) this.s.outboxDelete.run(row.seq);
      this.setMeta("shipped_total", String(this.shippedTotal() + rows.length));
    });
  }

  /** The gateway refused this row for good: it moves to outbox_rejected (kept for inspection). */
  reject(row: OutboxRow, error: string): void {
    this.tx(() => {
      this.s.rejectedInsert.run(row.seq, row.kind, row.payload, row.created_at, this.now().toISOString(), error.slice(0, 2000));
      this.s.outboxDelete.run(row.seq);
    });
  }

  retryLater(rows: readonly OutboxRow[], at: number, error: string): void {
    this.tx(() => {
      for (const row of rows) this.s.outboxRetry.run(at, error.slice(0, 2000), row.seq);
    });
  }

  /** The gateway is back: every row may be tried now. */
  outboxReadyNow(): void {
    this.s.outboxReady.run();
  }

  outboxStats(): { pending: number; oldest_at: string | null; rejected: number } {
    const row = this.s.outboxStats.get()!;
    return { pending: row.n, oldest_at: row.oldest, rejected: this.s.rejectedCount.get()!.n };
  }

  // ---------------------------------------------------------------- enrollment

  enrollment(): EnrollmentRow | null {
    return this.s.enrollmentGet.get() ?? null;
  }

  /** A new client credential; the change-feed cursor and the cached bundles belonged to the old one. */
  setEnrollment(e: { gateway_url: string; client_id: string; client_token: string; name: string }): void {
    this.tx(() => {
      this.s.enrollmentSet.run(e.gateway_url, e.client_id, e.client_token, e.name, this.now().toISOString());
      this.s.metaDel.run("feed_cursor");
      this.s.bundleClear.run();
    });
  }

  markRevoked(clientId: string, reason: string): boolean {
    return this.s.enrollmentRevoke.run(this.now().toISOString(), reason, clientId).changes === 1;
  }

  // ---------------------------------------------------------------- approvals (docs/approvals.md)

  approvalKeys(): ApprovalKeysRow | null {
    return this.s.keysGet.get() ?? null;
  }

  /** Stores the daemon's keys unless some are there already (two first callers: the first wins); returns the stored ones. */
  putApprovalKeys(row: Omit<ApprovalKeysRow, "created_at">): ApprovalKeysRow {
    this.s.keysInsert.run(row.key_file, row.sign_key, row.box_key, this.now().toISOString());
    return this.s.keysGet.get()!;
  }

  pairing(): PairingRow | null {
    return this.s.pairingGet.get() ?? null;
  }

  /** A new pairing replaces the old one; requests still pending for the old one can no longer be approved. */
  setPairing(row: Omit<PairingRow, "paired_at">): PairingRow {
    return this.tx(() => {
      const at = this.now().toISOString();
      const old = this.s.pairingGet.get();
      if (old && old.pairing_id !== row.pairing_id) this.s.approvalsCancelPairing.run(`the pairing ${old.pairing_id} was replaced`, at);
      this.s.pairingSet.run(row.pairing_id, row.approver_sign_key, row.approver_box_key, row.fingerprint, row.label, at);
      return this.s.pairingGet.get()!;
    });
  }

  /** Removes the pairing (and expires its pending requests); false when there was none. */
  deletePairing(): boolean {
    return this.tx(() => {
      const old = this.s.pairingGet.get();
      if (!old) return false;
      this.s.approvalsCancelPairing.run(`unpaired (${old.pairing_id})`, this.now().toISOString());
      this.s.pairingDel.run();
      return true;
    });
  }

  approval(id: string): ApprovalRow | null {
    return this.s.approvalGet.get(id) ?? null;
  }

  insertApproval(row: Pick<ApprovalRow, "id" | "pairing_id" | "decision_id" | "session_id" | "match_key" | "action" | "action_hash" | "decision" | "commands" | "expires_at">): void {
    this.s.approvalInsert.run(row.id, row.pairing_id, row.decision_id, row.session_id, row.match_key, row.action, row.action_hash, row.decision, row.commands, this.now().toISOString(), row.expires_at);
  }

  /** Unused, unexpired requests of the same action under the current pairing, newest first. */
  approvalsFor(matchKey: string, pairingId: string, nowIso: string): ApprovalRow[] {
    return this.s.approvalsByKey.all(matchKey, pairingId, nowIso);
  }

  /** pending → a final status; false when it was no longer pending. */
  resolveApproval(id: string, status: Exclude<ApprovalStatusLocal, "pending">, reason: string): boolean {
    return this.s.approvalResolve.run(status, reason, this.now().toISOString(), id).changes === 1;
  }

  /** Single use: true for the one caller that gets to run the approved action. */
  useApproval(id: string): boolean {
    return this.s.approvalUse.run(this.now().toISOString(), id).changes === 1;
  }

  /** Whether a decision with this nonce, or any accepted decision for this request, was seen before. */
  nonceSeen(requestId: string, nonce: string): boolean {
    return this.s.nonceSeen.get(nonce, requestId)!.n > 0;
  }

  /** Records an accepted decision; false when its nonce or request id is already there (a replay). */
  recordNonce(requestId: string, nonce: string): boolean {
    try {
      this.s.nonceInsert.run(nonce, requestId, this.now().toISOString());
      return true;
    } catch (error) {
      if (String((error as { code?: unknown }).code ?? "").startsWith("SQLITE_CONSTRAINT")) return false;
      throw error;
    }
  }

  addGrant(approvalId: string, sessionId: string, command: string, expiresAt: string): void {
    this.s.grantInsert.run(approvalId, sessionId, command, expiresAt);
  }

  /** Consumes a grant for this session's command; the approval it came from, or null. */
  useGrant(sessionId: string, command: string, nowIso: string): string | null {
    const grant = this.s.grantFind.get(sessionId, command, nowIso);
    if (!grant) return null;
    return this.s.grantUse.run(nowIso, grant.id).changes === 1 ? grant.approval_id : null;
  }
}

/** Opens (creating when missing) and migrates `daemon.db`. Synchronous. */
export function openDaemonDb(path: string, options: { now?: () => Date } = {}): DaemonDb {
  const now = options.now ?? (() => new Date());
  const db = openSqliteFile(path, { label: "the daemon database", migrations: MIGRATIONS, now, busyTimeoutMs: BUSY_TIMEOUT_MS, walRetryMs: WAL_RETRY_MS });
  try {
    return new DaemonDb(db, path, now);
  } catch (error) {
    db.close();
    throw error;
  }
}
