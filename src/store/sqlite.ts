/**
 * The embedded store (DESIGN 6): one SQLite file through bun:sqlite, WAL, versioned migrations.
 *
 * - Open: `busy_timeout` first, then WAL (retried on SQLITE_BUSY: two processes opening a brand-new
 *   file at once can both hit it), `synchronous=NORMAL`, `foreign_keys=ON`, then each pending
 *   migration inside its own `BEGIN IMMEDIATE`. A database written by a newer airlock is refused.
 *   The file is created 0600 (it holds token hashes); SQLite gives its -wal/-shm files the same mode.
 * - Every mutation runs in one `BEGIN IMMEDIATE` transaction that also appends its audit event, so
 *   the chain is extended under the write lock, its seq stays gapless and the head row (seq, hash)
 *   moves with it. A failed mutation rolls back and leaves no event.
 * - Audit `created_at` never decreases along `seq` (an event is stamped max(clock, head time)), so a
 *   time range is a seq range: filtered audit pages walk an index in seq order and stop after a page.
 * - Methods are synchronous underneath (bun:sqlite) and return promises to keep the interface the
 *   PostgreSQL backend shares.
 * - Decision ingest is the hot path: a batch is validated and everything its rows and events need
 *   but the chain's head is rendered outside the transaction (`ingestValues`: the hashed text's fixed
 *   parts, `eventTextParts`, the same bytes as `hashEvent`'s); one transaction (`createIngestKernel`)
 *   finds the duplicates in one statement, seals each event onto the chain, writes the rows 100 per
 *   statement. `ingestDecisionBatches` lets the gateway commit many requests' batches in one
 *   transaction (group commit). A store that ingests in earnest runs that transaction on a writer
 *   thread with its own connection (`IngestWriter`), so requests are parsed and validated while the
 *   previous ones are written; a request is answered once its COMMIT has returned.
 * - A store that writes in earnest checkpoints its WAL from a worker thread (`Checkpointer`), so no
 *   commit pays for copying pages into the database file.
 */
import { Database, type SQLQueryBindings, type Statement } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { chainedEventText, eventTextAfter, eventTextParts, sealEvent, type AuditEvent } from "../audit/chain";
import { canonicalJson, canonicalString } from "../audit/canonical";
import { auditCode, type AuditEventType } from "../audit/events";
import { AirlockError, type ErrorDetail } from "../protocol/errors";
import {
  type ClientRecord,
  type DecisionRecord,
  type JsonObject,
  type Page,
  type PolicyRecord,
  type RoleRecord,
  type SessionRecord,
  type SessionStatus,
  type TokenKind,
  type TokenRecord,
  type VerdictKind,
} from "../protocol/records";
import {
  checkNewSession,
  checkNewToken,
  checkSessionStatus,
  checkTransition,
  checkVerification,
  clientNotFound,
  DECISION_EVENT,
  documentFor,
  documentId,
  invalid,
  isoTime,
  MAX_PAGE,
  optionalIso,
  pageLimit,
  rolePolicyIds,
  str,
  validDecisions,
  VERDICTS,
  versionCheck,
  type ValidDecision,
} from "./_checks";
import { decodeCursor, encodeCursor } from "./_cursor";
import { sha256Hex } from "./_hash";
import { keysetPage, QMARK, Where } from "./_where";
import { clientEnrolledDetails, pairingClaimedDetails, sessionCreatedDetails, tokenCreatedDetails, verificationDetails } from "./_events";
import { AUDIT_COLS, auditEvent, DECISION_COLS, decisionRecord, docRecord, sessionRecord, TOKEN_COLS, tokenRecord, roleBundle, type DocRow, type TokenRow } from "./_records";
import { createIngestKernel, INGEST_FIELDS, IngestWriter, packValues, type ChainHead, type IngestBatch, type IngestOutcome, type IngestResult, type Submission } from "./_ingest-worker";
import { MIGRATIONS } from "./_migrations";
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus, type DecisionValue, type PublicKeys, type SignedDecision } from "../protocol/approvals";
import { APPROVAL_COLS, approvalRecord, DEVICE_COLS, deviceExpired, deviceRequest, envelopeJson, PAIRING_COLS, pairingRecord, pendingPoll, type ApprovalRow, type DeviceRow, type PairingRow } from "./_approvals";
import type { ApprovalFilter, DevicePoll, DeviceRequest, NewApproval, NewDeviceRequest, NewPairing, PairingFilter, StoredPairing, VerificationInput } from "./types";
import { isBusy, openSqliteFile } from "./sqlite-file";
import type {
  AuditFilter,
  DecisionBatch,
  DecisionBatchResult,
  DecisionFilter,
  DecisionStats,
  DecisionInput,
  NewClient,
  NewSession,
  NewToken,
  PageRequest,
  RoleBundle,
  SessionFilter,
  Store,
  StoreCounts,
  StoreOptions,
} from "./types";

const BUSY_TIMEOUT_MS = 5_000;
/** SQLite's own default: the connection checkpoints after a commit that leaves this many WAL frames */
const AUTOCHECKPOINT_PAGES = 1_000;
/** with the background checkpointer running, the connection's own checkpoint is only a backstop */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;
/** the checkpointer starts once the WAL file has held this many pages (a store that writes in earnest) */
const CHECKPOINTER_START_BYTES = AUTOCHECKPOINT_PAGES * 4096;
/** rows written (a transaction counts its decisions, or 1) between two looks at the WAL's size, until the checkpointer runs */
const WAL_LOOK_EVERY = 128;
/** at most one background checkpoint per this interval (a page rewritten by many commits is copied once: 25 → 100 ms cut the checkpointer's CPU per 1,000 ingested decisions from ~1.2 to ~0.9 ms) */
const CHECKPOINT_EVERY_MS = 100;
/** decisions a file store ingests on its own connection before it starts its writer thread (a store that ingests in earnest) */
const WRITER_START_DECISIONS = 2_000;
/** a group of at most this many decisions is written on the store's own connection when the writer thread is idle */
const WRITER_SMALL_DECISIONS = 64;
const WAL_RETRY_MS = 10_000;
const ITERATE_BATCH = 1_000;
/** an exclusive upper bound above every seq */
const SEQ_MAX = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------- open

/** this store's PRAGMAs beyond openSqliteFile's, on every connection it opens (the writer thread's too) */
const STORE_PRAGMAS = [
  "cache_size = -32768", // 32 MiB: keeps the hot index pages of a large audit table
  "journal_size_limit = 67108864", // a big batch may grow the WAL: shrink it back to 64 MiB
];

/** Opens (creating when missing) and migrates the SQLite store at `path` (`:memory:` for a private in-memory one). Synchronous. */
export function openSqliteStore(path: string, options: StoreOptions = {}): Store {
  const now = options.now ?? (() => new Date());
  const db = openSqliteFile(path, {
    label: "the database",
    migrations: MIGRATIONS,
    now,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
    walRetryMs: WAL_RETRY_MS,
    pragmas: STORE_PRAGMAS,
  });
  try {
    return new SqliteStore(db, now, path === ":memory:" ? null : path);
  } catch (error) {
    db.close();
    throw error;
  }
}

// ---------------------------------------------------------------- helpers

// ---------------------------------------------------------------- rows

interface SessionRow extends SessionRecord {
  rid: number;
  token_hash: string;
}
interface DecisionRow extends Omit<DecisionRecord, "normalized"> {
  rid: number;
  normalized: string;
}
interface AuditRow extends Omit<AuditEvent, "details"> {
  details: string;
}
interface Head {
  seq: number;
  hash: string;
  created_at: string;
}
interface HeadRow extends Head {
  decisions_allow: number;
  decisions_require_approval: number;
  decisions_block: number;
}


const SESSION_COLS = "rid, id, client_id, agent, role, user, host, cwd, pid, status, token_hash, created_at, updated_at, started_at, ended_at, exit_code, revoked_by";

// ---------------------------------------------------------------- the store

type Stmt<R = unknown> = Statement<R, SQLQueryBindings[]>;

function rowsOf(rows: number, columns: number): string {
  const row = `(${Array(columns).fill("?").join(", ")})`;
  return Array(rows).fill(row).join(", ");
}

/**
 * A decision event's details `{ verdict, command, policy, rule, session_id }` (every value a string,
 * policy, rule and session_id possibly null or undefined, which the event records as null), as
 * text twice: `stored`, the `details` column, exactly `JSON.stringify(details)` (insertion order);
 * `canonical`, exactly `canonicalJson(details)` (code-unit key order), the hashed form. Each value
 * is escaped once for both. test/audit/fast-hash.test.ts holds both equal on hostile strings.
 */
export function decisionEventDetails(d: Pick<DecisionInput, "verdict" | "command" | "policy" | "rule" | "session_id">): { stored: string; canonical: string } {
  const verdict = canonicalString(d.verdict);
  const command = canonicalString(d.command);
  const policy = d.policy == null ? "null" : canonicalString(d.policy);
  const rule = d.rule == null ? "null" : canonicalString(d.rule);
  const session = d.session_id == null ? "null" : canonicalString(d.session_id);
  return {
    stored: `{"verdict":${verdict},"command":${command},"policy":${policy},"rule":${rule},"session_id":${session}}`,
    canonical: `{"command":${command},"policy":${policy},"rule":${rule},"session_id":${session},"verdict":${verdict}}`,
  };
}


