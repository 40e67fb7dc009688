/**
 * The SQLite backend: the shared contract on a temp file, then what only SQLite has: file mode,
 * WAL, migrations across reopen, two processes racing on a brand-new file, and tampering with the
 * file behind the store's back.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sealEvent, verifyChain, type AuditEvent } from "../../src/audit/chain";
import { AirlockError } from "../../src/protocol/errors";
import { sha256Hex } from "../../src/store/_hash";
import { LATEST_VERSION, MIGRATIONS } from "../../src/store/_migrations";
import { openSqliteStore } from "../../src/store/sqlite";
import type { Store } from "../../src/store/types";
import { verifyAuditStream, verifyStoreAudit } from "../../src/store/verify";
import { tempDir } from "../support/tmp";
import { FakeClock, storeContract } from "./contract";

storeContract("sqlite", async (options) => {
  const dir = await tempDir("airlock-store-");
  const store = openSqliteStore(join(dir.path, "gateway.db"), options);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dir[Symbol.asyncDispose]();
    },
  };
});

const mode = (path: string) => statSync(path).mode & 0o777;

async function withStore<T>(path: string, fn: (store: Store) => Promise<T>, clock = new FakeClock()): Promise<T> {
  const store = openSqliteStore(path, { now: clock.now });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const policy = (id: string) => ({ id, name: id, status: "active", blocked_commands: [], rules: [] });

describe("sqlite file", () => {
  test("the database and its WAL files are created 0600", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const old = process.umask(0o022);
    try {
      await withStore(path, async (store) => {
        await store.createPolicy(policy("p1"), "admin:a");
        expect(mode(path)).toBe(0o600);
        expect(mode(`${path}-wal`)).toBe(0o600);
        expect(mode(`${path}-shm`)).toBe(0o600);
      });
    } finally {
      process.umask(old);
    }
  });

  test("an existing world-readable database is tightened to 0600", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    await withStore(path, async () => {});
    expect(mode(path)).toBe(0o600);
  });

  test("runs in WAL mode with foreign keys on", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    await withStore(path, async (store) => {
      await store.ping();
      const db = new Database(path, { readonly: true });
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      db.close();
    });
  });

  test("reopening keeps the data, the chain, and does not re-run migrations", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const clock = new FakeClock();
    await withStore(
      path,
      async (store) => {
        await store.createPolicy(policy("p1"), "admin:a");
        await store.createSession({ id: "s1", client_id: null, agent: "claude", role: "r", user: "u", host: "h", cwd: "/", pid: null, token_hash: sha256Hex("t") }, "system");
      },
      clock,
    );
    const read = () => {
      const db = new Database(path, { readonly: true });
      const rows = db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all();
      db.close();
      return rows;
    };
    const migrations = read();
    expect(migrations).toHaveLength(MIGRATIONS.length);
    expect((migrations.at(-1) as { version: number }).version).toBe(LATEST_VERSION);
    clock.advance(86_400_000);
    await withStore(
      path,
      async (store) => {
        expect((await store.getPolicy("p1"))!.version).toBe(1);
        expect((await store.getSession("s1"))!.status).toBe("ready");
        await store.updatePolicy("p1", policy("p1"), "admin:a");
        expect(await verifyStoreAudit(store)).toMatchObject({ ok: true, checked: 3 });
      },
      clock,
    );
    expect(read()).toEqual(migrations);
  });

  test("a database from a newer airlock is refused with a clear error", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    await withStore(path, async () => {});
    const db = new Database(path);
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', '2030-01-01T00:00:00.000Z')", [LATEST_VERSION + 1]);
    db.close();
    let error: unknown;
    try {
      openSqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AirlockError);
    expect((error as AirlockError).code).toBe("unavailable");
    expect((error as AirlockError).message).toContain("newer");
    expect((error as AirlockError).message).toContain("upgrade airlock");
  });

  test("a closed store refuses calls", async () => {
    await using dir = await tempDir();
    const store = openSqliteStore(join(dir.path, "gateway.db"));
    await store.close();
    await store.close(); // idempotent
    await expect(store.ping()).rejects.toMatchObject({ code: "unavailable" });
  });

  test("two stores in one process share a file and one chain", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const a = openSqliteStore(path);
    const b = openSqliteStore(path);
    try {
      for (let i = 0; i < 20; i++) await (i % 2 ? a : b).createPolicy(policy(`p${i}`), "admin:a");
      expect(await a.auditHead()).toEqual(await b.auditHead());
      expect((await verifyStoreAudit(a)).checked).toBe(20);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("two processes opening a brand-new file at once", () => {
  const SQLITE_TS = resolve(import.meta.dir, "../../src/store/sqlite.ts");
  const child = `
    import { openSqliteStore } from ${JSON.stringify(SQLITE_TS)};
    const path = process.env.STORE_PATH, who = process.env.WHO, start = Number(process.env.START_AT);
    while (Date.now() < start) {}
    const store = openSqliteStore(path);
    const first = await store.initialize({
      policies: [{ id: "seed", name: "seed", status: "active" }], roles: [],
      adminToken: { id: "root", kind: "admin", name: "root", hash: "${"ab".repeat(32)}" },
    });
    await store.createPolicy({ id: "p-" + who, name: who, status: "active" }, "system");
    const decisions = Array.from({ length: 50 }, (_, i) => ({
      id: who + "-" + i, session_id: null, role: null, agent: null, tool: "terraform", command: "terraform plan",
      normalized: ["terraform plan"], verdict: "allow", policy: null, rule: null, pattern: null, reason: "",
      source: "shim", cwd: null, decided_at: new Date().toISOString(),
    }));
    for (let i = 0; i < 50; i += 10) await store.ingestDecisions(null, decisions.slice(i, i + 10), "system");
    await store.close();
    console.log(JSON.stringify({ first }));
  `;

  for (let round = 1; round <= 3; round++) {
    test(`all writers succeed and the chain stays whole (round ${round})`, async () => {
      await using dir = await tempDir();
      const path = join(dir.path, "gateway.db");
      const writers = 4;
      const start = Date.now() + 1500;
      const procs = Array.from({ length: writers }, (_, i) =>
        Bun.spawn([process.execPath, "-e", child], {
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", STORE_PATH: path, WHO: `w${i}`, START_AT: String(start) },
          stdout: "pipe",
          stderr: "pipe",
        }),
      );
      const results = await Promise.all(
        procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })),
      );
      for (const r of results) expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
      const firsts = results.map((r) => (JSON.parse(r.out) as { first: boolean }).first);
      expect(firsts.filter(Boolean)).toHaveLength(1);
      await withStore(path, async (store) => {
        expect((await store.listPolicies()).map((p) => p.id)).toEqual(["p-w0", "p-w1", "p-w2", "p-w3", "seed"]);
        expect((await store.counts()).decisions_by_verdict.allow).toBe(writers * 50);
        expect(await verifyStoreAudit(store)).toMatchObject({ ok: true, checked: 1 + writers * 51 });
      });
      expect(mode(path)).toBe(0o600);
    });
  }
});

describe("tampering with the file is detected", () => {
  /** a store with ten events (policy p1..p10), closed; then `tamper` runs on the raw file */
  async function tampered(tamper: (db: Database, events: AuditEvent[]) => void) {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const clock = new FakeClock();
    const events = await withStore(
      path,
      async (store) => {
        for (let i = 1; i <= 10; i++) {
          await store.createPolicy(policy(`p${i}`), "admin:a");
          clock.advance(1000);
        }
        expect((await verifyStoreAudit(store)).ok).toBe(true);
        return store.auditSince(0, 100);
      },
      clock,
    );
    const db = new Database(path);
    // an attacker with the file drops the append-only guards first
    db.run("DROP TRIGGER audit_events_no_update");
    db.run("DROP TRIGGER audit_events_no_delete");
    tamper(db, events);
    db.close();
    return withStore(path, (store) => verifyStoreAudit(store), clock);
  }

  test("the append-only guards refuse UPDATE and DELETE through SQL", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    await withStore(path, (store) => store.createPolicy(policy("p1"), "admin:a"));
    const db = new Database(path);
    expect(() => db.run("UPDATE audit_events SET actor = 'x'")).toThrow(/append-only/);
    expect(() => db.run("DELETE FROM audit_events")).toThrow(/append-only/);
    db.close();
  });

  test("(a) an edited event is named as altered", async () => {
    let id = "";
    const result = await tampered((db, events) => {
      id = events[4]!.id;
      db.run(`UPDATE audit_events SET details = '{"version":1,"name":"innocent","status":"disabled"}' WHERE seq = 5`);
    });
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: "altered", seq: 5, id });
  });

  test("(a') an edited actor is named as altered", async () => {
    const result = await tampered((db) => db.run("UPDATE audit_events SET actor = 'admin:someone-else' WHERE seq = 3"));
    expect(result.problem).toMatchObject({ kind: "altered", seq: 3 });
  });

  test("(b) a deleted middle event is named as removed", async () => {
    const result = await tampered((db) => db.run("DELETE FROM audit_events WHERE seq = 5"));
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: "removed", seq: 5, id: null });
    expect(result.problem!.message).toContain("event 5");
  });

  test("(c) a forged event appended behind the store's back is named as inserted", async () => {
    let forgedId = "";
    const result = await tampered((db, events) => {
      // a well-formed forgery: correctly chained and hashed, but the recorded head was not moved
      const forged = sealEvent(
        events.at(-1)!,
        { id: crypto.randomUUID(), type: "policy.deleted", code: "AL0203", actor: "admin:a", target: "policy:p1", details: { version: 1 }, created_at: "2026-03-01T10:00:10.000Z" },
        sha256Hex,
      );
      forgedId = forged.id;
      db.run(
        "INSERT INTO audit_events (seq, id, type, code, actor, target, details, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [forged.seq, forged.id, forged.type, forged.code, forged.actor, forged.target, JSON.stringify(forged.details), forged.created_at, forged.prev_hash, forged.hash],
      );
    });
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 11 });
    expect(forgedId).not.toBe("");
  });

  test("(c') a forged event slipped into a gap is named as inserted", async () => {
    let forgedId = "";
    const result = await tampered((db, events) => {
      db.run("DELETE FROM audit_events WHERE seq = 6");
      const e = events[5]!;
      // self-consistent, but chained to a head that never existed
      const forged = sealEvent({ seq: 5, hash: "1".repeat(64) }, { ...e, target: "policy:forged", id: crypto.randomUUID() }, sha256Hex);
      forgedId = forged.id;
      db.run(
        "INSERT INTO audit_events (seq, id, type, code, actor, target, details, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [forged.seq, forged.id, forged.type, forged.code, forged.actor, forged.target, JSON.stringify(forged.details), forged.created_at, forged.prev_hash, forged.hash],
      );
    });
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 6, id: forgedId });
  });

  test("(c'') a row rewritten in place with a made-up hash is named as altered", async () => {
    const result = await tampered((db) => db.run(`UPDATE audit_events SET target = 'policy:forged', hash = '${"f".repeat(64)}' WHERE seq = 6`));
    expect(result.problem).toMatchObject({ kind: "altered", seq: 6 });
  });

  test("(c''') events forged into a store whose chain is empty are named as inserted", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    await withStore(path, async () => {});
    const e = sealEvent(null, { id: "forged", type: "policy.created", code: "AL0201", actor: "admin:a", target: "policy:p", details: {}, created_at: "2026-03-01T10:00:00.000Z" }, sha256Hex);
    const db = new Database(path);
    db.run(
      "INSERT INTO audit_events (seq, id, type, code, actor, target, details, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [e.seq, e.id, e.type, e.code, e.actor, e.target, "{}", e.created_at, e.prev_hash, e.hash],
    );
    db.close();
    const result = await withStore(path, (store) => verifyStoreAudit(store));
    expect(result.problem).toMatchObject({ kind: "inserted", seq: 1, id: "forged" });
  });

  test("(d) deleting the newest events is named as truncated", async () => {
    const result = await tampered((db) => db.run("DELETE FROM audit_events WHERE seq > 7"));
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: "truncated", seq: 8 });
    expect(result.problem!.message).toContain("8-10");
  });
});

