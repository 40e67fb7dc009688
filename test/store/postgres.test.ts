/**
 * The PostgreSQL backend: the shared contract (a fresh database per case on a throwaway server),
 * then what only a shared database has: several store instances (as several gateway replicas)
 * writing at once into one chain, replicas migrating together, reopening, the append-only guards,
 * text PostgreSQL cannot hold, and tampering behind the store's back.
 */
import { describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { AirlockError } from "../../src/protocol/errors";
import { PG_LATEST_VERSION } from "../../src/store/_pg-migrations";
import { openPostgresStore } from "../../src/store/postgres";
import type { DecisionInput, Store } from "../../src/store/types";
import { verifyStoreAudit } from "../../src/store/verify";
import { describeWithPostgres } from "../support/postgres";
import { decision as sessionDecision, FakeClock, sha, storeContract } from "./contract";

const policy = (id: string) => ({ id, name: id, status: "active", blocked_commands: [], rules: [] });
const decision = (id: string, over: Partial<DecisionInput> = {}): DecisionInput => sessionDecision(id, { session_id: null, ...over });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(AirlockError);
    return (error as AirlockError).code;
  }
  throw new Error("expected the call to fail");
}

describeWithPostgres("postgres", (server) => {
  storeContract("postgres", async (options) => {
    const db = await server.createDatabase();
    const store = await openPostgresStore(db.url, options);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await db.drop();
      },
    };
  });

  /** a fresh database and `n` stores on it (as `n` replicas), closed and dropped after `fn` */
  async function withStores<T>(n: number, fn: (stores: Store[], url: string) => Promise<T>, clock = new FakeClock()): Promise<T> {
    const db = await server.createDatabase();
    const stores: Store[] = [];
    try {
      stores.push(...(await Promise.all(Array.from({ length: n }, () => openPostgresStore(db.url, { now: clock.now })))));
      return await fn(stores, db.url);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.drop();
    }
  }

  describe("several replicas on one database", () => {
    test("replicas opening a brand-new database at once migrate it once, and exactly one seeds it", async () => {
      await withStores(4, async (stores, url) => {
        const seed = (i: number) => ({ policies: [policy("p1")], roles: [], adminToken: { id: `admin-${i}`, kind: "admin" as const, name: "admin", hash: sha(`admin-${i}`) } });
        const results = await Promise.all(stores.map((s, i) => s.initialize(seed(i))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await stores[0]!.counts()).toMatchObject({ policies: 1, audit_events: 1 });
        const sql = new SQL(url);
        try {
          expect(await sql`SELECT version FROM airlock_schema_migrations ORDER BY version`).toEqual(Array.from({ length: PG_LATEST_VERSION }, (_, i) => ({ version: i + 1 })));
        } finally {
          await sql.close();
        }
      });
    });

    test("concurrent writers on two connections keep one linear chain, ingest stays idempotent, transitions are race-free", async () => {
      await withStores(2, async ([a, b]) => {
        const stores = [a!, b!];
        // sessions that both replicas will race to move
        for (let i = 0; i < 10; i++) await a!.createSession({ id: `s${i}`, client_id: null, agent: "claude", role: "r", user: "u", host: "h", cwd: "/", pid: 1, token_hash: sha(`s${i}`) }, "system");
        const work: Promise<unknown>[] = [];
        const outcomes: { transition: string[] } = { transition: [] };
        for (const [k, store] of stores.entries()) {
          for (let i = 0; i < 20; i++) work.push(store.createPolicy(policy(`p-${k}-${i}`), `admin:${k}`));
          // the same 300 decisions from both replicas, in overlapping batches of 50
          for (let i = 0; i < 300; i += 50) work.push(store.ingestDecisions(null, Array.from({ length: 50 }, (_, j) => decision(`d${i + j}`, { verdict: (i + j) % 3 === 0 ? "block" : "allow" })), `admin:${k}`));
          for (let i = 0; i < 10; i++) {
            work.push(
              store.transitionSession(`s${i}`, "running", `admin:${k}`).then(
                () => outcomes.transition.push(`s${i}:ok`),
                (error: AirlockError) => outcomes.transition.push(`s${i}:${error.code}`),
              ),
            );
          }
          for (let i = 0; i < 10; i++) work.push(store.createToken({ id: `t-${k}-${i}`, kind: "viewer", name: "v", hash: sha(`t-${k}-${i}`) }, `admin:${k}`));
        }
        const results = await Promise.all(work);
        const ingests = results.filter((r): r is { accepted: number; duplicates: number } => typeof r === "object" && r !== null && "accepted" in r);
        expect(ingests.reduce((n, r) => n + r.accepted, 0)).toBe(300);
        expect(ingests.reduce((n, r) => n + r.duplicates, 0)).toBe(300);
        // each session started exactly once; the loser got a conflict
        for (let i = 0; i < 10; i++) expect(outcomes.transition.filter((o) => o.startsWith(`s${i}:`)).sort()).toEqual([`s${i}:conflict`, `s${i}:ok`]);

        const expected = 10 + 2 * 20 + 300 + 10 + 2 * 10;
        for (const store of stores) {
          const verified = await verifyStoreAudit(store);
          expect(verified.problem).toBeUndefined();
          expect(verified).toMatchObject({ ok: true, checked: expected });
        }
        const seqs: number[] = [];
        for await (const e of b!.iterateAudit()) seqs.push(e.seq);
        expect(seqs).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
        expect(await a!.counts()).toMatchObject({ policies: 40, audit_events: expected, decisions_by_verdict: { allow: 200, require_approval: 0, block: 100 } });
        expect((await b!.listDecisions({}, { limit: 1000 })).items).toHaveLength(300);
      });
    });

    test("one replica sees what another wrote", async () => {
      await withStores(2, async ([a, b]) => {
        await a!.createPolicy(policy("p1"), "admin:a");
        expect(await b!.getPolicy("p1")).toMatchObject({ id: "p1", version: 1 });
        await b!.updatePolicy("p1", policy("p1"), "admin:b", 1);
        expect(await codeOf(a!.updatePolicy("p1", policy("p1"), "admin:a", 1))).toBe("conflict");
        expect(await a!.auditHead()).toEqual(await b!.auditHead());
      });
    });
  });

  describe("group commit", () => {
    test("ingestDecisionBatches answers each batch as its own ingestDecisions would, in one transaction", async () => {
      await withStores(1, async ([store]) => {
        await store!.ingestDecisions(null, [decision("old")], "admin:a");
        const before = (await store!.auditHead())!.seq;
        const results = await store!.ingestDecisionBatches!([
          { clientId: null, actor: "admin:a", decisions: [decision("d1"), decision("old"), decision("d2", { verdict: "block" })] },
          { clientId: null, actor: "admin:a", decisions: [decision("bad", { verdict: "maybe" as never })] },
          { clientId: "ghost", actor: "client:ghost", decisions: [decision("d3")] },
          { clientId: null, actor: "admin:b", decisions: [decision("d2"), decision("d4"), decision("d4")] },
          { clientId: null, actor: "admin:b", decisions: [] },
        ]);
        expect(results[0]).toEqual({ ok: true, value: { accepted: 2, duplicates: 1 } });
        expect(results[1]).toMatchObject({ ok: false, error: { code: "invalid_input" } });
        expect(results[2]).toMatchObject({ ok: false, error: { code: "not_found" } });
        expect(results[3]).toEqual({ ok: true, value: { accepted: 1, duplicates: 2 } });
        expect(results[4]).toEqual({ ok: true, value: { accepted: 0, duplicates: 0 } });
        expect(await store!.getDecision("d3")).toBeNull();
        expect((await store!.auditSince(before, 10)).map((e) => [e.type, e.actor, e.target])).toEqual([
          ["decision.allowed", "admin:a", "decision:d1"],
          ["decision.blocked", "admin:a", "decision:d2"],
          ["decision.allowed", "admin:b", "decision:d4"],
        ]);
        expect((await store!.counts()).decisions_by_verdict).toEqual({ allow: 3, require_approval: 0, block: 1 });
      });
    });
  });

  describe("the database", () => {
    test("reopening keeps the data and the chain and does not re-run migrations", async () => {
      const db = await server.createDatabase();
      try {
        const first = await openPostgresStore(db.url);
        await first.createPolicy(policy("p1"), "admin:a");
        await first.ingestDecisions(null, [decision("d1")], "admin:a");
        const head = await first.auditHead();
        await first.close();
        const second = await openPostgresStore(db.url);
        try {
          expect(await second.auditHead()).toEqual(head);
          expect(await second.getDecision("d1")).toMatchObject({ id: "d1" });
          expect((await verifyStoreAudit(second)).ok).toBe(true);
        } finally {
          await second.close();
        }
      } finally {
        await db.drop();
      }
    });

    test("a schema from a newer airlock is refused with a clear error", async () => {
      await withStores(1, async (_, url) => {
        const sql = new SQL(url);
        await sql`INSERT INTO airlock_schema_migrations (version, name, applied_at) VALUES (${PG_LATEST_VERSION + 1}, 'future', 'x')`;
        await sql.close();
        const error = await openPostgresStore(url).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(AirlockError);
        expect((error as AirlockError).message).toContain("newer than this airlock understands");
      });
    });

    test("an unreachable server is unavailable, and the password is not in the message", async () => {
      const error = await openPostgresStore("postgres://airlock:hunter2@127.0.0.1:1/nowhere").then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AirlockError);
      expect((error as AirlockError).code).toBe("unavailable");
      expect((error as AirlockError).message).not.toContain("hunter2");
    });

    test("a closed store refuses calls", async () => {
      await withStores(1, async ([store]) => {
        await store!.close();
        expect(await codeOf(store!.listPolicies())).toBe("unavailable");
        expect(await codeOf(store!.createPolicy(policy("p1"), "admin:a"))).toBe("unavailable");
      });
    });

    test("the append-only guards refuse UPDATE, DELETE and TRUNCATE through SQL", async () => {
      await withStores(1, async ([store], url) => {
        await store!.createPolicy(policy("p1"), "admin:a");
        const sql = new SQL(url);
        try {
          for (const statement of ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"]) {
            await expect(sql.unsafe(statement)).rejects.toThrow("append-only");
          }
        } finally {
          await sql.close();
        }
        expect((await verifyStoreAudit(store!)).ok).toBe(true);
      });
    });

    test("edits and deletions behind the store's back are named", async () => {
      await withStores(1, async ([store], url) => {
        for (let i = 1; i <= 5; i++) await store!.createPolicy(policy(`p${i}`), "admin:a");
        const sql = new SQL(url);
        try {
          // the owner can lift the guard; the chain still tells
          await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`;
          await sql`UPDATE audit_events SET actor = 'admin:mallory' WHERE seq = 3`;
          expect((await verifyStoreAudit(store!)).problem).toMatchObject({ kind: "altered", seq: 3 });
          await sql`DELETE FROM audit_events WHERE seq >= 3`;
          expect((await verifyStoreAudit(store!)).problem).toMatchObject({ kind: "truncated", seq: 3 });
        } finally {
          await sql.close();
        }
      });
    });

    test("text PostgreSQL cannot hold (U+0000, lone surrogates) is stored as U+FFFD and the chain verifies", async () => {
      await withStores(1, async ([store]) => {
        const nasty = decision("d\u0000x", { command: "echo a\u0000b \ud800", cwd: "/tmp/\u0000" });
        expect(await store!.ingestDecisions(null, [nasty, decision("d\ufffdx")], "admin:\u0000")).toEqual({ accepted: 1, duplicates: 1 });
        const stored = await store!.getDecision("d\ufffdx");
        expect(stored).toMatchObject({ command: "echo a\ufffdb \ufffd", cwd: "/tmp/\ufffd" });
        expect(await store!.getDecision("d\u0000x")).toEqual(stored);
        const [event] = await store!.auditSince(0, 10);
        expect(event).toMatchObject({ actor: "admin:\ufffd", target: "decision:d\ufffdx", details: { command: "echo a\ufffdb \ufffd" } });
        await store!.createSession({ id: "s\u0000", client_id: null, agent: "a\u0000", role: "r", user: "u", host: "h", cwd: "/", pid: null, token_hash: sha("s") }, "system");
        expect((await verifyStoreAudit(store!)).ok).toBe(true);
      });
    });
  });
});
