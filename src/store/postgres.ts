/**
 * The shared store (DESIGN 6): PostgreSQL through Bun's built-in SQL client, so any number of
 * gateway replicas can share one database. Same contract as sqlite.ts (test/store/contract.ts).
 *
 * - Open: connect, then migrate (_pg-migrations.ts) in one transaction under a database-wide
 *   advisory lock, so replicas starting together do not race; a schema newer than this binary is
 *   refused.
 * - Every audited mutation runs in one transaction whose FIRST statement is
 *   `SELECT ... FROM store_head WHERE one = 1 FOR UPDATE`. That row lock is the chain's append lock
 *   across all connections and all replicas: writers queue on it, each reads the head as the
 *   previous writer committed it (READ COMMITTED takes a fresh snapshot per statement, and the
 *   lock is granted only after that commit), seals its events onto it, writes them and moves the
 *   head, then commits. So the chain stays one gapless line, and every check-then-write inside the
 *   transaction (duplicate ids, session transitions, single-use tokens and codes) sees the latest
 *   committed state with no other writer in between. Unique constraints and
 *   `ON CONFLICT (id) DO NOTHING` (decision ingest) back that up.
 * - Writes that are not audited (touchToken, touchClient) are single UPDATEs and take no head lock.
 * - Text: PostgreSQL text cannot hold U+0000 and Bun sends a lone surrogate as U+FFFD, so every
 *   string this store writes is made well-formed with U+FFFD for both (`pgText`) before it is used,
 *   also before an event is sealed, so what is hashed is what is stored. Audit details, documents
 *   and `normalized` are stored as JSON text (escaped), so they keep every character.
 * - Audit `created_at` never decreases along `seq` (stamped max(clock, head time)), as in SQLite.
 * - Signals between replicas (`broadcast` / `subscribe`): NOTIFY / LISTEN on the one channel
 *   `airlock_events`, payload = the signal's JSON. LISTEN runs on Bun's dedicated listen connection
 *   (outside the pool), opened by the first subscriber; Bun reconnects it when it drops and
 *   re-subscribes, and each re-subscription is told to the subscribers as `STORE_RESYNC` (what was
 *   sent meanwhile is lost). A first LISTEN that fails (database down) is retried every few seconds.
 */
import { SQL } from "bun";
import { randomUUID } from "node:crypto";
import { sealEvent, type AuditEvent } from "../audit/chain";
import { auditCode, type AuditEventType } from "../audit/events";
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus, type DecisionValue, type PublicKeys, type SignedDecision } from "../protocol/approvals";
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
import { APPROVAL_COLS, approvalRecord, deviceExpired, deviceRequest, envelopeJson, pairingRecord, pendingPoll, type ApprovalRow, type DeviceRow, type PairingRow } from "./_approvals";
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
import { DOLLAR, keysetPage, Where } from "./_where";
import { clientEnrolledDetails, pairingClaimedDetails, sessionCreatedDetails, tokenCreatedDetails, verificationDetails } from "./_events";
import { AUDIT_COLS, auditEvent, DECISION_COLS, decisionRecord, docRecord, sessionRecord, TOKEN_COLS, tokenRecord, roleBundle, type DocRow, type TokenRow } from "./_records";
import { MIGRATION_LOCK_KEY, PG_LATEST_VERSION, PG_MIGRATIONS } from "./_pg-migrations";
import type {
  ApprovalFilter,
  AuditFilter,
  DecisionBatch,
  DecisionBatchResult,
  DecisionFilter,
  DecisionInput,
  DecisionStats,
  DevicePoll,
  DeviceRequest,
  NewApproval,
  NewClient,
  NewDeviceRequest,
  NewPairing,
  NewSession,
  NewToken,
  PageRequest,
  PairingFilter,
  RoleBundle,
  SessionFilter,
  Store,
  StoreCounts,
  StoreOptions,
  StoreSignal,
  StoreSubscription,
  StoredPairing,
  VerificationInput,
} from "./types";
import { STORE_RESYNC, STORE_SIGNAL_MAX_BYTES } from "./types";

export interface PostgresStoreOptions extends StoreOptions {
  /** connections in the pool (default 10) */
  max?: number;
  /** seconds to wait for a lock (the chain's head included) before a write fails as unavailable (default 30) */
  lockTimeoutSeconds?: number;
}

const ITERATE_BATCH = 1_000;
/** rows per multi-row INSERT (PostgreSQL allows 65,535 parameters per statement) */
const INSERT_CHUNK = 500;
/** the NOTIFY channel of store signals */
const SIGNAL_CHANNEL = "airlock_events";

// ---------------------------------------------------------------- open

/** `postgres://user:***@host/db`: a URL fit for logs and error messages */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

/** Connects to and migrates the PostgreSQL store at `url` (`postgres://` or `postgresql://`). */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const now = options.now ?? (() => new Date());
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new AirlockError("usage", "a PostgreSQL URL starts with postgres:// or postgresql://");
  const lockTimeout = Math.round((options.lockTimeoutSeconds ?? 30) * 1000);
  const sql = new SQL({
    url,
    max: options.max ?? 10,
    connection: { application_name: "airlock", lock_timeout: lockTimeout },
  });
  try {
    await migrate(sql, now);
  } catch (error) {
    await sql.close({ timeout: 0 }).catch(() => {});
    if (error instanceof AirlockError) throw error;
    throw new AirlockError("unavailable", `cannot open the PostgreSQL store at ${redactDatabaseUrl(url)}: ${(error as Error)?.message ?? String(error)}`, [], { cause: error });
  }
  return new PostgresStore(sql, now);
}

async function migrate(sql: SQL, now: () => Date): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.unsafe("CREATE TABLE IF NOT EXISTS airlock_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    const [row] = (await tx.unsafe("SELECT coalesce(max(version), 0) AS v FROM airlock_schema_migrations")) as { v: number }[];
    const current = Number(row?.v ?? 0);
    if (current > PG_LATEST_VERSION) {
      throw new AirlockError("unavailable", `the PostgreSQL store has schema version ${current}, newer than this airlock understands (${PG_LATEST_VERSION}): upgrade airlock`, [
        { path: "AIRLOCK_DATABASE_URL", message: `schema version ${current} > ${PG_LATEST_VERSION}` },
      ]);
    }
    for (const m of PG_MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.unsafe(m.sql);
      await tx.unsafe("INSERT INTO airlock_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [m.version, m.name, now().toISOString()]);
    }
  });
}

// ---------------------------------------------------------------- helpers

const NEEDS_CLEANING = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string as PostgreSQL text can hold it: U+0000 and lone surrogates become U+FFFD. */
export function pgText(s: string): string {
  if (!NEEDS_CLEANING.test(s)) return s;
  return s.replace(LONE_SURROGATE, "\ufffd").replaceAll("\u0000", "\ufffd");
}

function clean(value: unknown): unknown {
  return typeof value === "string" ? pgText(value) : value;
}

/** `($1, $2, ...), (...)` for `rows` rows of `columns` parameters */
function placeholders(rows: number, columns: number): string {
  const out: string[] = [];
  let n = 1;
  for (let r = 0; r < rows; r++) {
    const cols: string[] = [];
    for (let c = 0; c < columns; c++) cols.push(`$${n++}`);
    out.push(`(${cols.join(", ")})`);
  }
  return out.join(", ");
}


// ---------------------------------------------------------------- rows

interface SessionRow extends SessionRecord {
  rid: string;
  token_hash: string;
}
interface DecisionRow extends Omit<DecisionRecord, "normalized"> {
  rid: string;
  normalized: string;
}
interface AuditRow extends Omit<AuditEvent, "details" | "seq"> {
  seq: string;
  details: string;
}
interface HeadRow {
  seq: string;
  hash: string;
  created_at: string;
  decisions_allow: string;
  decisions_require_approval: string;
  decisions_block: string;
}

function clientRecord(r: ClientRecord): ClientRecord {
  return { id: r.id, name: r.name, hostname: r.hostname, user: r.user, version: r.version, created_at: r.created_at, last_seen_at: r.last_seen_at, revoked_at: r.revoked_at };
}

const CLIENT_COLS = 'id, name, hostname, "user", version, created_at, last_seen_at, revoked_at';
const DOC_COLS = "id, version, document, created_at, updated_at";
const SESSION_COLS = 'rid, id, client_id, agent, role, "user", host, cwd, pid, status, token_hash, created_at, updated_at, started_at, ended_at, exit_code, revoked_by';
const DEVICE_COLS = 'rid, id, device_hash, user_code, client_name, status, "interval", created_at, expires_at, last_polled_at, decided_at, decided_by, "user", token_id';
const PAIRING_COLS =
  'rid, id, status, client_id, "user", label, approver_label, daemon_sign_key, daemon_box_key, approver_sign_key, approver_box_key, code_hash, code_expires_at, created_at, paired_at, removed_at, removed_by';

