/**
 * Opening a SQLite file the way every Airlock database is opened (gateway.db, daemon.db):
 * created 0600 (an existing file and its WAL files tightened), `busy_timeout` first, then WAL —
 * retried on SQLITE_BUSY, since two processes opening a brand-new file at once can both hit it
 * whatever busy_timeout says (BUN-NOTES) — `synchronous=NORMAL`, `foreign_keys=ON`, then each
 * pending migration in its own `BEGIN IMMEDIATE`. A database newer than this binary is refused.
 */
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { AirlockError } from "../protocol/errors";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface OpenSqliteOptions {
  /** how errors name the file: "the database", "the daemon database" */
  label: string;
  migrations: readonly Migration[];
  now: () => Date;
  busyTimeoutMs?: number;
  walRetryMs?: number;
  /** extra PRAGMAs after the standard ones, e.g. `cache_size = -32768` */
  pragmas?: readonly string[];
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** Opens and migrates `path` (`:memory:` for a private in-memory database). Synchronous. */
export function openSqliteFile(path: string, options: OpenSqliteOptions): Database {
  const memory = path === ":memory:";
  if (!memory) createPrivateFile(path, options.label);
  const db = new Database(path, { create: true, readwrite: true, strict: true });
  try {
    db.run(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
    if (!memory) enableWal(db, path, options.walRetryMs ?? 10_000);
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    for (const pragma of options.pragmas ?? []) db.run(`PRAGMA ${pragma}`);
    migrate(db, path, options);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function createPrivateFile(path: string, label: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, "a", 0o600));
    } catch (error) {
      throw new AirlockError("unavailable", `cannot create ${label} ${path}`, [{ path, message: String((error as Error).message) }], { cause: error });
    }
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch {
      // not ours to change (another owner): SQLite still opens it, the mode is the operator's call
    }
  }
}

function enableWal(db: Database, path: string, retryMs: number): void {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      const row = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode?: string } | null;
      if (row?.journal_mode?.toLowerCase() !== "wal") {
        throw new AirlockError("unavailable", `cannot enable WAL on ${path} (journal_mode is ${row?.journal_mode ?? "unknown"})`);
      }
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      Bun.sleepSync(5 + Math.floor(Math.random() * 20));
    }
  }
}

function migrate(db: Database, path: string, options: OpenSqliteOptions): void {
  const latest = options.migrations.reduce((max, m) => Math.max(max, m.version), 0);
  for (;;) {
    db.run("BEGIN IMMEDIATE");
    try {
      db.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      const current = (db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null }).v ?? 0;
      if (current > latest) {
        throw new AirlockError(
          "unavailable",
          `${options.label} ${path} has schema version ${current}, newer than this airlock understands (${latest}): upgrade airlock`,
          [{ path, message: `schema version ${current} > ${latest}` }],
        );
      }
      const next = options.migrations.find((m) => m.version === current + 1);
      if (!next) {
        db.run("COMMIT");
        return;
      }
      db.run(next.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(next.version, next.name, options.now().toISOString());
      db.run("COMMIT");
    } catch (error) {
      if (db.inTransaction) db.run("ROLLBACK");
      throw error;
    }
  }
}