describe("streaming verification gives verifyChain's answer", () => {
  function chain(n: number): AuditEvent[] {
    const out: AuditEvent[] = [];
    let head: AuditEvent | null = null;
    for (let i = 0; i < n; i++) {
      head = sealEvent(
        head,
        { id: `ev${i + 1}`, type: "decision.allowed", code: "AL0601", actor: "client:c1", target: `decision:d${i}`, details: { verdict: "allow", n: i }, created_at: "2026-03-01T10:00:00.000Z" },
        sha256Hex,
      );
      out.push(head);
    }
    return out;
  }
  const forged = (after: { seq: number; hash: string } | null): AuditEvent =>
    sealEvent(after, { id: "forged", type: "policy.deleted", code: "AL0203", actor: "x", target: "policy:p", details: {}, created_at: "2026-03-01T10:00:00.000Z" }, sha256Hex);
  type Case = [string, (events: AuditEvent[], k: number) => AuditEvent[], ((events: AuditEvent[]) => { seq: number; hash: string } | null)?];
  const headOf = (events: AuditEvent[]) => ({ seq: events.at(-1)!.seq, hash: events.at(-1)!.hash });
  const cases: Case[] = [
    ["intact", (e) => e],
    ["altered details", (e, k) => e.map((x, i) => (i === k ? { ...x, details: { verdict: "block" } } : x))],
    ["altered hash", (e, k) => e.map((x, i) => (i === k ? { ...x, hash: "f".repeat(64) } : x))],
    ["one removed", (e, k) => e.filter((_, i) => i !== k)],
    ["three removed", (e, k) => e.filter((_, i) => i < k || i > k + 2)],
    ["forged, self-consistent, wrong link", (e, k) => [...e.slice(0, k), forged({ seq: k, hash: "1".repeat(64) }), ...e.slice(k + 1)]],
    ["forged with a bad hash", (e, k) => [...e.slice(0, k), { ...forged(e[k - 1] ?? null), hash: "2".repeat(64) }, ...e.slice(k + 1)]],
    ["duplicated", (e, k) => [...e.slice(0, k + 1), e[k]!, ...e.slice(k + 1)]],
    ["swapped", (e, k) => [...e.slice(0, k), e[k + 1]!, e[k]!, ...e.slice(k + 2)]],
    ["truncated", (e) => e.slice(0, -3)],
    ["appended past the head", (e) => [...e, forged(e.at(-1)!)]],
    ["emptied", () => []],
    ["no head to compare", (e) => e.slice(0, -2), () => null],
    ["head from another chain", (e) => e, () => ({ seq: 1, hash: "3".repeat(64) })],
  ];
  for (const size of [40, 10_050]) {
    const original = chain(size);
    for (const [name, tamper, head = () => headOf(original)] of cases) {
      for (const k of [0, 17, size - 5]) {
        test(`${name} at ${k} of ${size}`, async () => {
          const events = tamper(original, k);
          const expected = verifyChain(events, sha256Hex, head(original));
          expect(await verifyAuditStream(events, head(original))).toEqual(expected);
          async function* slowly() {
            yield* events;
          }
          expect(await verifyAuditStream(slowly(), head(original))).toEqual(expected);
        });
      }
    }
  }
});