// ---------------------------------------------------------------- connection wrapper

/** Queries on the pool or inside a transaction; every string parameter goes through `pgText`. */
class Db {
  constructor(private readonly c: SQL) {}

  async all<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.c.unsafe(text, params.map(clean))) as unknown as R[];
  }

  async get<R>(text: string, params: readonly unknown[] = []): Promise<R | null> {
    return (await this.all<R>(text, params))[0] ?? null;
  }

  /** rows affected */
  async run(text: string, params: readonly unknown[] = []): Promise<number> {
    const result = (await this.c.unsafe(text, params.map(clean))) as unknown as { count: number | null };
    return Number(result.count ?? 0);
  }
}

/**
 * Seals events onto the chain inside the caller's transaction (whose first statement locked the
 * head); `finish()` writes them and moves the head (and the decision totals) in that transaction.
 */
class AuditAppender {
  private head: { seq: number; hash: string; created_at: string } | null;
  /** every event of this transaction is stamped with it */
  readonly createdAt: string;
  private readonly rows: unknown[][] = [];
  private readonly added: Record<VerdictKind, number> = { allow: 0, require_approval: 0, block: 0 };

  constructor(row: HeadRow, now: string) {
    const seq = Number(row.seq);
    this.head = seq > 0 ? { seq, hash: row.hash, created_at: row.created_at } : null;
    // never older than the newest event: time ranges map onto seq ranges
    this.createdAt = this.head && this.head.created_at > now ? this.head.created_at : now;
  }

  append(type: AuditEventType, actor: string, target: string, details: Record<string, unknown>): void {
    const e = sealEvent(this.head, { id: randomUUID(), type, code: auditCode(type), actor: pgText(actor), target: pgText(target), details, created_at: this.createdAt }, sha256Hex);
    this.head = { seq: e.seq, hash: e.hash, created_at: e.created_at };
    this.rows.push([e.seq, e.id, e.type, e.code, e.actor, e.target, JSON.stringify(details), e.created_at, e.prev_hash, e.hash]);
  }

  decided(verdict: VerdictKind): void {
    this.added[verdict]++;
  }

  async finish(db: Db): Promise<void> {
    if (this.rows.length === 0 || !this.head) return;
    for (let i = 0; i < this.rows.length; i += INSERT_CHUNK) {
      const chunk = this.rows.slice(i, i + INSERT_CHUNK);
      await db.run(`INSERT INTO audit_events (${AUDIT_COLS}) VALUES ${placeholders(chunk.length, 10)}`, chunk.flat());
    }
    await db.run(
      "UPDATE store_head SET seq = $1, hash = $2, created_at = $3, decisions_allow = decisions_allow + $4, decisions_require_approval = decisions_require_approval + $5, decisions_block = decisions_block + $6 WHERE one = 1",
      [this.head.seq, this.head.hash, this.head.created_at, this.added.allow, this.added.require_approval, this.added.block],
    );
  }
}

function mapPgError(error: unknown): unknown {
  if (error instanceof AirlockError) return error;
  if (!(error instanceof SQL.PostgresError)) {
    const code = (error as { code?: unknown })?.code;
    if (typeof code === "string" && code.startsWith("ERR_POSTGRES_")) {
      return new AirlockError("unavailable", `the database is unreachable: ${(error as Error).message}`, [], { cause: error });
    }
    return error;
  }
  const sqlstate = error.errno ?? "";
  if (sqlstate === "23505" || sqlstate === "23503") return new AirlockError("conflict", error.message, [], { cause: error });
  if (sqlstate === "40001" || sqlstate === "40P01" || sqlstate === "55P03" || sqlstate === "57014" || sqlstate.startsWith("08") || sqlstate.startsWith("57P")) {
    return new AirlockError("unavailable", `the database is busy or unreachable: try again (${error.message})`, [], { cause: error });
  }
  if (sqlstate === "") return new AirlockError("unavailable", `the database is unreachable: ${error.message}`, [], { cause: error });
  return error;
}

// ---------------------------------------------------------------- the store

class PostgresStore implements Store {
  readonly backend = "postgres" as const;
  private closed = false;
  private readonly db: Db;
  /** role bundle ETags by the text of the rows they hash (see getRoleBundle) */
  private readonly etags = new Map<string, string>();

  constructor(
    private readonly sql: SQL,
    private readonly clock: () => Date,
  ) {
    this.db = new Db(sql);
  }

  // ------------------------------------------------------------ plumbing

  private now(): string {
    return this.clock().toISOString();
  }

  private open(): void {
    if (this.closed) throw new AirlockError("unavailable", "the store is closed");
  }

  /**
   * Runs `fn` in a transaction that first locks the chain's head (see the file comment), with an
   * audit appender; commits, or rolls back on any throw.
   */
  private async tx<T>(fn: (db: Db, audit: AuditAppender, now: string) => Promise<T>): Promise<T> {
    this.open();
    try {
      const box = await this.sql.begin(async (tx) => {
        const db = new Db(tx);
        const head = await db.get<HeadRow>("SELECT seq, hash, created_at, decisions_allow, decisions_require_approval, decisions_block FROM store_head WHERE one = 1 FOR UPDATE");
        if (!head) throw new AirlockError("unavailable", "the store's head row is missing: the database was altered behind the store's back");
        // the clock is read once the lock is held: replicas' writes are stamped in the order they commit (as far as their clocks agree)
        const now = this.now();
        const audit = new AuditAppender(head, now);
        const value = await fn(db, audit, now);
        await audit.finish(db);
        return { value };
      });
      return box.value as T;
    } catch (error) {
      throw mapPgError(error);
    }
  }