/**
 * A validated batch's values for the ingest kernel, INGEST_FIELDS per decision (see
 * createIngestKernel): the decision's columns id, session_id, role, agent, tool, command,
 * normalized, verdict, policy, rule, pattern, reason, source, cwd, decided_at; then its event's id,
 * stored details, canonical details and the part of its hashed text after `seq` (it names the
 * target); and per verdict, in `batch.events`, the event type, code and the parts of the hashed text
 * that depend on the batch alone (`eventTextParts`). Rendered outside the transaction (on the
 * request thread when the writer thread writes). A decision whose fields are not all strings
 * (`isPlainDecision`) renders its details through canonicalJson and JSON.stringify; its values then
 * stay on this thread.
 */
function ingestValues(values: unknown[], batch: IngestBatch, rows: ValidDecision[]): void {
  const actor = batch.actor;
  for (const { d, decidedAt, normalized } of rows) {
    let kind = batch.events[d.verdict];
    if (!kind) {
      const type = DECISION_EVENT[d.verdict];
      const code = auditCode(type);
      const [before, after] = eventTextParts({ type, code, actor, target: "" });
      kind = [type, code, before, after];
      batch.events[d.verdict] = kind;
    }
    let stored: string;
    let canonical: string;
    if (isPlainDecision(d)) {
      ({ stored, canonical } = decisionEventDetails(d));
    } else {
      const details = { verdict: d.verdict, command: d.command, policy: d.policy ?? null, rule: d.rule ?? null, session_id: d.session_id ?? null };
      stored = JSON.stringify(details);
      canonical = canonicalJson(details);
    }
    values.push(
      d.id,
      d.session_id ?? null,
      d.role ?? null,
      d.agent ?? null,
      d.tool ?? null,
      d.command,
      normalized,
      d.verdict,
      d.policy ?? null,
      d.rule ?? null,
      d.pattern ?? null,
      d.reason ?? "",
      d.source ?? "",
      d.cwd ?? null,
      decidedAt,
      randomUUID(),
      stored,
      canonical,
      eventTextAfter({ type: kind[0], target: `decision:${d.id}` }),
    );
  }
}

function batchResult(r: IngestResult): DecisionBatchResult {
  if ("error" in r) return { ok: false, error: mapSqliteError(r.error) };
  if ("missingClient" in r) return { ok: false, error: clientNotFound(r.missingClient) };
  return { ok: true, value: { accepted: r.accepted, duplicates: r.duplicates } };
}

function nullableString(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "string";
}

/** Every field a string (or null): what the gateway's schema lets through. */
function isPlainDecision(d: DecisionInput): boolean {
  return (
    nullableString(d.session_id) &&
    nullableString(d.role) &&
    nullableString(d.agent) &&
    nullableString(d.tool) &&
    nullableString(d.policy) &&
    nullableString(d.rule) &&
    nullableString(d.pattern) &&
    nullableString(d.reason) &&
    nullableString(d.source) &&
    nullableString(d.cwd)
  );
}