  private async read<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.open();
    try {
      return await fn(this.db);
    } catch (error) {
      throw mapPgError(error);
    }
  }

  async ping(): Promise<void> {
    await this.read((db) => db.get("SELECT 1 AS one"));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signalHandlers.clear();
    const listening = this.listening;
    this.listening = null;
    this.listenGeneration++;
    this.listenRetry?.();
    if (listening) await listening.then((sub) => sub?.unlisten()).catch(() => {});
    await this.sql.close({ timeout: 5 });
  }

  // ------------------------------------------------------------ signals (LISTEN / NOTIFY)

  private readonly signalHandlers = new Set<(signal: StoreSignal) => void>();
  /** the LISTEN registration, once asked for: null until the first subscriber, and after close */
  private listening: Promise<SQL.ListenSubscription | null> | null = null;
  private listenReady: Promise<void> = Promise.resolve();
  /** bumped when listening stops: a LISTEN still being attempted for an older generation gives up */
  private listenGeneration = 0;
  /** cuts the wait between two attempts at a first LISTEN short (close) */
  private listenRetry: (() => void) | null = null;

  async broadcast(signal: StoreSignal): Promise<void> {
    this.open();
    const payload = JSON.stringify({ type: signal.type, data: signal.data ?? null });
    const bytes = Buffer.byteLength(payload, "utf8");
    if (bytes > STORE_SIGNAL_MAX_BYTES) {
      throw new AirlockError("invalid_input", `a store signal is at most ${STORE_SIGNAL_MAX_BYTES} bytes of JSON, this one ${bytes}`, [{ path: "signal", message: "too large" }]);
    }
    try {
      await this.sql.notify(SIGNAL_CHANNEL, payload);
    } catch (error) {
      throw mapPgError(error);
    }
  }

  subscribe(onSignal: (signal: StoreSignal) => void): StoreSubscription {
    this.open();
    this.signalHandlers.add(onSignal);
    if (!this.listening) {
      let resolveReady!: () => void;
      this.listenReady = new Promise<void>((resolve) => {
        resolveReady = resolve;
      });
      this.listening = this.listen(++this.listenGeneration, resolveReady);
    }
    return {
      ready: this.listenReady,
      unsubscribe: () => {
        if (!this.signalHandlers.delete(onSignal) || this.signalHandlers.size > 0) return;
        // the last one gone: stop listening (a later subscriber starts again)
        const listening = this.listening;
        this.listening = null;
        this.listenGeneration++;
        this.listenRetry?.();
        void listening?.then((sub) => sub?.unlisten()).catch(() => {});
      },
    };
  }

  private async listen(generation: number, ready: () => void): Promise<SQL.ListenSubscription | null> {
    let acknowledged = 0;
    const onListen = () => {
      if (generation !== this.listenGeneration) return;
      if (acknowledged++ === 0) ready();
      else this.deliver({ type: STORE_RESYNC, data: null }); // reconnected: what was sent meanwhile is lost
    };
    for (let attempt = 0; ; attempt++) {
      // (re)check: close() or the last unsubscribe may have come while we waited
      if (this.closed || generation !== this.listenGeneration) return null;
      try {
        const sub = await this.sql.listen(
          SIGNAL_CHANNEL,
          (payload) => {
            if (generation === this.listenGeneration) this.received(payload); // an older registration being removed does not deliver twice
          },
          onListen,
        );
        if (this.closed || generation !== this.listenGeneration) {
          await sub.unlisten().catch(() => {});
          return null;
        }
        return sub;
      } catch {
        // the database is unreachable: try again, backing off to 5 s
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt));
          this.listenRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.listenRetry = null;
      }
    }
  }

  private received(payload: string): void {
    let signal: unknown;
    try {
      signal = JSON.parse(payload);
    } catch {
      return; // not ours
    }
    if (typeof signal !== "object" || signal === null || typeof (signal as StoreSignal).type !== "string") return;
    this.deliver({ type: (signal as StoreSignal).type, data: (signal as StoreSignal).data ?? null });
  }

  private deliver(signal: StoreSignal): void {
    for (const handler of [...this.signalHandlers]) {
      try {
        handler(signal);
      } catch {
        // a broken subscriber must not break the others (nor be an uncaught exception on Bun's listen connection)
      }
    }
  }

  // ------------------------------------------------------------ initialize

  async initialize(seed: { policies: JsonObject[]; roles: JsonObject[]; adminToken: NewToken }): Promise<boolean> {
    return this.tx(async (db, audit, now) => {
      if (await db.get("SELECT value FROM meta WHERE key = 'initialized_at'")) return false;
      const policies: PolicyRecord[] = [];
      for (const doc of seed.policies) policies.push(await this.insertPolicy(db, doc, now));
      const roles: RoleRecord[] = [];
      for (const doc of seed.roles) roles.push(await this.insertRole(db, doc, now));
      const token = await this.insertToken(db, seed.adminToken, "system", now);
      await db.run("INSERT INTO meta (key, value) VALUES ('initialized_at', $1)", [now]);
      audit.append("store.initialized", "system", "store", {
        policies: policies.map((p) => ({ id: p.id, version: p.version })),
        roles: roles.map((r) => ({ id: r.id, version: r.version })),
        admin_token: token.id,
      });
      return true;
    });
  }

  // ------------------------------------------------------------ tokens

  private async insertToken(db: Db, token: NewToken, actor: string, now: string, binding?: { user: string | null; pairing_id: string | null }): Promise<TokenRecord> {
    const clientId = checkNewToken(token);
    if (clientId !== null && !(await db.get("SELECT 1 AS one FROM clients WHERE id = $1", [clientId]))) throw clientNotFound(clientId);
    const expires = optionalIso(token.expires_at, "expires_at");
    if (await db.get("SELECT 1 AS one FROM tokens WHERE id = $1", [token.id])) throw new AirlockError("conflict", `token ${token.id} already exists`);
    if (await db.get("SELECT 1 AS one FROM tokens WHERE hash = $1", [token.hash])) throw new AirlockError("conflict", "a token with this secret already exists");
    const row = await db.get<TokenRow>(
      `INSERT INTO tokens (id, kind, name, hash, client_id, created_at, created_by, expires_at, "user", pairing_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${TOKEN_COLS}`,
      [token.id, token.kind, token.name, token.hash, clientId, now, actor, expires, binding?.user ?? null, binding?.pairing_id ?? null],
    );
    return tokenRecord(row!);
  }

  async createToken(token: NewToken, actor: string): Promise<TokenRecord> {
    return this.tx(async (db, audit, now) => {
      const record = await this.insertToken(db, token, actor, now);
      audit.append(record.kind === "enrollment" ? "client.enrollment_token.created" : "token.created", actor, `token:${record.id}`, tokenCreatedDetails(record));
      return record;
    });
  }

  async findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null> {
    return this.read(async (db) => {
      const row = await db.get<TokenRow>(
        `SELECT ${TOKEN_COLS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) AND NOT (kind = 'enrollment' AND used_at IS NOT NULL)`,
        [hash, this.now()],
      );
      return row ? { ...tokenRecord(row), hash: row.hash } : null;
    });
  }

  async touchToken(id: string): Promise<void> {
    await this.read(async (db) => {
      if ((await db.run("UPDATE tokens SET last_used_at = $1 WHERE id = $2", [this.now(), id])) === 0) throw new AirlockError("not_found", `token ${id} not found`);
    });
  }

  async listTokens(kind?: TokenKind): Promise<TokenRecord[]> {
    return this.read(async (db) => {
      const rows =
        kind === undefined
          ? await db.all<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens ORDER BY created_at DESC, rid DESC`)
          : await db.all<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens WHERE kind = $1 ORDER BY created_at DESC, rid DESC`, [kind]);
      return rows.map(tokenRecord);
    });
  }

  async revokeToken(id: string, actor: string): Promise<TokenRecord> {
    return this.tx(async (db, audit, now) => {
      const row = await db.get<TokenRow>(`SELECT ${TOKEN_COLS} FROM tokens WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `token ${id} not found`);
      if (row.revoked_at !== null) throw new AirlockError("conflict", `token ${id} is already revoked`);
      const updated = await db.get<TokenRow>(`UPDATE tokens SET revoked_at = $1 WHERE id = $2 RETURNING ${TOKEN_COLS}`, [now, id]);
      audit.append("token.revoked", actor, `token:${id}`, { kind: row.kind, name: row.name, client_id: row.client_id });
      return tokenRecord(updated!);
    });
  }

  // ------------------------------------------------------------ policies

  private async insertPolicy(db: Db, document: JsonObject, now: string): Promise<PolicyRecord> {
    const id = pgText(documentId(document, "policy"));
    if (await db.get("SELECT 1 AS one FROM policies WHERE id = $1", [id])) throw new AirlockError("conflict", `policy ${id} already exists`, [{ path: "id", message: "already exists" }]);
    const row = await db.get<DocRow>(`INSERT INTO policies (id, version, document, created_at, updated_at) VALUES ($1, 1, $2, $3, $3) RETURNING ${DOC_COLS}`, [id, JSON.stringify(document), now]);
    return docRecord(row!);
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    return this.read(async (db) => (await db.all<DocRow>(`SELECT ${DOC_COLS} FROM policies ORDER BY id`)).map(docRecord));
  }

  async getPolicy(id: string): Promise<PolicyRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM policies WHERE id = $1`, [id]);
      return row ? docRecord(row) : null;
    });
  }

  async createPolicy(document: JsonObject, actor: string): Promise<PolicyRecord> {
    return this.tx(async (db, audit, now) => {
      const record = await this.insertPolicy(db, document, now);
      audit.append("policy.created", actor, `policy:${record.id}`, { version: 1, name: str(document.name), status: str(document.status) });
      return record;
    });
  }

  async updatePolicy(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<PolicyRecord> {
    return this.tx(async (db, audit, now) => {
      const doc = documentFor(id, document, "policy");
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM policies WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `policy ${id} not found`);
      const current = Number(row.version);
      versionCheck("policy", id, current, ifVersion);
      const version = current + 1;
      const updated = await db.get<DocRow>(`UPDATE policies SET version = $1, document = $2, updated_at = $3 WHERE id = $4 RETURNING ${DOC_COLS}`, [version, JSON.stringify(doc), now, id]);
      const before = JSON.parse(row.document) as JsonObject;
      audit.append("policy.updated", actor, `policy:${id}`, {
        version,
        previous_version: current,
        name: str(doc.name),
        status: str(doc.status),
        previous_status: str(before.status),
      });
      return docRecord(updated!);
    });
  }

  async deletePolicy(id: string, actor: string): Promise<void> {
    await this.tx(async (db, audit) => {
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM policies WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `policy ${id} not found`);
      const roles = (await db.all<{ role_id: string }>("SELECT DISTINCT role_id FROM role_policies WHERE policy_id = $1 ORDER BY role_id", [id])).map((r) => r.role_id);
      if (roles.length > 0) {
        throw new AirlockError(
          "conflict",
          `policy ${id} is attached to role${roles.length > 1 ? "s" : ""} ${roles.join(", ")}: detach it first`,
          roles.map((r) => ({ path: "roles", message: `attached to role ${r}` })),
        );
      }
      await db.run("DELETE FROM policies WHERE id = $1", [id]);
      audit.append("policy.deleted", actor, `policy:${id}`, { version: Number(row.version), name: str((JSON.parse(row.document) as JsonObject).name) });
    });
  }

  // ------------------------------------------------------------ roles

  /** Replaces a role's attachments; every attached policy must exist. */
  private async attach(db: Db, roleId: string, policies: string[]): Promise<void> {
    const missing: ErrorDetail[] = [];
    for (const [i, p] of policies.entries()) {
      if (!(await db.get("SELECT 1 AS one FROM policies WHERE id = $1", [p]))) missing.push({ path: `policies[${i}]`, message: `policy ${p} does not exist` });
    }
    if (missing.length > 0) {
      const names = missing.map((m) => m.message.split(" ")[1]);
      throw new AirlockError("conflict", `role ${roleId} attaches unknown polic${names.length > 1 ? "ies" : "y"} ${names.join(", ")}`, missing);
    }
    await db.run("DELETE FROM role_policies WHERE role_id = $1", [roleId]);
    if (policies.length > 0) {
      await db.run(
        `INSERT INTO role_policies (role_id, pos, policy_id) VALUES ${placeholders(policies.length, 3)}`,
        policies.flatMap((p, i) => [roleId, i, p]),
      );
    }
  }

  private async insertRole(db: Db, document: JsonObject, now: string): Promise<RoleRecord> {
    const id = pgText(documentId(document, "role"));
    const policies = rolePolicyIds(document);
    if (await db.get("SELECT 1 AS one FROM roles WHERE id = $1", [id])) throw new AirlockError("conflict", `role ${id} already exists`, [{ path: "id", message: "already exists" }]);
    const row = await db.get<DocRow>(`INSERT INTO roles (id, version, document, created_at, updated_at) VALUES ($1, 1, $2, $3, $3) RETURNING ${DOC_COLS}`, [id, JSON.stringify(document), now]);
    await this.attach(db, id, policies);
    return docRecord(row!);
  }

  async listRoles(): Promise<RoleRecord[]> {
    return this.read(async (db) => (await db.all<DocRow>(`SELECT ${DOC_COLS} FROM roles ORDER BY id`)).map(docRecord));
  }

  async getRole(id: string): Promise<RoleRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM roles WHERE id = $1`, [id]);
      return row ? docRecord(row) : null;
    });
  }

  async createRole(document: JsonObject, actor: string): Promise<RoleRecord> {
    return this.tx(async (db, audit, now) => {
      const record = await this.insertRole(db, document, now);
      audit.append("role.created", actor, `role:${record.id}`, { version: 1, name: str(document.name), policies: rolePolicyIds(document) });
      return record;
    });
  }

  async updateRole(id: string, document: JsonObject, actor: string, ifVersion?: number): Promise<RoleRecord> {
    return this.tx(async (db, audit, now) => {
      const doc = documentFor(id, document, "role");
      const policies = rolePolicyIds(doc);
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM roles WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `role ${id} not found`);
      const current = Number(row.version);
      versionCheck("role", id, current, ifVersion);
      const version = current + 1;
      const updated = await db.get<DocRow>(`UPDATE roles SET version = $1, document = $2, updated_at = $3 WHERE id = $4 RETURNING ${DOC_COLS}`, [version, JSON.stringify(doc), now, id]);
      await this.attach(db, id, policies);
      audit.append("role.updated", actor, `role:${id}`, { version, previous_version: current, name: str(doc.name), policies });
      return docRecord(updated!);
    });
  }

  async deleteRole(id: string, actor: string): Promise<void> {
    await this.tx(async (db, audit) => {
      const row = await db.get<DocRow>(`SELECT ${DOC_COLS} FROM roles WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `role ${id} not found`);
      await db.run("DELETE FROM roles WHERE id = $1", [id]); // role_policies cascade
      audit.append("role.deleted", actor, `role:${id}`, { version: Number(row.version), name: str((JSON.parse(row.document) as JsonObject).name) });
    });
  }

  async getRoleBundle(id: string): Promise<RoleBundle | null> {
    return this.read(async (db) => {
      // one statement: the role and its policies from the same snapshot
      const rows = await db.all<DocRow & { k: number; pos: number }>(
        `SELECT 0 AS k, -1 AS pos, ${DOC_COLS} FROM roles WHERE id = $1
         UNION ALL
         SELECT 1 AS k, rp.pos, p.id, p.version, p.document, p.created_at, p.updated_at FROM role_policies rp JOIN policies p ON p.id = rp.policy_id WHERE rp.role_id = $1
         ORDER BY k, pos`,
        [id],
      );
      if (rows.length === 0 || rows[0]!.k !== 0) return null;
      return roleBundle(rows, this.etags);
    });
  }

  // ------------------------------------------------------------ clients

  async enrollClient(enrollmentHash: string, client: NewClient, clientToken: NewToken): Promise<{ client: ClientRecord; token: TokenRecord }> {
    return this.tx(async (db, audit, now) => {
      const enrollment = await db.get<TokenRow>(
        `SELECT ${TOKEN_COLS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) AND NOT (kind = 'enrollment' AND used_at IS NOT NULL)`,
        [enrollmentHash, now],
      );
      if (!enrollment || enrollment.kind !== "enrollment") throw new AirlockError("unauthorized", "invalid, expired or already used enrollment token");
      if (typeof client?.id !== "string" || client.id.length === 0) throw invalid("id", "a client needs a non-empty id");
      if (clientToken.kind !== "client") throw invalid("token.kind", "an enrolled client's token must be of kind client");
      if (clientToken.client_id != null && clientToken.client_id !== client.id) throw invalid("token.client_id", "the client token must belong to the enrolled client");
      const clientId = pgText(client.id);
      if (await db.get("SELECT 1 AS one FROM clients WHERE id = $1", [clientId])) throw new AirlockError("conflict", `client ${client.id} already exists`);
      if ((await db.run("UPDATE tokens SET used_at = $1, last_used_at = $1 WHERE id = $2 AND used_at IS NULL", [now, enrollment.id])) !== 1) {
        throw new AirlockError("unauthorized", "invalid, expired or already used enrollment token");
      }
      const created = await db.get<ClientRecord>(`INSERT INTO clients (id, name, hostname, "user", version, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${CLIENT_COLS}`, [
        clientId,
        client.name,
        client.hostname,
        client.user,
        client.version,
        now,
      ]);
      const actor = `client:${clientId}`;
      const token = await this.insertToken(db, { ...clientToken, client_id: clientId }, actor, now);
      audit.append("client.enrolled", actor, `client:${clientId}`, clientEnrolledDetails(client, enrollment.id, token.id));
      return { client: clientRecord(created!), token };
    });
  }

  async listClients(): Promise<ClientRecord[]> {
    return this.read(async (db) => (await db.all<ClientRecord>(`SELECT ${CLIENT_COLS} FROM clients ORDER BY created_at DESC, rid DESC`)).map(clientRecord));
  }

  async getClient(id: string): Promise<ClientRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<ClientRecord>(`SELECT ${CLIENT_COLS} FROM clients WHERE id = $1`, [id]);
      return row ? clientRecord(row) : null;
    });
  }

  async touchClient(id: string): Promise<void> {
    await this.read(async (db) => {
      if ((await db.run("UPDATE clients SET last_seen_at = $1 WHERE id = $2", [this.now(), id])) === 0) throw clientNotFound(id);
    });
  }

  async revokeClient(id: string, actor: string): Promise<ClientRecord> {
    return this.tx(async (db, audit, now) => {
      const row = await db.get<ClientRecord>(`SELECT ${CLIENT_COLS} FROM clients WHERE id = $1`, [id]);
      if (!row) throw clientNotFound(id);
      if (row.revoked_at !== null) throw new AirlockError("conflict", `client ${id} is already revoked`);
      const updated = await db.get<ClientRecord>(`UPDATE clients SET revoked_at = $1 WHERE id = $2 RETURNING ${CLIENT_COLS}`, [now, id]);
      const tokens = (await db.all<{ id: string; rid: string }>("UPDATE tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL RETURNING id, rid", [now, id]))
        .sort((a, b) => Number(a.rid) - Number(b.rid))
        .map((t) => t.id);
      audit.append("client.revoked", actor, `client:${id}`, { name: row.name, hostname: row.hostname, tokens_revoked: tokens });
      return clientRecord(updated!);
    });
  }

  // ------------------------------------------------------------ sessions

  async createSession(session: NewSession, actor: string): Promise<SessionRecord> {
    return this.tx(async (db, audit, now) => {
      checkNewSession(session);
      if (session.pid != null && !(Number.isInteger(session.pid) && session.pid >= -2147483648 && session.pid <= 2147483647)) throw invalid("pid", "pid must be an integer");
      const clientId = session.client_id ?? null;
      if (clientId !== null && !(await db.get("SELECT 1 AS one FROM clients WHERE id = $1", [clientId]))) throw clientNotFound(clientId);
      const id = pgText(session.id);
      if (await db.get("SELECT 1 AS one FROM sessions WHERE id = $1", [id])) throw new AirlockError("conflict", `session ${session.id} already exists`);
      if (await db.get("SELECT 1 AS one FROM sessions WHERE token_hash = $1", [session.token_hash])) throw new AirlockError("conflict", "a session with this token already exists");
      const row = await db.get<SessionRow>(
        `INSERT INTO sessions (id, client_id, agent, role, "user", host, cwd, pid, status, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'ready', $9, $10, $10) RETURNING ${SESSION_COLS}`,
        [id, clientId, session.agent, session.role, session.user, session.host, session.cwd, session.pid ?? null, session.token_hash, now],
      );
      audit.append("session.created", actor, `session:${id}`, sessionCreatedDetails(session, clientId));
      return sessionRecord(row!);
    });
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE id = $1`, [id]);
      return row ? sessionRecord(row) : null;
    });
  }

  async findSessionByToken(hash: string): Promise<SessionRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE token_hash = $1`, [hash]);
      return row ? sessionRecord(row) : null;
    });
  }

  async listSessions(filter: SessionFilter, page: PageRequest): Promise<Page<SessionRecord>> {
    return this.read(async (db) => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(DOLLAR);
      if (f.status !== undefined) {
        checkSessionStatus(f.status);
        q.add("status = ?", f.status);
      }
      for (const key of ["agent", "role", "user", "host", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key === "user" ? '"user"' : key} = ?`, f[key]);
      }
      q.timeRange("created_at", f.since, f.until);
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "sessions", { t: "string", r: "int" });
        q.add("(created_at, rid) < (?, ?::bigint)", c.t, c.r);
      }
      const rows = await db.all<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT ${q.param(limit + 1)}`, q.params);
      return keysetPage(rows, limit, sessionRecord, (r) => encodeCursor("sessions", { t: r.created_at, r: Number(r.rid) }));
    });
  }

  async transitionSession(id: string, to: SessionStatus, actor: string, extra?: { exit_code?: number | null }): Promise<SessionRecord> {
    return this.tx(async (db, audit, now) => {
      checkSessionStatus(to);
      const row = await db.get<SessionRow>(`SELECT ${SESSION_COLS} FROM sessions WHERE id = $1`, [id]);
      if (!row) throw new AirlockError("not_found", `session ${id} not found`);
      const from = row.status;
      checkTransition(id, from, to);
      let type: AuditEventType;
      const details: Record<string, unknown> = { from, to };
      let set: [string | null, string | null, number | null, string | null]; // started_at, ended_at, exit_code, revoked_by
      if (to === "running") {
        type = "session.started";
        set = [now, null, null, null];
      } else if (to === "exited") {
        type = "session.exited";
        const code = extra?.exit_code ?? null;
        if (code !== null && !(Number.isInteger(code) && code >= -2147483648 && code <= 2147483647)) throw invalid("exit_code", "exit_code must be an integer");
        details.exit_code = code;
        set = [null, now, code, null];
      } else {
        type = "session.revoked";
        set = [null, now, null, actor];
      }
      // `AND status = from`: the row changes only from the state this transaction saw (the head lock already serializes writers)
      const updated = await db.get<SessionRow>(
        `UPDATE sessions SET status = $1, updated_at = $2, started_at = coalesce($3, started_at), ended_at = coalesce($4, ended_at), exit_code = coalesce($5::integer, exit_code), revoked_by = coalesce($6, revoked_by) WHERE rid = $7::bigint AND status = $8 RETURNING ${SESSION_COLS}`,
        [to, now, ...set, row.rid, from],
      );
      if (!updated) throw new AirlockError("conflict", `session ${id} changed meanwhile: try again`);
      audit.append(type, actor, `session:${id}`, details);
      return sessionRecord(updated);
    });
  }

  // ------------------------------------------------------------ decisions

  async ingestDecisions(clientId: string | null, decisions: DecisionInput[], actor: string): Promise<{ accepted: number; duplicates: number }> {
    // validate before the transaction: a bad batch changes nothing
    const rows = validDecisions(decisions, pgText);
    if (rows.length === 0) return { accepted: 0, duplicates: 0 };
    return this.tx(async (db, audit, now) => {
      if (clientId !== null && !(await db.get("SELECT 1 AS one FROM clients WHERE id = $1", [clientId]))) throw clientNotFound(clientId);
      return this.ingestInto(db, audit, now, clientId, rows, actor);
    });
  }

  /**
   * Group commit (the gateway coalesces concurrent ingests through it): several batches in ONE
   * transaction, so one head lock and one commit for all of them, each with the result or error its
   * own `ingestDecisions` would give. An invalid batch or an unknown client is found before any of
   * that batch's rows is written; a database error rolls the group back and each batch is retried
   * in its own transaction (unless the store is closed or busy: then that is every batch's answer).
   */
  async ingestDecisionBatches(batches: readonly DecisionBatch[]): Promise<DecisionBatchResult[]> {
    const results: DecisionBatchResult[] = new Array(batches.length);
    const pending: { i: number; b: DecisionBatch; rows: ValidDecision[] }[] = [];
    batches.forEach((b, i) => {
      try {
        const rows = validDecisions(b.decisions, pgText);
        if (rows.length === 0) results[i] = { ok: true, value: { accepted: 0, duplicates: 0 } };
        else pending.push({ i, b, rows });
      } catch (error) {
        results[i] = { ok: false, error };
      }
    });
    if (pending.length === 0) return results;
    try {
      const group = await this.tx(async (db, audit, now) => {
        const out = new Map<number, DecisionBatchResult>();
        const known = new Set<string>();
        for (const { i, b, rows } of pending) {
          if (b.clientId !== null && !known.has(b.clientId)) {
            if (!(await db.get("SELECT 1 AS one FROM clients WHERE id = $1", [b.clientId]))) {
              out.set(i, { ok: false, error: clientNotFound(b.clientId) });
              continue;
            }
            known.add(b.clientId);
          }
          out.set(i, { ok: true, value: await this.ingestInto(db, audit, now, b.clientId, rows, b.actor) });
        }
        return out;
      });
      for (const [i, r] of group) results[i] = r;
    } catch (error) {
      if (error instanceof AirlockError && error.code === "unavailable") {
        for (const { i } of pending) results[i] = { ok: false, error };
      } else {
        for (const { i, b } of pending) {
          results[i] = await this.ingestDecisions(b.clientId, b.decisions, b.actor).then(
            (value): DecisionBatchResult => ({ ok: true, value }),
            (e: unknown): DecisionBatchResult => ({ ok: false, error: e }),
          );
        }
      }
    }
    return results;
  }

  /** One validated batch inside a head-locked transaction (the client already checked). */
  private async ingestInto(db: Db, audit: AuditAppender, now: string, clientId: string | null, rows: ValidDecision[], actor: string): Promise<{ accepted: number; duplicates: number }> {
    // a repeat inside the batch is a duplicate: the first occurrence is the one written
    const firsts = new Map<string, ValidDecision>();
    for (const r of rows) if (!firsts.has(r.d.id)) firsts.set(r.d.id, r);
    const unique = [...firsts.values()];
    const inserted = new Set<string>();
    for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
      const chunk = unique.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      for (const { d, decidedAt, normalized } of chunk) {
        params.push(
          d.id,
          clientId,
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
          now,
        );
      }
      // idempotent by id even against a writer that does not hold the head lock
      const written = await db.all<{ id: string }>(
        `INSERT INTO decisions (id, client_id, session_id, role, agent, tool, command, normalized, verdict, policy, rule, pattern, reason, source, cwd, decided_at, received_at) VALUES ${placeholders(chunk.length, 17)} ON CONFLICT (id) DO NOTHING RETURNING id`,
        params,
      );
      for (const w of written) inserted.add(w.id);
    }
    for (const { d } of unique) {
      if (!inserted.has(d.id)) continue;
      audit.append(DECISION_EVENT[d.verdict], actor, `decision:${d.id}`, {
        verdict: d.verdict,
        command: d.command,
        policy: d.policy ?? null,
        rule: d.rule ?? null,
        session_id: d.session_id ?? null,
      });
      audit.decided(d.verdict);
    }
    return { accepted: inserted.size, duplicates: rows.length - inserted.size };
  }

  async getDecision(id: string): Promise<DecisionRecord | null> {
    return this.read(async (db) => {
      const row = await db.get<DecisionRow>(`SELECT ${DECISION_COLS} FROM decisions WHERE id = $1`, [id]);
      return row ? decisionRecord(row) : null;
    });
  }

  async listDecisions(filter: DecisionFilter, page: PageRequest): Promise<Page<DecisionRecord>> {
    return this.read(async (db) => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(DOLLAR);
      if (f.verdict !== undefined) {
        if (!VERDICTS.includes(f.verdict)) throw invalid("verdict", `verdict must be one of ${VERDICTS.join(", ")}`);
        q.add("verdict = ?", f.verdict);
        // the partial index decisions_flagged holds the non-allow verdicts: its condition, spelled out, lets the planner use it
        if (f.verdict !== "allow") q.add("verdict <> 'allow'");
      }
      for (const key of ["session_id", "role", "agent", "tool", "policy", "rule", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key} = ?`, f[key]);
      }
      if (f.q !== undefined && f.q !== "") q.add("command ILIKE ? ESCAPE '\\'", `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      q.timeRange("decided_at", f.since, f.until);
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "decisions", { t: "string", r: "int" });
        q.add("(decided_at, rid) < (?, ?::bigint)", c.t, c.r);
      }
      const rows = await db.all<DecisionRow>(`SELECT ${DECISION_COLS} FROM decisions ${q.where()} ORDER BY decided_at DESC, rid DESC LIMIT ${q.param(limit + 1)}`, q.params);
      return keysetPage(rows, limit, decisionRecord, (r) => encodeCursor("decisions", { t: r.decided_at, r: Number(r.rid) }));
    });
  }

  // ------------------------------------------------------------ audit

  async listAudit(filter: AuditFilter, page: PageRequest): Promise<Page<AuditEvent>> {
    return this.read(async (db) => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(DOLLAR);
      // audit time never decreases along seq, so a time bound is a plain range on created_at
      q.timeRange("created_at", f.since, f.until);
      if (page.cursor !== undefined) q.add("seq < ?::bigint", decodeCursor(page.cursor, "audit", { s: "int" }).s);
      if (f.actor !== undefined) q.add("actor = ?", f.actor);
      if (f.target !== undefined) q.add("target = ?", f.target);
      if (f.type !== undefined && f.type !== "") {
        if (f.type.endsWith(".")) {
          // a prefix, as a range on the C-collated type index
          const upper = `${f.type.slice(0, -1)}${String.fromCharCode(f.type.charCodeAt(f.type.length - 1) + 1)}`;
          q.add("type >= ? AND type < ?", f.type, upper);
        } else {
          q.add("type = ?", f.type);
        }
      }
      const rows = await db.all<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events ${q.where()} ORDER BY seq DESC LIMIT ${q.param(limit + 1)}`, q.params);
      return keysetPage(rows, limit, auditEvent, (r) => encodeCursor("audit", { s: Number(r.seq) }));
    });
  }

  async *iterateAudit(): AsyncIterable<AuditEvent> {
    let after = 0;
    for (;;) {
      const rows = await this.read((db) => db.all<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2`, [after, ITERATE_BATCH]));
      for (const row of rows) yield auditEvent(row);
      if (rows.length < ITERATE_BATCH) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  async auditHead(): Promise<{ seq: number; hash: string } | null> {
    return this.read(async (db) => {
      const head = await db.get<HeadRow>("SELECT seq, hash FROM store_head WHERE one = 1");
      return head && Number(head.seq) > 0 ? { seq: Number(head.seq), hash: head.hash } : null;
    });
  }

  async auditSince(seq: number, limit: number): Promise<AuditEvent[]> {
    return this.read(async (db) => {
      if (!Number.isInteger(seq) || seq < 0) throw invalid("seq", "seq must be a non-negative integer");
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid("limit", `limit must be an integer from 1 to ${MAX_PAGE}`);
      return (await db.all<AuditRow>(`SELECT ${AUDIT_COLS} FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2`, [seq, limit])).map(auditEvent);
    });
  }

  // ------------------------------------------------------------ counts

  async counts(): Promise<StoreCounts> {
    return this.read(async (db) => {
      const sessions = { ready: 0, running: 0, exited: 0, revoked: 0 } as Record<SessionStatus, number>;
      for (const r of await db.all<{ status: SessionStatus; n: string }>("SELECT status, count(*) AS n FROM sessions GROUP BY status")) sessions[r.status] = Number(r.n);
      const row = await db.get<HeadRow & { policies: string; roles: string; clients: string }>(
        "SELECT seq, decisions_allow, decisions_require_approval, decisions_block, (SELECT count(*) FROM policies) AS policies, (SELECT count(*) FROM roles) AS roles, (SELECT count(*) FROM clients) AS clients FROM store_head WHERE one = 1",
      );
      return {
        sessions_by_status: sessions,
        decisions_by_verdict: {
          allow: Number(row!.decisions_allow),
          require_approval: Number(row!.decisions_require_approval),
          block: Number(row!.decisions_block),
        },
        policies: Number(row!.policies),
        roles: Number(row!.roles),
        clients: Number(row!.clients),
        audit_events: Number(row!.seq),
      };
    });
  }

  async decisionStats(minutes: number, top: number): Promise<DecisionStats> {
    const start = new Date(this.clock().getTime() - (minutes - 1) * 60_000);
    start.setUTCSeconds(0, 0);
    const since = start.toISOString();
    return this.read(async (db) => {
      const rows = await db.all<{ minute: string; verdict: VerdictKind; n: string }>(
        "SELECT substr(decided_at, 1, 16) AS minute, verdict, count(*) AS n FROM decisions WHERE decided_at >= $1 GROUP BY minute, verdict ORDER BY minute",
        [since],
      );
      const perMinute: DecisionStats["per_minute"] = [];
      for (const r of rows) {
        let last = perMinute[perMinute.length - 1];
        if (!last || last.minute !== r.minute) perMinute.push((last = { minute: r.minute, allow: 0, require_approval: 0, block: 0 }));
        last[r.verdict] += Number(r.n);
      }
      const topBlocked = await db.all<{ command: string; count: string; last_at: string }>(
        "SELECT command, count(*) AS count, max(decided_at) AS last_at FROM decisions WHERE verdict = 'block' AND decided_at >= $1 GROUP BY command ORDER BY count DESC, last_at DESC LIMIT $2",
        [since, top],
      );
      return { since, minutes, per_minute: perMinute, top_blocked: topBlocked.map((t) => ({ command: t.command, count: Number(t.count), last_at: t.last_at })) };
    });
  }

  // ------------------------------------------------------------ sign-in, pairings, approvals (docs/approvals.md)

  private async deviceByCode(db: Db, userCode: string): Promise<DeviceRow | null> {
    return db.get<DeviceRow>(`SELECT ${DEVICE_COLS} FROM device_requests WHERE user_code = $1 ORDER BY rid DESC LIMIT 1`, [userCode]);
  }

  async createDeviceRequest(request: NewDeviceRequest, actor: string): Promise<DeviceRequest> {
    return this.tx(async (db, audit, now) => {
      if (typeof request?.id !== "string" || request.id.length === 0) throw invalid("id", "a device request needs a non-empty id");
      if (typeof request.device_hash !== "string" || !/^[0-9a-f]{64}$/.test(request.device_hash)) throw invalid("device_hash", "a device code hash must be SHA-256 hex");
      if (typeof request.user_code !== "string" || !/^[A-Z0-9]{8}$/.test(request.user_code)) throw invalid("user_code", "a user code is 8 upper-case characters");
      if (!Number.isInteger(request.interval) || request.interval < 1 || request.interval > 86_400) throw invalid("interval", "interval must be a positive whole number of seconds");
      const expires = isoTime(request.expires_at, "expires_at");
      if (await db.get("SELECT 1 AS one FROM device_requests WHERE user_code = $1 AND status IN ('pending', 'approved') AND expires_at > $2 LIMIT 1", [request.user_code, now])) {
        throw new AirlockError("conflict", "a live device request already has this user code");
      }
      if (await db.get("SELECT 1 AS one FROM device_requests WHERE id = $1 OR device_hash = $2", [request.id, request.device_hash])) {
        throw new AirlockError("conflict", `device request ${request.id} (or its device code) already exists`);
      }
      const row = await db.get<DeviceRow>(
        `INSERT INTO device_requests (id, device_hash, user_code, client_name, status, "interval", created_at, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) RETURNING ${DEVICE_COLS}`,
        [request.id, request.device_hash, request.user_code, request.client_name ?? null, request.interval, now, expires],
      );
      audit.append("auth.device_started", actor, `device:${pgText(request.id)}`, { user_code: request.user_code, client_name: request.client_name ?? null, expires_at: expires });
      return deviceRequest(row!, now);
    });
  }

  async getDeviceRequest(userCode: string): Promise<DeviceRequest | null> {
    return this.read(async (db) => {
      const row = await this.deviceByCode(db, userCode);
      return row ? deviceRequest(row, this.now()) : null;
    });
  }

  async decideDeviceRequest(userCode: string, decision: { approve: boolean; user: string }, actor: string): Promise<DeviceRequest> {
    return this.tx(async (db, audit, now) => {
      const row = await this.deviceByCode(db, userCode);
      if (!row) throw new AirlockError("not_found", `no device request with code ${userCode}`);
      if (deviceExpired(row, now)) throw new AirlockError("expired", `the sign-in code ${userCode} expired at ${row.expires_at}`);
      if (row.status !== "pending") throw new AirlockError("conflict", `the sign-in code ${userCode} was already ${row.status === "used" ? "used" : row.status}`);
      const approve = decision.approve === true;
      if (approve && (typeof decision.user !== "string" || !decision.user.startsWith("user:"))) throw invalid("user", "an approved sign-in needs the user it acts as (user:<id>)");
      const updated = await db.get<DeviceRow>(`UPDATE device_requests SET status = $1, decided_at = $2, decided_by = $3, "user" = $4 WHERE rid = $5::bigint RETURNING ${DEVICE_COLS}`, [
        approve ? "approved" : "denied",
        now,
        actor,
        approve ? decision.user : null,
        row.rid,
      ]);
      audit.append(approve ? "auth.device_approved" : "auth.device_denied", actor, `device:${row.id}`, {
        user_code: row.user_code,
        client_name: row.client_name,
        user: approve ? decision.user : null,
      });
      return deviceRequest(updated!, now);
    });
  }

  async pollDeviceRequest(deviceHash: string, token: NewToken): Promise<DevicePoll> {
    return this.tx(async (db, audit, now): Promise<DevicePoll> => {
      const row = await db.get<DeviceRow>(`SELECT ${DEVICE_COLS} FROM device_requests WHERE device_hash = $1`, [deviceHash]);
      if (!row) return { status: "unknown" };
      if (row.status === "used" || row.status === "denied") return { status: row.status };
      if (deviceExpired(row, now) || row.status === "expired") return { status: "expired" };
      if (row.status === "pending") {
        const poll = pendingPoll(row, now);
        await db.run('UPDATE device_requests SET last_polled_at = $1, "interval" = $2 WHERE rid = $3::bigint', [now, poll.interval, row.rid]);
        return poll;
      }
      // approved: the user token is created now, since only the poller may ever see its secret
      if (token.kind !== "user") throw invalid("token.kind", "a sign-in issues a token of kind user");
      const named = row.client_name ? { ...token, name: `${token.name}: ${row.client_name}`.slice(0, 256) } : token;
      const record = await this.insertToken(db, named, row.user!, now, { user: row.user, pairing_id: null });
      await db.run("UPDATE device_requests SET status = 'used', last_polled_at = $1, token_id = $2 WHERE rid = $3::bigint", [now, record.id, row.rid]);
      audit.append("token.created", row.user!, `token:${record.id}`, { kind: record.kind, name: record.name, client_id: null, expires_at: record.expires_at, device: row.id, user: row.user });
      return { status: "issued", token: record, user: row.user! };
    });
  }

  async getTokenBinding(tokenId: string): Promise<{ user: string | null; pairing_id: string | null } | null> {
    return this.read(async (db) => {
      const row = await db.get<{ user: string | null; pairing_id: string | null }>('SELECT "user", pairing_id FROM tokens WHERE id = $1', [tokenId]);
      return row ? { user: row.user, pairing_id: row.pairing_id } : null;
    });
  }

  private async pairingRow(db: Db, id: string): Promise<PairingRow | null> {
    return db.get<PairingRow>(`SELECT ${PAIRING_COLS} FROM pairings WHERE id = $1`, [id]);
  }

  async createPairing(pairing: NewPairing, actor: string): Promise<StoredPairing> {
    return this.tx(async (db, audit, now) => {
      if (typeof pairing?.id !== "string" || pairing.id.length === 0) throw invalid("id", "a pairing needs a non-empty id");
      if (typeof pairing.code_hash !== "string" || !/^[0-9a-f]{64}$/.test(pairing.code_hash)) throw invalid("code_hash", "a pairing code hash must be SHA-256 hex");
      if (typeof pairing.user !== "string" || pairing.user.length === 0) throw invalid("user", "a pairing needs its user");
      if (typeof pairing.daemon?.sign_key !== "string" || typeof pairing.daemon?.box_key !== "string") throw invalid("daemon", "a pairing needs the daemon's public keys");
      const expires = isoTime(pairing.code_expires_at, "code_expires_at");
      const client = await db.get<ClientRecord>(`SELECT ${CLIENT_COLS} FROM clients WHERE id = $1`, [pairing.client_id]);
      if (!client) throw clientNotFound(pairing.client_id);
      if (client.revoked_at !== null) throw new AirlockError("conflict", `client ${pairing.client_id} is revoked`);
      const id = pgText(pairing.id);
      if (await this.pairingRow(db, id)) throw new AirlockError("conflict", `pairing ${pairing.id} already exists`);
      if (await db.get("SELECT 1 AS one FROM pairings WHERE code_hash = $1", [pairing.code_hash])) throw new AirlockError("conflict", "a pairing with this code already exists");
      const row = await db.get<PairingRow>(
        `INSERT INTO pairings (id, status, client_id, "user", label, daemon_sign_key, daemon_box_key, code_hash, code_expires_at, created_at) VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${PAIRING_COLS}`,
        [id, client.id, pairing.user, pairing.label ?? null, pairing.daemon.sign_key, pairing.daemon.box_key, pairing.code_hash, expires, now],
      );
      audit.append("pairing.created", actor, `pairing:${id}`, {
        client_id: client.id,
        user: pairing.user,
        label: pairing.label ?? null,
        daemon: { sign_key: pairing.daemon.sign_key, box_key: pairing.daemon.box_key },
        code_expires_at: expires,
      });
      return pairingRecord(row!);
    });
  }

  async claimPairing(codeHash: string, claim: { approver: PublicKeys; label: string | null }, token: NewToken): Promise<{ pairing: StoredPairing; token: TokenRecord }> {
    return this.tx(async (db, audit, now) => {
      const row = await db.get<PairingRow>(`SELECT ${PAIRING_COLS} FROM pairings WHERE code_hash = $1`, [codeHash]);
      if (!row || row.status !== "pending") throw new AirlockError("not_found", "unknown or already used pairing code");
      if (row.code_expires_at === null || row.code_expires_at <= now) throw new AirlockError("expired", `this pairing code expired at ${row.code_expires_at}: run airlock pair again`);
      if (typeof claim?.approver?.sign_key !== "string" || typeof claim.approver.box_key !== "string") throw invalid("approver", "a claim needs the approver's public keys");
      if (token.kind !== "approver") throw invalid("token.kind", "a claim issues a token of kind approver");
      const claimed = await db.run(
        "UPDATE pairings SET status = 'paired', approver_sign_key = $1, approver_box_key = $2, approver_label = $3, paired_at = $4, code_hash = NULL WHERE rid = $5::bigint AND status = 'pending'",
        [claim.approver.sign_key, claim.approver.box_key, claim.label ?? null, now, row.rid],
      );
      if (claimed !== 1) throw new AirlockError("not_found", "unknown or already used pairing code");
      const actor = `approver:${row.id}`;
      const record = await this.insertToken(db, token, actor, now, { user: null, pairing_id: row.id });
      audit.append("pairing.claimed", actor, `pairing:${row.id}`, pairingClaimedDetails(row, claim, record.id));
      return { pairing: pairingRecord((await this.pairingRow(db, row.id))!), token: record };
    });
  }

  async getPairing(id: string): Promise<StoredPairing | null> {
    return this.read(async (db) => {
      const row = await this.pairingRow(db, id);
      return row ? pairingRecord(row) : null;
    });
  }

  async listPairings(filter: PairingFilter): Promise<StoredPairing[]> {
    return this.read(async (db) => {
      const q = new Where(DOLLAR);
      for (const key of ["user", "client_id", "status"] as const) {
        if (filter?.[key] !== undefined) q.add(`${key === "user" ? '"user"' : key} = ?`, filter[key]);
      }
      const rows = await db.all<PairingRow>(`SELECT ${PAIRING_COLS} FROM pairings ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT 500`, q.params);
      return rows.map(pairingRecord);
    });
  }

  async removePairing(id: string, actor: string): Promise<{ pairing: StoredPairing; tokens_revoked: string[]; approvals_expired: string[] }> {
    return this.tx(async (db, audit, now) => {
      const row = await this.pairingRow(db, id);
      if (!row) throw new AirlockError("not_found", `pairing ${id} not found`);
      if (row.status === "removed") throw new AirlockError("conflict", `pairing ${id} is already removed`);
      const updated = await db.get<PairingRow>(`UPDATE pairings SET status = 'removed', removed_at = $1, removed_by = $2, code_hash = NULL WHERE rid = $3::bigint RETURNING ${PAIRING_COLS}`, [
        now,
        actor,
        row.rid,
      ]);
      const tokens = (await db.all<{ id: string; rid: string }>("UPDATE tokens SET revoked_at = $1 WHERE pairing_id = $2 AND revoked_at IS NULL RETURNING id, rid", [now, row.id]))
        .sort((a, b) => Number(a.rid) - Number(b.rid))
        .map((t) => t.id);
      const expired = (
        await db.all<{ id: string; client_id: string; rid: string }>("UPDATE approvals SET status = 'expired', decided_at = $1 WHERE pairing_id = $2 AND status = 'pending' RETURNING id, client_id, rid", [
          now,
          row.id,
        ])
      ).sort((a, b) => Number(a.rid) - Number(b.rid));
      for (const a of expired) audit.append("approval.expired", actor, `approval:${a.id}`, { pairing_id: row.id, client_id: a.client_id, reason: "unpaired" });
      audit.append("pairing.removed", actor, `pairing:${row.id}`, { client_id: row.client_id, user: row.user, tokens_revoked: tokens, approvals_expired: expired.map((a) => a.id) });
      return { pairing: pairingRecord(updated!), tokens_revoked: tokens, approvals_expired: expired.map((a) => a.id) };
    });
  }

  private async approvalRow(db: Db, id: string): Promise<ApprovalRow | null> {
    return db.get<ApprovalRow>(`SELECT ${APPROVAL_COLS} FROM approvals WHERE id = $1`, [id]);
  }

  async createApproval(approval: NewApproval, actor: string): Promise<ApprovalRecord> {
    return this.tx(async (db, audit, now) => {
      if (typeof approval?.id !== "string" || approval.id.length === 0) throw invalid("id", "an approval needs a non-empty id");
      const expires = isoTime(approval.expires_at, "expires_at");
      const e = approval.envelope;
      if (typeof e !== "object" || e === null || e.v !== 1 || [e.epk, e.iv, e.ct, e.sig].some((x) => typeof x !== "string")) throw invalid("envelope", "an approval needs its envelope {v: 1, epk, iv, ct, sig}");
      const envelope = envelopeJson(e);
      const id = pgText(approval.id);
      const existing = await this.approvalRow(db, id);
      if (existing) {
        const same =
          existing.pairing_id === pgText(approval.pairing_id) && existing.client_id === pgText(approval.client_id) && existing.envelope === envelope && existing.expires_at === expires;
        if (same) return approvalRecord(existing); // a retried submission
        throw new AirlockError("conflict", `approval ${approval.id} already exists`);
      }
      const pairing = await this.pairingRow(db, approval.pairing_id);
      if (!pairing) throw new AirlockError("not_found", `pairing ${approval.pairing_id} not found`);
      if (pairing.client_id !== pgText(approval.client_id)) throw new AirlockError("conflict", `pairing ${approval.pairing_id} does not belong to client ${approval.client_id}`);
      if (pairing.status !== "paired") throw new AirlockError("conflict", `pairing ${approval.pairing_id} is ${pairing.status}, not paired`);
      const row = await db.get<ApprovalRow>(
        `INSERT INTO approvals (id, pairing_id, client_id, session_id, status, created_at, expires_at, envelope) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) RETURNING ${APPROVAL_COLS}`,
        [id, pairing.id, pairing.client_id, approval.session_id ?? null, now, expires, envelope],
      );
      audit.append("approval.requested", actor, `approval:${id}`, {
        pairing_id: approval.pairing_id,
        client_id: approval.client_id,
        session_id: approval.session_id ?? null,
        expires_at: expires,
      });
      return approvalRecord(row!);
    });
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.read(async (db) => {
      const row = await this.approvalRow(db, id);
      return row ? approvalRecord(row) : null;
    });
  }

  async listApprovals(filter: ApprovalFilter, page: PageRequest): Promise<Page<ApprovalRecord>> {
    return this.read(async (db) => {
      const f = filter ?? {};
      const limit = pageLimit(page);
      const q = new Where(DOLLAR);
      if (f.status !== undefined) {
        if (!(APPROVAL_STATUSES as readonly string[]).includes(f.status)) throw invalid("status", `status must be one of ${APPROVAL_STATUSES.join(", ")}`);
        q.add("status = ?", f.status);
      }
      for (const key of ["pairing_id", "client_id"] as const) {
        if (f[key] !== undefined) q.add(`${key} = ?`, f[key]);
      }
      if (page.cursor !== undefined) {
        const c = decodeCursor(page.cursor, "approvals", { t: "string", r: "int" });
        q.add("(created_at, rid) < (?, ?::bigint)", c.t, c.r);
      }
      const rows = await db.all<ApprovalRow>(`SELECT ${APPROVAL_COLS} FROM approvals ${q.where()} ORDER BY created_at DESC, rid DESC LIMIT ${q.param(limit + 1)}`, q.params);
      return keysetPage(rows, limit, approvalRecord, (r) => encodeCursor("approvals", { t: r.created_at, r: Number(r.rid) }));
    });
  }

  async decideApproval(id: string, decision: SignedDecision & { decision: DecisionValue }, actor: string): Promise<ApprovalRecord> {
    return this.tx(async (db, audit, now) => {
      if (decision?.decision !== "approve" && decision?.decision !== "deny") throw invalid("decision", "decision must be approve or deny");
      if (typeof decision.payload !== "string" || typeof decision.sig !== "string") throw invalid("payload", "a decision is {payload, sig}");
      const row = await this.approvalRow(db, id);
      if (!row) throw new AirlockError("not_found", `approval ${id} not found`);
      if (row.status === "expired" || (row.status === "pending" && row.expires_at <= now)) throw new AirlockError("expired", `approval ${id} expired at ${row.expires_at}`);
      if (row.status !== "pending") throw new AirlockError("conflict", `approval ${id} was already ${row.status}`);
      const status = decision.decision === "approve" ? "approved" : "denied";
      const updated = await db.get<ApprovalRow>(
        `UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decision_payload = $4, decision_sig = $5 WHERE rid = $6::bigint AND status = 'pending' RETURNING ${APPROVAL_COLS}`,
        [status, now, actor, decision.payload, decision.sig, row.rid],
      );
      if (!updated) throw new AirlockError("conflict", `approval ${id} was decided meanwhile`);
      audit.append(status === "approved" ? "approval.approved" : "approval.denied", actor, `approval:${row.id}`, { pairing_id: row.pairing_id, client_id: row.client_id });
      return approvalRecord(updated);
    });
  }

  async expireApprovals(): Promise<ApprovalRecord[]> {
    // the common case takes no head lock
    if (!(await this.read((db) => db.get("SELECT 1 AS one FROM approvals WHERE status = 'pending' AND expires_at <= $1 LIMIT 1", [this.now()])))) return [];
    return this.tx(async (db, audit, now) => {
      const rows = (
        await db.all<ApprovalRow>(`UPDATE approvals SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1 RETURNING ${APPROVAL_COLS}`, [now])
      ).sort((a, b) => Number(a.rid) - Number(b.rid));
      for (const r of rows) audit.append("approval.expired", "system", `approval:${r.id}`, { pairing_id: r.pairing_id, client_id: r.client_id, reason: "timeout" });
      return rows.map(approvalRecord);
    });
  }

  async recordVerification(id: string, result: VerificationInput, actor: string): Promise<ApprovalRecord> {
    return this.tx(async (db, audit, now) => {
      checkVerification(result);
      const row = await this.approvalRow(db, id);
      if (!row) throw new AirlockError("not_found", `approval ${id} not found`);
      if (row.verification !== null) throw new AirlockError("conflict", `approval ${id} already has its verification`);
      const verification = { ok: result.ok, reason: result.reason, verify_ms: result.verify_ms, total_ms: result.total_ms, at: now };
      const updated = await db.get<ApprovalRow>(`UPDATE approvals SET verification = $1 WHERE rid = $2::bigint RETURNING ${APPROVAL_COLS}`, [JSON.stringify(verification), row.rid]);
      audit.append(result.ok ? "approval.verified" : "approval.rejected", actor, `approval:${row.id}`, verificationDetails(row, result));
      return approvalRecord(updated!);
    });
  }

  async approvalCounts(): Promise<Record<ApprovalStatus, number>> {
    return this.read(async (db) => {
      const counts = Object.fromEntries(APPROVAL_STATUSES.map((s) => [s, 0])) as Record<ApprovalStatus, number>;
      for (const r of await db.all<{ status: ApprovalStatus; n: string }>("SELECT status, count(*) AS n FROM approvals GROUP BY status")) counts[r.status] = Number(r.n);
      return counts;
    });
  }
}