/** Every fixed statement, prepared once per connection. */
function prepareStatements(db: Database) {
  const p = <R = unknown>(sql: string): Stmt<R> => db.prepare(sql) as Stmt<R>;
  return {
    begin: p("BEGIN IMMEDIATE"),
    beginRead: p("BEGIN"),
    commit: p("COMMIT"),
    rollback: p("ROLLBACK"),
    ping: p<{ one: number }>("SELECT 1 AS one"),

    metaGet: p<{ value: string }>("SELECT value FROM meta WHERE key = ?"),
    metaSet: p("INSERT INTO meta (key, value) VALUES (?, ?)"),

    head: p<HeadRow>("SELECT seq, hash, created_at, decisions_allow, decisions_require_approval, decisions_block FROM store_head WHERE one = 1"),
    setHead: p(
      "UPDATE store_head SET seq = ?, hash = ?, created_at = ?, decisions_allow = decisions_allow + ?, decisions_require_approval = decisions_require_approval + ?, decisions_block = decisions_block + ? WHERE one = 1",
    ),
    auditInsert: p(`INSERT INTO audit_events (${AUDIT_COLS}) VALUES ${rowsOf(1, 10)}`),
    auditAtOrAfterSeq: p<{ seq: number; created_at: string }>("SELECT seq, created_at FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT 1"),
    auditAfter: p<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`),
    auditFirstType: p<{ type: string }>("SELECT type FROM audit_events WHERE type >= ? AND type < ? ORDER BY type LIMIT 1"),
    auditNextType: p<{ type: string }>("SELECT type FROM audit_events WHERE type > ? AND type < ? ORDER BY type LIMIT 1"),

    tokenInsert: p(`INSERT INTO tokens (${TOKEN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)`),
    tokenById: p<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens WHERE id = ?`),
    tokenByHash: p<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens WHERE hash = ?`),
    tokenLiveByHash: p<TokenRow>(
      `SELECT ${TOKEN_COLS} FROM tokens WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND NOT (kind = 'enrollment' AND used_at IS NOT NULL)`,
    ),
    tokenTouch: p("UPDATE tokens SET last_used_at = ? WHERE id = ?"),
    tokenUse: p("UPDATE tokens SET used_at = ?, last_used_at = ? WHERE id = ? AND used_at IS NULL"),
    tokenList: p<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens ORDER BY created_at DESC, rowid DESC`),
    tokenListKind: p<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens WHERE kind = ? ORDER BY created_at DESC, rowid DESC`),
    tokenRevoke: p("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
    tokenRevokeForClient: p<{ id: string }>("UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL RETURNING id"),

    policyInsert: p("INSERT INTO policies (id, version, document, created_at, updated_at) VALUES (?, 1, ?, ?, ?)"),
    policyGet: p<DocRow>("SELECT id, version, document, created_at, updated_at FROM policies WHERE id = ?"),
    policyExists: p<{ one: number }>("SELECT 1 AS one FROM policies WHERE id = ?"),
    policyList: p<DocRow>("SELECT id, version, document, created_at, updated_at FROM policies ORDER BY id"),
    policyUpdate: p("UPDATE policies SET version = ?, document = ?, updated_at = ? WHERE id = ?"),
    policyDelete: p("DELETE FROM policies WHERE id = ?"),
    policyCount: p<{ n: number }>("SELECT count(*) AS n FROM policies"),
    rolesAttaching: p<{ role_id: string }>("SELECT DISTINCT role_id FROM role_policies WHERE policy_id = ? ORDER BY role_id"),

    roleInsert: p("INSERT INTO roles (id, version, document, created_at, updated_at) VALUES (?, 1, ?, ?, ?)"),
    roleGet: p<DocRow>("SELECT id, version, document, created_at, updated_at FROM roles WHERE id = ?"),
    roleList: p<DocRow>("SELECT id, version, document, created_at, updated_at FROM roles ORDER BY id"),
    roleUpdate: p("UPDATE roles SET version = ?, document = ?, updated_at = ? WHERE id = ?"),
    roleDelete: p("DELETE FROM roles WHERE id = ?"),
    roleCount: p<{ n: number }>("SELECT count(*) AS n FROM roles"),
    rpClear: p("DELETE FROM role_policies WHERE role_id = ?"),
    rpInsert: p("INSERT INTO role_policies (role_id, position, policy_id) VALUES (?, ?, ?)"),
    rpPolicies: p<DocRow>(
      "SELECT p.id, p.version, p.document, p.created_at, p.updated_at FROM role_policies rp JOIN policies p ON p.id = rp.policy_id WHERE rp.role_id = ? ORDER BY rp.position",
    ),

    clientInsert: p("INSERT INTO clients (id, name, hostname, user, version, created_at, last_seen_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)"),
    clientGet: p<ClientRecord>("SELECT id, name, hostname, user, version, created_at, last_seen_at, revoked_at FROM clients WHERE id = ?"),
    clientList: p<ClientRecord>("SELECT id, name, hostname, user, version, created_at, last_seen_at, revoked_at FROM clients ORDER BY created_at DESC, rowid DESC"),
    clientTouch: p("UPDATE clients SET last_seen_at = ? WHERE id = ?"),
    clientRevoke: p("UPDATE clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
    clientCount: p<{ n: number }>("SELECT count(*) AS n FROM clients"),

    sessionInsert: p(
      "INSERT INTO sessions (id, client_id, agent, role, user, host, cwd, pid, status, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?)",
    ),
    sessionGet: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE id = ?`),
    sessionByToken: p<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE token_hash = ?`),
    sessionByTokenExists: p<{ one: number }>("SELECT 1 AS one FROM sessions WHERE token_hash = ?"),
    sessionTransition: p(
      "UPDATE sessions SET status = ?, updated_at = ?, started_at = coalesce(?, started_at), ended_at = coalesce(?, ended_at), exit_code = coalesce(?, exit_code), revoked_by = coalesce(?, revoked_by) WHERE id = ? AND status = ?",
    ),
    sessionCounts: p<{ status: SessionStatus; n: number }>("SELECT status, count(*) AS n FROM sessions GROUP BY status"),

    decisionGet: p<DecisionRow>(`SELECT ${DECISION_COLS} FROM decisions WHERE id = ?`),
    decisionAuditSeq: p<{ audit_seq: number }>("SELECT audit_seq FROM decisions WHERE id = ?"),
  };
}

/**
 * Appends events to the chain inside the caller's transaction; `finish()` moves the head (and the
 * decision totals) in the same transaction.
 */
class AuditAppender {
  private head: Head | null;
  private readonly firstSeq: number;
  /** every event of this transaction is stamped with it */
  readonly createdAt: string;
  private dirty = false;
  private readonly added: Record<VerdictKind, number> = { allow: 0, require_approval: 0, block: 0 };

  constructor(
    private readonly s: ReturnType<typeof prepareStatements>,
    now: string,
  ) {
    const row = s.head.get();
    this.head = row && row.seq > 0 ? { seq: row.seq, hash: row.hash, created_at: row.created_at } : null;
    this.firstSeq = this.head?.seq ?? 0;
    // never older than the newest event: time ranges map onto seq ranges
    this.createdAt = this.head && this.head.created_at > now ? this.head.created_at : now;
  }

  /** Seals the next event (advancing the head) without writing it: pair with `write`. */
  seal(type: AuditEventType, actor: string, target: string, details: Record<string, unknown>): SQLQueryBindings[] {
    const e = sealEvent(this.head, { id: randomUUID(), type, code: auditCode(type), actor, target, details, created_at: this.createdAt }, sha256Hex);
    this.head = { seq: e.seq, hash: e.hash, created_at: e.created_at };
    this.dirty = true;
    return [e.seq, e.id, e.type, e.code, e.actor, e.target, JSON.stringify(details), e.created_at, e.prev_hash, e.hash];
  }

  append(type: AuditEventType, actor: string, target: string, details: Record<string, unknown>): void {
    this.s.auditInsert.run(...this.seal(type, actor, target, details));
  }

  /** the chain's head as this transaction leaves it */
  get chainHead(): ChainHead | null {
    return this.head === null ? null : [this.head.seq, this.head.hash, this.head.created_at];
  }

  /** events sealed in this transaction */
  get appended(): number {
    return this.head === null ? 0 : this.head.seq - this.firstSeq;
  }

  finish(): void {
    if (!this.dirty || !this.head) return;
    this.s.setHead.run(this.head.seq, this.head.hash, this.head.created_at, this.added.allow, this.added.require_approval, this.added.block);
  }
}

/**
 * The WAL checkpointer (issue: tail latency at ingest). SQLite's auto-checkpoint runs inside the
 * COMMIT that crosses 1,000 WAL pages: that commit copies the pages into the database file and
 * fsyncs twice, stalling the request behind it by several milliseconds. A busy store instead runs
 * PASSIVE checkpoints from a worker thread on its own connection: they never block the writer or the
 * readers, and SQLite keeps them crash-safe (a kill -9 mid-checkpoint replays from the WAL on open).
 * The connection's own auto-checkpoint stays as a backstop at 10,000 pages: it bounds the WAL if the
 * worker falls behind, and (being the writer's own) lets the WAL restart from its beginning.
 *
 * Durability does not change: with synchronous=NORMAL a commit is durable against a process crash
 * once it is in the WAL, whoever checkpoints it later.
 */
const CHECKPOINTER_SOURCE = `
import { Database } from "bun:sqlite";
self.onmessage = (event) => {
  const { path, shared, everyMs } = event.data;
  const state = new Int32Array(shared); // [0] commits so far, [1] stop, [2] checkpoints done, [3] idle
  let db = null;
  try {
    db = new Database(path, { readwrite: true, create: false });
    db.run("PRAGMA busy_timeout = 0");
    const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    let seen = 0;
    // a blocking loop (this thread has nothing else to do): wake on a commit, checkpoint, rest
    while (Atomics.load(state, 1) === 0) {
      const commits = Atomics.load(state, 0);
      if (commits === seen) {
        Atomics.store(state, 3, 1); // waiting for a commit: the next one wakes us
        if (Atomics.load(state, 0) === commits) Atomics.wait(state, 0, commits, 1000);
        Atomics.store(state, 3, 0);
        continue;
      }
      seen = commits;
      checkpoint.get();
      Atomics.add(state, 2, 1);
      Atomics.wait(state, 1, 0, everyMs); // at most one checkpoint per everyMs; a stop ends the rest
    }
    checkpoint.finalize();
    db.close();
    postMessage({ type: "closed" });
  } catch (error) {
    try { if (db) db.close(); } catch {}
    postMessage({ type: "failed", message: String((error && error.message) || error) });
  }
};
`;

let checkpointerUrl: string | null = null;

/**
 * The main thread only bumps a shared counter after each commit (no message, no timer): the worker
 * checkpoints even while the main thread is busy for a long stretch without yielding.
 */
class Checkpointer {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(16));
  private closing: Promise<void> | null = null;
  private onClosed: (() => void) | null = null;
  private failed = false;

  constructor(
    path: string,
    private readonly onFailure: () => void,
  ) {
    checkpointerUrl ??= URL.createObjectURL(new Blob([CHECKPOINTER_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(checkpointerUrl);
    (this.worker as unknown as { unref(): void }).unref(); // an open store must not keep the process alive by itself
    this.worker.onmessage = (event: MessageEvent) => {
      const type = (event.data as { type: string }).type;
      if (type === "closed") this.onClosed?.();
      else this.fail();
    };
    this.worker.onerror = () => this.fail();
    this.worker.postMessage({ path, shared: this.state.buffer, everyMs: CHECKPOINT_EVERY_MS });
  }

  /** checkpoints completed so far */
  get completed(): number {
    return Atomics.load(this.state, 2);
  }

  /** After a commit: count it, and wake the worker if it sleeps (it checkpoints at most once per CHECKPOINT_EVERY_MS). */
  committed(): void {
    Atomics.add(this.state, 0, 1);
    if (Atomics.load(this.state, 3) === 1) Atomics.notify(this.state, 0);
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    this.worker.terminate();
    if (this.onClosed) this.onClosed();
    else this.onFailure();
  }

  /** Stops the worker and closes its connection (before the store's own, so that one is the last). */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(deadline);
        this.worker.terminate();
        resolve();
      };
      const deadline = setTimeout(done, 5_000);
      this.onClosed = done;
      if (this.failed) return done();
      Atomics.store(this.state, 1, 1);
      Atomics.notify(this.state, 0);
      Atomics.notify(this.state, 1);
    });
    return this.closing;
  }
}

class SqliteStore implements Store {
  readonly backend = "sqlite" as const;
  private closed = false;
  private readonly dynamic = new Map<string, Stmt>();
  /** role bundle ETags by the text of the rows they hash (see getRoleBundle) */
  private readonly etags = new Map<string, string>();
  private readonly s: ReturnType<typeof prepareStatements>;
  /** the background checkpointer, once this store writes in earnest (file stores only) */
  private checkpointer: Checkpointer | null = null;
  private writesUntilWalLook = WAL_LOOK_EVERY;
  /** decision ingest's transaction on this connection (see _ingest-worker.ts) */
  private kernel: ReturnType<typeof createIngestKernel> | null = null;
  /** the writer thread, once this store ingests in earnest (file stores only) */
  private writer: IngestWriter | null = null;
  private writerOff = false;
  private ingestedHere = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: () => Date,
    private readonly path: string | null,
  ) {
    this.s = prepareStatements(db);
  }

  /** After each committed write: feed the checkpointer, or see whether it is time to start it. */
  private afterCommit(rows: number): void {
    if (this.checkpointer) {
      this.checkpointer.committed();
      return;
    }
    this.writesUntilWalLook -= Math.max(1, rows);
    if (this.path === null || this.writesUntilWalLook > 0) return;
    this.writesUntilWalLook = WAL_LOOK_EVERY;
    let size = 0;
    try {
      size = statSync(`${this.path}-wal`).size;
    } catch {
      return;
    }
    if (size >= CHECKPOINTER_START_BYTES) this.startCheckpointer();
  }

  private startCheckpointer(): void {
    if (this.checkpointer || this.path === null || this.closed) return;
    try {
      this.checkpointer = new Checkpointer(this.path, () => {
        // no worker: the connection checkpoints by itself again, as SQLite does by default
        this.checkpointer = null;
        this.writesUntilWalLook = Number.POSITIVE_INFINITY;
        if (!this.closed) this.db.run(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
        this.writer?.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      });
      this.db.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
      this.writer?.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    } catch {
      this.checkpointer = null;
      this.writesUntilWalLook = Number.POSITIVE_INFINITY;
    }
  }

  // ------------------------------------------------------------ plumbing

  private now(): string {
    return this.clock().toISOString();
  }

  private open(): void {
    if (this.closed) throw new AirlockError("unavailable", "the store is closed");
  }

  /** Runs `fn` in BEGIN IMMEDIATE with an audit appender; commits, or rolls back on any throw. */
  private tx<T>(fn: (audit: AuditAppender, now: string) => T): T {
    this.open();
    const now = this.now();
    try {
      this.s.begin.run();
    } catch (error) {
      throw mapSqliteError(error);
    }
    try {
      const audit = new AuditAppender(this.s, now);
      const result = fn(audit, now);
      audit.finish();
      this.s.commit.run();
      this.afterCommit(audit.appended);
      if (audit.appended > 0) this.writer?.headMoved(audit.chainHead);
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.s.rollback.run();
      throw mapSqliteError(error);
    }
  }

  private read<T>(fn: () => T): T {
    this.open();
    try {
      return fn();
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private stmt<R>(sql: string): Stmt<R> {
    let s = this.dynamic.get(sql);
    if (!s) {
      s = this.db.prepare(sql) as Stmt;
      this.dynamic.set(sql, s);
    }
    return s as Stmt<R>;
  }

  async ping(): Promise<void> {
    this.read(() => this.s.ping.get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // the workers' connections go first: the last connection to close checkpoints and removes the WAL;
    // the writer first answers everything it was handed
    await this.writer?.close();
    this.writer = null;
    await this.checkpointer?.close();
    this.checkpointer = null;
    try {
      this.db.run("PRAGMA optimize");
    } catch {
      // best effort
    }
    for (const s of Object.values(this.s)) s.finalize();
    for (const s of this.dynamic.values()) s.finalize();
    this.dynamic.clear();
    this.kernel?.close();
    this.kernel = null;
    this.db.close();
  }

  // ------------------------------------------------------------ initialize

  async initialize(seed: { policies: JsonObject[]; roles: JsonObject[]; adminToken: NewToken }): Promise<boolean> {
    return this.tx((audit, now) => {
      if (this.s.metaGet.get("initialized_at")) return false;
      const policies = seed.policies.map((doc) => this.insertPolicy(doc, now));
      const roles = seed.roles.map((doc) => this.insertRole(doc, now));
      const token = this.insertToken(seed.adminToken, "system", now);
      this.s.metaSet.run("initialized_at", now);
      audit.append("store.initialized", "system", "store", {
        policies: policies.map((p) => ({ id: p.id, version: p.version })),
        roles: roles.map((r) => ({ id: r.id, version: r.version })),
        admin_token: token.id,
      });
      return true;
    });
  }

  // ------------------------------------------------------------ tokens

  private insertToken(token: NewToken, actor: string, now: string): TokenRecord {
    const clientId = checkNewToken(token);
    if (clientId !== null && !this.s.clientGet.get(clientId)) throw clientNotFound(clientId);
    const expires = optionalIso(token.expires_at, "expires_at");
    if (this.s.tokenById.get(token.id)) throw new AirlockError("conflict", `token ${token.id} already exists`);
    if (this.s.tokenByHash.get(token.hash)) throw new AirlockError("conflict", "a token with this secret already exists");
    this.s.tokenInsert.run(token.id, token.kind, token.name, token.hash, clientId, now, actor, expires);
    return tokenRecord(this.s.tokenById.get(token.id)!);
  }

  async createToken(token: NewToken, actor: string): Promise<TokenRecord> {
    return this.tx((audit, now) => {
      const record = this.insertToken(token, actor, now);
      audit.append(record.kind === "enrollment" ? "client.enrollment_token.created" : "token.created", actor, `token:${record.id}`, tokenCreatedDetails(record));
      return record;
    });
  }

  async findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null> {
    return this.read(() => {
      const row = this.s.tokenLiveByHash.get(hash, this.now());
      return row ? { ...tokenRecord(row), hash: row.hash } : null;
    });
  }

  async touchToken(id: string): Promise<void> {
    this.read(() => {
      if (this.s.tokenTouch.run(this.now(), id).changes === 0) throw new AirlockError("not_found", `token ${id} not found`);
    });
  }

  async listTokens(kind?: TokenKind): Promise<TokenRecord[]> {
    return this.read(() => (kind === undefined ? this.s.tokenList.all() : this.s.tokenListKind.all(kind)).map(tokenRecord));
  }

  async revokeToken(id: string, actor: string): Promise<TokenRecord> {
    return this.tx((audit, now) => {
      const row = this.s.tokenById.get(id);
      if (!row) throw new AirlockError("not_found", `token ${id} not found`);
      if (row.revoked_at !== null) throw new AirlockError("conflict", `token ${id} is already revoked`);
      this.s.tokenRevoke.run(now, id);
      audit.append("token.revoked", actor, `token:${id}`, { kind: row.kind, name: row.name, client_id: row.client_id });
      return tokenRecord(this.s.tokenById.get(id)!);
    });
  }

  // ------------------------------------------------------------ policies

  private insertPolicy(document: JsonObject, now: string): PolicyRecord {
    const id = documentId(document, "policy");
    if (this.s.policyExists.get(id)) throw new AirlockError("conflict", `policy ${id} already exists`, [{ path: "id", message: "already exists" }]);
    this.s.policyInsert.run(id, JSON.stringify(document), now, now);
    return docRecord(this.s.policyGet.get(id)!);
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    return this.read(() => this.s.policyList.all().map(docRecord));
  }

  async getPolicy(id: string): Promise<PolicyRecord | null> {
    return this.read(() => {
      const row = this.s.policyGet.get(id);
      return row ? docRecord(row) : null;
    });
  }

  async createPolicy(document: JsonObject, actor: string): Promise<PolicyRecord> {
    return this.tx((audit, now) => {
      const record = this.insertPolicy(document, now);
      audit.append("policy.created", actor, `policy:${record.id}`, { version: 1, name: str(document.name), status: str(document.status) });
      return record;
    });
  }

  async updatePolicy(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<PolicyRecord> {
    return this.tx((audit, now) => {
      const doc = documentFor(id, document, "policy");
      const row = this.s.policyGet.get(id);
      if (!row) throw new AirlockError("not_found", `policy ${id} not found`);
      versionCheck("policy", id, row.version, ifVersion);
      const version = row.version + 1;
      this.s.policyUpdate.run(version, JSON.stringify(doc), now, id);
      const before = JSON.parse(row.document) as JsonObject;
      audit.append("policy.updated", actor, `policy:${id}`, {
        version,
        previous_version: row.version,
        name: str(doc.name),
        status: str(doc.status),
        previous_status: str(before.status),
      });
      return docRecord(this.s.policyGet.get(id)!);
    });
  }

  async deletePolicy(id: string, actor: string): Promise<void> {
    this.tx((audit) => {
      const row = this.s.policyGet.get(id);
      if (!row) throw new AirlockError("not_found", `policy ${id} not found`);
      const roles = this.s.rolesAttaching.all(id).map((r) => r.role_id);
      if (roles.length > 0) {
        throw new AirlockError(
          "conflict",
          `policy ${id} is attached to role${roles.length > 1 ? "s" : ""} ${roles.join(", ")}: detach it first`,
          roles.map((r) => ({ path: "roles", message: `attached to role ${r}` })),
        );
      }
      this.s.policyDelete.run(id);
      audit.append("policy.deleted", actor, `policy:${id}`, { version: row.version, name: str((JSON.parse(row.document) as JsonObject).name) });
    });
  }

  // ------------------------------------------------------------ roles

  /** Replaces a role's attachments; every attached policy must exist. */
  private attach(roleId: string, policies: string[]): void {
    const missing: ErrorDetail[] = [];
    policies.forEach((p, i) => {
      if (!this.s.policyExists.get(p)) missing.push({ path: `policies[${i}]`, message: `policy ${p} does not exist` });
    });
    if (missing.length > 0) {
      const names = missing.map((m) => m.message.split(" ")[1]);
      throw new AirlockError("conflict", `role ${roleId} attaches unknown polic${names.length > 1 ? "ies" : "y"} ${names.join(", ")}`, missing);
    }
    this.s.rpClear.run(roleId);
    policies.forEach((p, i) => this.s.rpInsert.run(roleId, i, p));
  }

  private insertRole(document: JsonObject, now: string): RoleRecord {
    const id = documentId(document, "role");
    const policies = rolePolicyIds(document);
    if (this.s.roleGet.get(id)) throw new AirlockError("conflict", `role ${id} already exists`, [{ path: "id", message: "already exists" }]);
    this.s.roleInsert.run(id, JSON.stringify(document), now, now);
    this.attach(id, policies);
    return docRecord(this.s.roleGet.get(id)!);
  }

  async listRoles(): Promise<RoleRecord[]> {
    return this.read(() => this.s.roleList.all().map(docRecord));
  }

  async getRole(id: string): Promise<RoleRecord | null> {
    return this.read(() => {
      const row = this.s.roleGet.get(id);
      return row ? docRecord(row) : null;
    });
  }

  async createRole(document: JsonObject, actor: string): Promise<RoleRecord> {
    return this.tx((audit, now) => {
      const record = this.insertRole(document, now);
      audit.append("role.created", actor, `role:${record.id}`, { version: 1, name: str(document.name), policies: rolePolicyIds(document) });
      return record;
    });
  }

  async updateRole(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<RoleRecord> {
    return this.tx((audit, now) => {
      const doc = documentFor(id, document, "role");
      const policies = rolePolicyIds(doc);
      const row = this.s.roleGet.get(id);
      if (!row) throw new AirlockError("not_found", `role ${id} not found`);
      versionCheck("role", id, row.version, ifVersion);
      const version = row.version + 1;
      this.s.roleUpdate.run(version, JSON.stringify(doc), now, id);
      this.attach(id, policies);
      audit.append("role.updated", actor, `role:${id}`, { version, previous_version: row.version, name: str(doc.name), policies });
      return docRecord(this.s.roleGet.get(id)!);
    });
  }

  async deleteRole(id: string, actor: string): Promise<void> {
    this.tx((audit) => {
      const row = this.s.roleGet.get(id);
      if (!row) throw new AirlockError("not_found", `role ${id} not found`);
      this.s.roleDelete.run(id); // role_policies cascade
      audit.append("role.deleted", actor, `role:${id}`, { version: row.version, name: str((JSON.parse(row.document) as JsonObject).name) });
    });
  }

  async getRoleBundle(id: string): Promise<RoleBundle | null> {
    return this.read(() => {
      // one read transaction: the role and its policies from the same snapshot
      this.s.beginRead.run();
      try {
        const row = this.s.roleGet.get(id);
        if (!row) return null;
        return roleBundle([row, ...this.s.rpPolicies.all(id)], this.etags);
      } finally {
        this.s.commit.run();
      }
    });
  }

  // ------------------------------------------------------------ clients

  async enrollClient(enrollmentHash: string, client: NewClient, clientToken: NewToken): Promise<{ client: ClientRecord; token: TokenRecord }> {
    return this.tx((audit, now) => {
      const enrollment = this.s.tokenLiveByHash.get(enrollmentHash, now);
      if (!enrollment || enrollment.kind !== "enrollment") throw new AirlockError("unauthorized", "invalid, expired or already used enrollment token");
      if (typeof client?.id !== "string" || client.id.length === 0) throw invalid("id", "a client needs a non-empty id");
      if (clientToken.kind !== "client") throw invalid("token.kind", "an enrolled client's token must be of kind client");
      if (clientToken.client_id != null && clientToken.client_id !== client.id) throw invalid("token.client_id", "the client token must belong to the enrolled client");
      if (this.s.clientGet.get(client.id)) throw new AirlockError("conflict", `client ${client.id} already exists`);
      if (this.s.tokenUse.run(now, now, enrollment.id).changes !== 1) throw new AirlockError("unauthorized", "invalid, expired or already used enrollment token");
      this.s.clientInsert.run(client.id, client.name, client.hostname, client.user, client.version, now);
      const actor = `client:${client.id}`;
      const token = this.insertToken({ ...clientToken, client_id: client.id }, actor, now);
      audit.append("client.enrolled", actor, `client:${client.id}`, clientEnrolledDetails(client, enrollment.id, token.id));
      return { client: this.s.clientGet.get(client.id)!, token };
    });
  }

  async listClients(): Promise<ClientRecord[]> {
    return this.read(() => this.s.clientList.all());
  }

  async getClient(id: string): Promise<ClientRecord | null> {
    return this.read(() => this.s.clientGet.get(id) ?? null);
  }

  async touchClient(id: string): Promise<void> {
    this.read(() => {
      if (this.s.clientTouch.run(this.now(), id).changes === 0) throw new AirlockError("not_found", `client ${id} not found`);
    });
  }

  async revokeClient(id: string, actor: string): Promise<ClientRecord> {
    return this.tx((audit, now) => {
      const row = this.s.clientGet.get(id);
      if (!row) throw new AirlockError("not_found", `client ${id} not found`);
      if (row.revoked_at !== null) throw new AirlockError("conflict", `client ${id} is already revoked`);
      this.s.clientRevoke.run(now, id);
      const tokens = this.s.tokenRevokeForClient.all(now, id).map((t) => t.id);
      audit.append("client.revoked", actor, `client:${id}`, { name: row.name, hostname: row.hostname, tokens_revoked: tokens });
      return this.s.clientGet.get(id)!;
    });
  }

  // ------------------------------------------------------------ sessions

  async createSession(session: NewSession, actor: string): Promise<SessionRecord> {
    return this.tx((audit, now) => {
      checkNewSession(session);
      const clientId = session.client_id ?? null;
      if (clientId !== null && !this.s.clientGet.get(clientId)) throw clientNotFound(clientId);
      if (this.s.sessionGet.get(session.id)) throw new AirlockError("conflict", `session ${session.id} already exists`);
      if (this.s.sessionByTokenExists.get(session.token_hash)) throw new AirlockError("conflict", "a session with this token already exists");
      this.s.sessionInsert.run(session.id, clientId, session.agent, session.role, session.user, session.host, session.cwd, session.pid ?? null, session.token_hash, now, now);
      audit.append("session.created", actor, `session:${session.id}`, sessionCreatedDetails(session, clientId));
      return sessionRecord(this.s.sessionGet.get(session.id)!);
    });
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.read(() => {
      const row = this.s.sessionGet.get(id);
      return row ? sessionRecord(row) : null;
    });
  }

  async findSessionByToken(hash: string): Promise<SessionRecord | null> {
    return this.read(() => {
      const row = this.s.sessionByToken.get(hash);
      return row ? sessionRecord(row) : null;
    });
  }

  async listSessions(filter: SessionFilter, page: PageRequest): Promise<Page<SessionRecord>> {
    return this.read(() => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(QMARK);
      if (f.status !== undefined) {
        checkSessionStatus(f.status);
        q.add("status = ?", f.status);
      }
      for (const key of ["agent", "role", "user", "host", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key} = ?`, f[key]);
      }
      q.timeRange("created_at", f.since, f.until);
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "sessions", { t: "string", r: "int" });
        q.add("(created_at, rid) < (?, ?)", c.t, c.r);
      }
      const sql = `SELECT ${SESSION_COLS} FROM sessions ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT ?`;
      const rows = this.stmt<SessionRow>(sql).all(...(q.params as SQLQueryBindings[]), limit + 1);
      return keysetPage(rows, limit, sessionRecord, (r) => encodeCursor("sessions", { t: r.created_at, r: r.rid }));
    });
  }

  async transitionSession(id: string, to: SessionStatus, actor: string, extra?: { exit_code?: number | null }): Promise<SessionRecord> {
    return this.tx((audit, now) => {
      checkSessionStatus(to);
      const row = this.s.sessionGet.get(id);
      if (!row) throw new AirlockError("not_found", `session ${id} not found`);
      const from = row.status;
      checkTransition(id, from, to);
      let type: AuditEventType;
      const details: Record<string, unknown> = { from, to };
      if (to === "running") {
        type = "session.started";
        this.s.sessionTransition.run(to, now, now, null, null, null, id, from);
      } else if (to === "exited") {
        type = "session.exited";
        const code = extra?.exit_code ?? null;
        if (code !== null && !Number.isInteger(code)) throw invalid("exit_code", "exit_code must be an integer");
        details.exit_code = code;
        this.s.sessionTransition.run(to, now, null, now, code, null, id, from);
      } else {
        type = "session.revoked";
        this.s.sessionTransition.run(to, now, null, now, null, actor, id, from);
      }
      audit.append(type, actor, `session:${id}`, details);
      return sessionRecord(this.s.sessionGet.get(id)!);
    });
  }

  // ------------------------------------------------------------ decisions

  async ingestDecisions(clientId: string | null, decisions: DecisionInput[], actor: string): Promise<{ accepted: number; duplicates: number }> {
    // validate and render everything before the transaction: a bad batch changes nothing
    const rows = validDecisions(decisions);
    if (rows.length === 0) return { accepted: 0, duplicates: 0 };
    const values: unknown[] = [];
    const batch: IngestBatch = { clientId, actor, count: rows.length, events: {} };
    ingestValues(values, batch, rows);
    const { results } = await this.ingest([batch], values);
    const r = results[0]!;
    if ("error" in r) throw mapSqliteError(r.error);
    if ("missingClient" in r) throw clientNotFound(r.missingClient);
    return { accepted: r.accepted, duplicates: r.duplicates };
  }

  /**
   * Group commit (the gateway uses it when the backend has it): several ingest batches in ONE
   * transaction, each with its own result, as if each had been `ingestDecisions` in turn. A batch
   * that fails validation or names an unknown client gets its error and writes nothing (both are
   * found before any of its rows is written); an error after writes began (a database error) rolls
   * the group back and every batch is retried on its own, so each still gets exactly the result and
   * error isolation `ingestDecisions` would give it (a closed or busy store is the same answer for
   * all, without retries). See `createIngestKernel`.
   */
  async ingestDecisionBatches(batches: readonly DecisionBatch[]): Promise<DecisionBatchResult[]> {
    if (this.closed) {
      const error = new AirlockError("unavailable", "the store is closed");
      return batches.map(() => ({ ok: false, error }));
    }
    const results: DecisionBatchResult[] = new Array(batches.length);
    const group: IngestBatch[] = [];
    const positions: number[] = [];
    const values: unknown[] = [];
    batches.forEach((b, i) => {
      const before = values.length;
      try {
        const rows = validDecisions(b.decisions);
        if (rows.length === 0) {
          results[i] = { ok: true, value: { accepted: 0, duplicates: 0 } };
          return;
        }
        const batch: IngestBatch = { clientId: b.clientId, actor: b.actor, count: rows.length, events: {} };
        ingestValues(values, batch, rows);
        group.push(batch);
        positions.push(i);
      } catch (error) {
        values.length = before;
        results[i] = { ok: false, error };
      }
    });
    if (group.length > 0) {
      let outcome: IngestOutcome;
      try {
        outcome = await this.ingest(group, values);
      } catch (error) {
        const mapped = mapSqliteError(error);
        outcome = { results: group.map(() => ({ ok: false, error: mapped })), appended: 0, head: null, hashedAhead: 0 };
      }
      outcome.results.forEach((r, k) => {
        results[positions[k]!] = batchResult(r);
      });
    }
    return results;
  }

  /**
   * One ingest transaction: on the writer thread once it runs and the values can cross to it (every
   * one a string or null, as the gateway's schema makes them), else on this connection.
   */
  private ingest(batches: IngestBatch[], values: unknown[]): Promise<IngestOutcome> | IngestOutcome {
    this.open();
    const writer = this.writer;
    // a small group while the writer has nothing in hand is written here at once: the round trip
    // to the thread costs more than its transaction, and the idle writer holds no lock meanwhile
    if (writer?.ready && !(writer.idle && values.length <= WRITER_SMALL_DECISIONS * INGEST_FIELDS)) {
      const packed = packValues(values);
      if (packed) return writer.submit(batches, values, packed);
    }
    return this.ingestHere(batches, values);
  }

  /** The kernel on this connection (also for what a failed or closing writer hands back). */
  private ingestHere(batches: IngestBatch[], values: unknown[]): IngestOutcome {
    this.kernel ??= createIngestKernel(this.db, chainedEventText, INGEST_FIELDS);
    const outcome = this.kernel.run({ now: this.now(), batches, values });
    this.afterCommit(outcome.appended);
    if (outcome.appended > 0) this.writer?.headMoved(outcome.head);
    if (this.path !== null && this.writer === null && !this.writerOff && !this.closed) {
      this.ingestedHere += values.length / INGEST_FIELDS;
      if (this.ingestedHere >= WRITER_START_DECISIONS) this.startWriter();
    }
    return outcome;
  }

  private startWriter(): void {
    if (this.path === null || this.writer || this.writerOff || this.closed) return;
    // the writer's connection is set up as this one: the same durability (synchronous), busy timeout and checkpoint backstop
    const synchronous = (this.db.prepare("PRAGMA synchronous").get() as { synchronous: number }).synchronous;
    const pragmas = [
      `busy_timeout = ${BUSY_TIMEOUT_MS}`,
      `synchronous = ${synchronous}`,
      "foreign_keys = ON",
      ...STORE_PRAGMAS,
      `wal_autocheckpoint = ${this.checkpointer ? BACKSTOP_CHECKPOINT_PAGES : AUTOCHECKPOINT_PAGES}`,
    ];
    try {
      this.writer = new IngestWriter(
        this.path,
        pragmas,
        () => this.now(),
        (appended) => this.afterCommit(appended),
        (unsent) => this.writerStopped(unsent),
      );
    } catch {
      this.writer = null;
      this.writerOff = true;
    }
  }

  /** The writer thread failed (or closed before it opened): what it never got is written here. */
  private writerStopped(unsent: Submission[]): void {
    this.writer = null;
    this.writerOff = true;
    for (const s of unsent) {
      try {
        s.resolve(this.ingestHere(s.batches, s.values));
      } catch (error) {
        s.reject(error);
      }
    }
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    return this.read(() => {
      const row = this.s.decisionGet.get(id);
      return row ? decisionRecord(row) : null;
    });
  }

  async listDecisions(filter: DecisionFilter, page: PageRequest): Promise<Page<DecisionRecord>> {
    return this.read(() => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(QMARK);
      if (f.verdict !== undefined) {
        if (!VERDICTS.includes(f.verdict)) throw invalid("verdict", `verdict must be one of ${VERDICTS.join(", ")}`);
        q.add("verdict = ?", f.verdict);
        // the partial index decisions_flagged holds the non-allow verdicts; its condition, spelled
        // out, lets the planner use it
        if (f.verdict !== "allow") q.add("verdict <> 'allow'");
      }
      for (const key of ["session_id", "role", "agent", "tool", "policy", "rule", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key} = ?`, f[key]);
      }
      if (f.q !== undefined && f.q !== "") q.add("command LIKE ? ESCAPE '\\'", `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      q.timeRange("decided_at", f.since, f.until);
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "decisions", { t: "string", r: "int" });
        q.add("(decided_at, rid) < (?, ?)", c.t, c.r);
      }
      const sql = `SELECT ${DECISION_COLS} FROM decisions ${q.where()} ORDER BY decided_at DESC, rid DESC LIMIT ?`;
      const rows = this.stmt<DecisionRow>(sql).all(...(q.params as SQLQueryBindings[]), limit + 1);
      return keysetPage(rows, limit, decisionRecord, (r) => encodeCursor("decisions", { t: r.decided_at, r: r.rid }));
    });
  }

  // ------------------------------------------------------------ audit

  async listAudit(filter: AuditFilter, page: PageRequest): Promise<Page<AuditEvent>> {
    return this.read(() => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      // time range → seq range (audit time never decreases along seq)
      let lo = 1;
      let hi = SEQ_MAX; // exclusive
      if (f.since !== undefined) {
        const first = this.firstSeqAtOrAfter(isoTime(f.since, "since"));
        if (first === null) return { items: [], next_cursor: null };
        lo = first;
      }
      if (f.until !== undefined) {
        const first = this.firstSeqAtOrAfter(isoTime(f.until, "until"));
        if (first !== null) hi = first;
      }
      if (page.cursor !== undefined) hi = Math.min(hi, decodeCursor(page.cursor, "audit", { s: "int" }).s);
      if (lo >= hi) return { items: [], next_cursor: null };

      const where = ["seq >= ?", "seq < ?"];
      const params: SQLQueryBindings[] = [];
      if (f.actor !== undefined) {
        where.push("actor = ?");
        params.push(f.actor);
      }
      let index = "";
      if (f.target !== undefined) {
        where.push("target = ?");
        params.push(f.target);
        if (f.target.startsWith("decision:")) {
          // decision events are not in audit_target: the decision row knows its event's seq
          const decision = this.s.decisionAuditSeq.get(f.target.slice("decision:".length));
          if (!decision) return { items: [], next_cursor: null };
          lo = Math.max(lo, decision.audit_seq);
          hi = Math.min(hi, decision.audit_seq + 1);
          if (lo >= hi) return { items: [], next_cursor: null };
        } else {
          // the partial index's own condition (true for every non-decision target) lets it be used
          where.push("type NOT LIKE 'decision.%'");
          index = "INDEXED BY audit_target";
        }
      }
      let rows: AuditRow[];
      if (f.type === undefined || f.type === "") {
        rows = this.stmt<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events ${index} WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`).all(lo, hi, ...params, limit + 1);
      } else {
        const types = f.type.endsWith(".") ? this.auditTypesWithPrefix(f.type) : [f.type];
        const byType = this.stmt<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events ${index} WHERE type = ? AND ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`);
        // one index walk per type, newest first, merged: each walk stops after a page
        rows = [];
        for (const type of types) rows.push(...byType.all(type, lo, hi, ...params, limit + 1));
        if (types.length > 1) rows.sort((a, b) => b.seq - a.seq);
      }
      return keysetPage(rows, limit, auditEvent, (r) => encodeCursor("audit", { s: r.seq }));
    });
  }

  /**
   * The first seq whose event is at or after `time`, null when none is: a binary search on seq,
   * valid because created_at never decreases along seq (gaps left by tampering are tolerated).
   */
  private firstSeqAtOrAfter(time: string): number | null {
    const last = this.s.head.get()?.seq ?? 0;
    let lo = 1;
    let hi = last + 1; // the answer is in [lo, hi]; hi = last + 1 means none
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.s.auditAtOrAfterSeq.get(mid);
      if (!row || row.seq > last) hi = mid;
      else if (row.created_at >= time) hi = mid;
      else lo = row.seq + 1;
    }
    return lo <= last ? lo : null;
  }

  /** The distinct stored types under a prefix, by hopping along the type index (no scan). */
  private auditTypesWithPrefix(prefix: string): string[] {
    const upper = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
    const types: string[] = [];
    let row = this.s.auditFirstType.get(prefix, upper);
    while (row) {
      types.push(row.type);
      row = this.s.auditNextType.get(row.type, upper);
    }
    return types;
  }

  async *iterateAudit(): AsyncIterable<AuditEvent> {
    let after = 0;
    for (;;) {
      const rows = this.read(() => this.s.auditAfter.all(after, ITERATE_BATCH));
      for (const row of rows) yield auditEvent(row);
      if (rows.length < ITERATE_BATCH) return;
      after = rows[rows.length - 1]!.seq;
    }
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    return this.read(() => {
      const head = this.s.head.get();
      return head && head.seq > 0 ? { seq: head.seq, hash: head.hash } : null;
    });
  }

  async auditSince(seq: number, limit: number): Promise<AuditEvent[]> {
    return this.read(() => {
      if (!Number.isInteger(seq) || seq < 0) throw invalid("seq", "seq must be a non-negative integer");
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid("limit", `limit must be an integer from 1 to ${MAX_PAGE}`);
      return this.s.auditAfter.all(seq, limit).map(auditEvent);
    });
  }

  // ------------------------------------------------------------ counts

  async counts(): Promise<StoreCounts> {
    return this.read(() => {
      const sessions = { ready: 0, running: 0, exited: 0, revoked: 0 } as Record<SessionStatus, number>;
      for (const r of this.s.sessionCounts.all()) sessions[r.status] = r.n;
      const head = this.s.head.get()!;
      const decisions: Record<VerdictKind, number> = {
        allow: head.decisions_allow,
        require_approval: head.decisions_require_approval,
        block: head.decisions_block,
      };
      return {
        sessions_by_status: sessions,
        decisions_by_verdict: decisions,
        policies: this.s.policyCount.get()!.n,
        roles: this.s.roleCount.get()!.n,
        clients: this.s.clientCount.get()!.n,
        audit_events: head.seq,
      };
    });
  }

  async decisionStats(minutes: number, top: number): Promise<DecisionStats> {
    const start = new Date(this.clock().getTime() - (minutes - 1) * 60_000);
    start.setUTCSeconds(0, 0);
    const since = start.toISOString();
    return this.read(() => {
      const rows = this.db
        .query<{ minute: string; verdict: VerdictKind; n: number }, [string]>(
          "SELECT substr(decided_at, 1, 16) AS minute, verdict, count(*) AS n FROM decisions WHERE decided_at >= ? GROUP BY minute, verdict ORDER BY minute",
        )
        .all(since);
      const perMinute: DecisionStats["per_minute"] = [];
      for (const r of rows) {
        let last = perMinute[perMinute.length - 1];
        if (!last || last.minute !== r.minute) perMinute.push((last = { minute: r.minute, allow: 0, require_approval: 0, block: 0 }));
        last[r.verdict] += r.n;
      }
      const topBlocked = this.db
        .query<{ command: string; count: number; last_at: string }, [string, number]>(
          "SELECT command, count(*) AS count, max(decided_at) AS last_at FROM decisions WHERE verdict = 'block' AND decided_at >= ? GROUP BY command ORDER BY count DESC, last_at DESC LIMIT ?",
        )
        .all(since, top);
      return { since, minutes, per_minute: perMinute, top_blocked: topBlocked };
    });
  }

  // ------------------------------------------------------------ sign-in, pairings, approvals (docs/approvals.md)

  private deviceByCode(userCode: string): DeviceRow | null {
    return this.stmt<DeviceRow>(`SELECT ${DEVICE_COLS} FROM device_requests WHERE user_code = ? ORDER BY rid DESC LIMIT 1`).get(userCode);
  }

  /** a token of kind user or approver, with its binding */
  private insertBoundToken(token: NewToken, actor: string, now: string, binding: { user: string | null; pairing_id: string | null }): TokenRecord {
    const record = this.insertToken(token, actor, now);
    this.stmt("UPDATE tokens SET user = ?, pairing_id = ? WHERE id = ?").run(binding.user, binding.pairing_id, record.id);
    return record;
  }

  async createDeviceRequest(request: NewDeviceRequest, actor: string): Promise<DeviceRequest> {
    return this.tx((audit, now) => {
      if (typeof request?.id !== "string" || request.id.length === 0) throw invalid("id", "a device request needs a non-empty id");
      if (typeof request.device_hash !== "string" || !/^[0-9a-f]{64}$/.test(request.device_hash)) throw invalid("device_hash", "a device code hash must be SHA-256 hex");
      if (typeof request.user_code !== "string" || !/^[A-Z0-9]{8}$/.test(request.user_code)) throw invalid("user_code", "a user code is 8 upper-case characters");
      if (!Number.isInteger(request.interval) || request.interval < 1) throw invalid("interval", "interval must be a positive whole number of seconds");
      const expires = isoTime(request.expires_at, "expires_at");
      const live = this.stmt<{ one: number }>("SELECT 1 AS one FROM device_requests WHERE user_code = ? AND status IN ('pending', 'approved') AND expires_at > ? LIMIT 1");
      if (live.get(request.user_code, now)) throw new AirlockError("conflict", "a live device request already has this user code");
      if (this.stmt<{ one: number }>("SELECT 1 AS one FROM device_requests WHERE id = ? OR device_hash = ?").get(request.id, request.device_hash)) {
        throw new AirlockError("conflict", `device request ${request.id} (or its device code) already exists`);
      }
      this.stmt("INSERT INTO device_requests (id, device_hash, user_code, client_name, status, interval, created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)").run(
        request.id,
        request.device_hash,
        request.user_code,
        request.client_name ?? null,
        request.interval,
        now,
        expires,
      );
      audit.append("auth.device_started", actor, `device:${request.id}`, { user_code: request.user_code, client_name: request.client_name ?? null, expires_at: expires });
      return deviceRequest(this.deviceByCode(request.user_code)!, now);
    });
  }

  async getDeviceRequest(userCode: string): Promise<DeviceRequest | null> {
    return this.read(() => {
      const row = this.deviceByCode(userCode);
      return row ? deviceRequest(row, this.now()) : null;
    });
  }

  async decideDeviceRequest(userCode: string, decision: { approve: boolean; user: string }, actor: string): Promise<DeviceRequest> {
    return this.tx((audit, now) => {
      const row = this.deviceByCode(userCode);
      if (!row) throw new AirlockError("not_found", `no device request with code ${userCode}`);
      if (deviceExpired(row, now)) throw new AirlockError("expired", `the sign-in code ${userCode} expired at ${row.expires_at}`);
      if (row.status !== "pending") throw new AirlockError("conflict", `the sign-in code ${userCode} was already ${row.status === "used" ? "used" : row.status}`);
      const approve = decision.approve === true;
      if (approve && (typeof decision.user !== "string" || !decision.user.startsWith("user:"))) throw invalid("user", "an approved sign-in needs the user it acts as (user:<id>)");
      this.stmt("UPDATE device_requests SET status = ?, decided_at = ?, decided_by = ?, user = ? WHERE rid = ?").run(approve ? "approved" : "denied", now, actor, approve ? decision.user : null, row.rid);
      audit.append(approve ? "auth.device_approved" : "auth.device_denied", actor, `device:${row.id}`, {
        user_code: row.user_code,
        client_name: row.client_name,
        user: approve ? decision.user : null,
      });
      return deviceRequest(this.stmt<DeviceRow>(`SELECT ${DEVICE_COLS} FROM device_requests WHERE rid = ?`).get(row.rid)!, now);
    });
  }

  async pollDeviceRequest(deviceHash: string, token: NewToken): Promise<DevicePoll> {
    return this.tx((audit, now): DevicePoll => {
      const row = this.stmt<DeviceRow>(`SELECT ${DEVICE_COLS} FROM device_requests WHERE device_hash = ?`).get(deviceHash);
      if (!row) return { status: "unknown" };
      if (row.status === "used" || row.status === "denied") return { status: row.status };
      if (deviceExpired(row, now) || row.status === "expired") return { status: "expired" };
      if (row.status === "pending") {
        const poll = pendingPoll(row, now);
        this.stmt("UPDATE device_requests SET last_polled_at = ?, interval = ? WHERE rid = ?").run(now, poll.interval, row.rid);
        return poll;
      }
      // approved: the user token is created now, since only the poller may ever see its secret
      if (token.kind !== "user") throw invalid("token.kind", "a sign-in issues a token of kind user");
      const named = row.client_name ? { ...token, name: `${token.name}: ${row.client_name}`.slice(0, 256) } : token;
      const record = this.insertBoundToken(named, row.user!, now, { user: row.user, pairing_id: null });
      this.stmt("UPDATE device_requests SET status = 'used', last_polled_at = ?, token_id = ? WHERE rid = ?").run(now, record.id, row.rid);
      audit.append("token.created", row.user!, `token:${record.id}`, { kind: record.kind, name: record.name, client_id: null, expires_at: record.expires_at, device: row.id, user: row.user });
      return { status: "issued", token: record, user: row.user! };
    });
  }

  async getTokenBinding(tokenId: string): Promise<{ user: string | null; pairing_id: string | null } | null> {
    return this.read(() => this.stmt<{ user: string | null; pairing_id: string | null }>("SELECT user, pairing_id FROM tokens WHERE id = ?").get(tokenId) ?? null);
  }

  private pairingRow(id: string): PairingRow | null {
    return this.stmt<PairingRow>(`SELECT ${PAIRING_COLS} FROM pairings WHERE id = ?`).get(id);
  }

  async createPairing(pairing: NewPairing, actor: string): Promise<StoredPairing> {
    return this.tx((audit, now) => {
      if (typeof pairing?.id !== "string" || pairing.id.length === 0) throw invalid("id", "a pairing needs a non-empty id");
      if (typeof pairing.code_hash !== "string" || !/^[0-9a-f]{64}$/.test(pairing.code_hash)) throw invalid("code_hash", "a pairing code hash must be SHA-256 hex");
      if (typeof pairing.user !== "string" || pairing.user.length === 0) throw invalid("user", "a pairing needs its user");
      if (typeof pairing.daemon?.sign_key !== "string" || typeof pairing.daemon?.box_key !== "string") throw invalid("daemon", "a pairing needs the daemon's public keys");
      const expires = isoTime(pairing.code_expires_at, "code_expires_at");
      const client = this.s.clientGet.get(pairing.client_id);
      if (!client) throw new AirlockError("not_found", `client ${pairing.client_id} not found`);
      if (client.revoked_at !== null) throw new AirlockError("conflict", `client ${pairing.client_id} is revoked`);
      if (this.pairingRow(pairing.id)) throw new AirlockError("conflict", `pairing ${pairing.id} already exists`);
      if (this.stmt<{ one: number }>("SELECT 1 AS one FROM pairings WHERE code_hash = ?").get(pairing.code_hash)) throw new AirlockError("conflict", "a pairing with this code already exists");
      this.stmt(
        "INSERT INTO pairings (id, status, client_id, user, label, daemon_sign_key, daemon_box_key, code_hash, code_expires_at, created_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(pairing.id, pairing.client_id, pairing.user, pairing.label ?? null, pairing.daemon.sign_key, pairing.daemon.box_key, pairing.code_hash, expires, now);
      audit.append("pairing.created", actor, `pairing:${pairing.id}`, {
        client_id: pairing.client_id,
        user: pairing.user,
        label: pairing.label ?? null,
        daemon: { sign_key: pairing.daemon.sign_key, box_key: pairing.daemon.box_key },
        code_expires_at: expires,
      });
      return pairingRecord(this.pairingRow(pairing.id)!);
    });
  }

  async claimPairing(codeHash: string, claim: { approver: PublicKeys; label: string | null }, token: NewToken): Promise<{ pairing: StoredPairing; token: TokenRecord }> {
    return this.tx((audit, now) => {
      const row = this.stmt<PairingRow>(`SELECT ${PAIRING_COLS} FROM pairings WHERE code_hash = ?`).get(codeHash);
      if (!row || row.status !== "pending") throw new AirlockError("not_found", "unknown or already used pairing code");
      if (row.code_expires_at === null || row.code_expires_at <= now) throw new AirlockError("expired", `this pairing code expired at ${row.code_expires_at}: run airlock pair again`);
      if (typeof claim?.approver?.sign_key !== "string" || typeof claim.approver.box_key !== "string") throw invalid("approver", "a claim needs the approver's public keys");
      if (token.kind !== "approver") throw invalid("token.kind", "a claim issues a token of kind approver");
      this.stmt(
        "UPDATE pairings SET status = 'paired', approver_sign_key = ?, approver_box_key = ?, approver_label = ?, paired_at = ?, code_hash = NULL WHERE rid = ? AND status = 'pending'",
      ).run(claim.approver.sign_key, claim.approver.box_key, claim.label ?? null, now, row.rid);
      const actor = `approver:${row.id}`;
      const record = this.insertBoundToken(token, actor, now, { user: null, pairing_id: row.id });
      audit.append("pairing.claimed", actor, `pairing:${row.id}`, pairingClaimedDetails(row, claim, record.id));
      return { pairing: pairingRecord(this.pairingRow(row.id)!), token: record };
    });
  }

  async getPairing(id: string): Promise<StoredPairing | null> {
    return this.read(() => {
      const row = this.pairingRow(id);
      return row ? pairingRecord(row) : null;
    });
  }

  async listPairings(filter: PairingFilter): Promise<StoredPairing[]> {
    return this.read(() => {
      const q = new Where(QMARK);
      for (const key of ["user", "client_id", "status"] as const) {
        if (filter?.[key] !== undefined) q.add(`${key} = ?`, filter[key]);
      }
      const sql = `SELECT ${PAIRING_COLS} FROM pairings ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT 500`;
      return this.stmt<PairingRow>(sql).all(...(q.params as SQLQueryBindings[])).map(pairingRecord);
    });
  }

  async removePairing(id: string, actor: string): Promise<{ pairing: StoredPairing; tokens_revoked: string[]; approvals_expired: string[] }> {
    return this.tx((audit, now) => {
      const row = this.pairingRow(id);
      if (!row) throw new AirlockError("not_found", `pairing ${id} not found`);
      if (row.status === "removed") throw new AirlockError("conflict", `pairing ${id} is already removed`);
      this.stmt("UPDATE pairings SET status = 'removed', removed_at = ?, removed_by = ?, code_hash = NULL WHERE rid = ?").run(now, actor, row.rid);
      const tokens = this.stmt<{ id: string }>("UPDATE tokens SET revoked_at = ? WHERE pairing_id = ? AND revoked_at IS NULL RETURNING id")
        .all(now, id)
        .map((t) => t.id);
      const expired = this.stmt<{ id: string; client_id: string }>("UPDATE approvals SET status = 'expired', decided_at = ? WHERE pairing_id = ? AND status = 'pending' RETURNING id, client_id").all(now, id);
      for (const a of expired) audit.append("approval.expired", actor, `approval:${a.id}`, { pairing_id: id, client_id: a.client_id, reason: "unpaired" });
      audit.append("pairing.removed", actor, `pairing:${id}`, { client_id: row.client_id, user: row.user, tokens_revoked: tokens, approvals_expired: expired.map((a) => a.id) });
      return { pairing: pairingRecord(this.pairingRow(id)!), tokens_revoked: tokens, approvals_expired: expired.map((a) => a.id) };
    });
  }

  private approvalRow(id: string): ApprovalRow | null {
    return this.stmt<ApprovalRow>(`SELECT ${APPROVAL_COLS} FROM approvals WHERE id = ?`).get(id);
  }

  async createApproval(approval: NewApproval, actor: string): Promise<ApprovalRecord> {
    return this.tx((audit, now) => {
      if (typeof approval?.id !== "string" || approval.id.length === 0) throw invalid("id", "an approval needs a non-empty id");
      const expires = isoTime(approval.expires_at, "expires_at");
      const e = approval.envelope;
      if (typeof e !== "object" || e === null || e.v !== 1 || [e.epk, e.iv, e.ct, e.sig].some((x) => typeof x !== "string")) throw invalid("envelope", "an approval needs its envelope {v: 1, epk, iv, ct, sig}");
      const envelope = envelopeJson(e);
      const existing = this.approvalRow(approval.id);
      if (existing) {
        const same = existing.pairing_id === approval.pairing_id && existing.client_id === approval.client_id && existing.envelope === envelope && existing.expires_at === expires;
        if (same) return approvalRecord(existing); // a retried submission
        throw new AirlockError("conflict", `approval ${approval.id} already exists`);
      }
      const pairing = this.pairingRow(approval.pairing_id);
      if (!pairing) throw new AirlockError("not_found", `pairing ${approval.pairing_id} not found`);
      if (pairing.client_id !== approval.client_id) throw new AirlockError("conflict", `pairing ${approval.pairing_id} does not belong to client ${approval.client_id}`);
      if (pairing.status !== "paired") throw new AirlockError("conflict", `pairing ${approval.pairing_id} is ${pairing.status}, not paired`);
      this.stmt("INSERT INTO approvals (id, pairing_id, client_id, session_id, status, created_at, expires_at, envelope) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)").run(
        approval.id,
        approval.pairing_id,
        approval.client_id,
        approval.session_id ?? null,
        now,
        expires,
        envelope,
      );
      audit.append("approval.requested", actor, `approval:${approval.id}`, {
        pairing_id: approval.pairing_id,
        client_id: approval.client_id,
        session_id: approval.session_id ?? null,
        expires_at: expires,
      });
      return approvalRecord(this.approvalRow(approval.id)!);
    });
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.read(() => {
      const row = this.approvalRow(id);
      return row ? approvalRecord(row) : null;
    });
  }

  async listApprovals(filter: ApprovalFilter, page: PageRequest): Promise<Page<ApprovalRecord>> {
    return this.read(() => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(QMARK);
      if (f.status !== undefined) {
        if (!(APPROVAL_STATUSES as readonly string[]).includes(f.status)) throw invalid("status", `status must be one of ${APPROVAL_STATUSES.join(", ")}`);
        q.add("status = ?", f.status);
      }
      for (const key of ["pairing_id", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key} = ?`, f[key]);
      }
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "approvals", { t: "string", r: "int" });
        q.add("(created_at, rid) < (?, ?)", c.t, c.r);
      }
      const sql = `SELECT ${APPROVAL_COLS} FROM approvals ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT ?`;
      const rows = this.stmt<ApprovalRow>(sql).all(...(q.params as SQLQueryBindings[]), limit + 1);
      return keysetPage(rows, limit, approvalRecord, (r) => encodeCursor("approvals", { t: r.created_at, r: r.rid }));
    });
  }

  async decideApproval(id: string, decision: SignedDecision & { decision: DecisionValue }, actor: string): Promise<ApprovalRecord> {
    return this.tx((audit, now) => {
      if (decision?.decision !== "approve" && decision?.decision !== "deny") throw invalid("decision", "decision must be approve or deny");
      if (typeof decision.payload !== "string" || typeof decision.sig !== "string") throw invalid("payload", "a decision is {payload, sig}");
      const row = this.approvalRow(id);
      if (!row) throw new AirlockError("not_found", `approval ${id} not found`);
      if (row.status === "expired" || (row.status === "pending" && row.expires_at <= now)) throw new AirlockError("expired", `approval ${id} expired at ${row.expires_at}`);
      if (row.status !== "pending") throw new AirlockError("conflict", `approval ${id} was already ${row.status}`);
      const status = decision.decision === "approve" ? "approved" : "denied";
      this.stmt("UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decision_payload = ?, decision_sig = ? WHERE rid = ? AND status = 'pending'").run(
        status,
        now,
        actor,
        decision.payload,
        decision.sig,
        row.rid,
      );
      audit.append(status === "approved" ? "approval.approved" : "approval.denied", actor, `approval:${id}`, { pairing_id: row.pairing_id, client_id: row.client_id });
      return approvalRecord(this.approvalRow(id)!);
    });
  }

  async expireApprovals(): Promise<ApprovalRecord[]> {
    const due = this.stmt<{ one: number }>("SELECT 1 AS one FROM approvals WHERE status = 'pending' AND expires_at <= ? LIMIT 1");
    if (!this.read(() => due.get(this.now()))) return []; // the common case takes no write lock
    return this.tx((audit, now) => {
      const rows = this.stmt<ApprovalRow>(`UPDATE approvals SET status = 'expired', decided_at = ? WHERE status = 'pending' AND expires_at <= ? RETURNING ${APPROVAL_COLS}`).all(now, now);
      for (const r of rows) audit.append("approval.expired", "system", `approval:${r.id}`, { pairing_id: r.pairing_id, client_id: r.client_id, reason: "timeout" });
      return rows.map(approvalRecord);
    });
  }

  async recordVerification(id: string, result: VerificationInput, actor: string): Promise<ApprovalRecord> {
    return this.tx((audit, now) => {
      checkVerification(result);
      const row = this.approvalRow(id);
      if (!row) throw new AirlockError("not_found", `approval ${id} not found`);
      if (row.verification !== null) throw new AirlockError("conflict", `approval ${id} already has its verification`);
      const verification = { ok: result.ok, reason: result.reason, verify_ms: result.verify_ms, total_ms: result.total_ms, at: now };
      this.stmt("UPDATE approvals SET verification = ? WHERE rid = ?").run(JSON.stringify(verification), row.rid);
      audit.append(result.ok ? "approval.verified" : "approval.rejected", actor, `approval:${id}`, verificationDetails(row, result));
      return approvalRecord(this.approvalRow(id)!);
    });
  }

  async approvalCounts(): Promise<Record<ApprovalStatus, number>> {
    return this.read(() => {
      const counts = Object.fromEntries(APPROVAL_STATUSES.map((s) => [s, 0])) as Record<ApprovalStatus, number>;
      for (const r of this.stmt<{ status: ApprovalStatus; n: number }>("SELECT status, count(*) AS n FROM approvals GROUP BY status").all()) counts[r.status] = r.n;
      return counts;
    });
  }

  // ------------------------------------------------------------ listing helpers

  /** `since` inclusive, `until` exclusive, on a time column. */
}

function mapSqliteError(error: unknown): unknown {
  if (error instanceof AirlockError) return error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") return error;
  if (isBusy(error)) return new AirlockError("unavailable", "the database is busy: try again", [], { cause: error });
  if (code.startsWith("SQLITE_CONSTRAINT")) return new AirlockError("conflict", (error as Error).message, [], { cause: error });
  return error;
}
