/**
 * The SQLite ingest path beyond the shared contract: the fast seal against the generic chain rules,
 * group commit (`ingestDecisionBatches`) against the same batches ingested one by one, and the
 * background WAL checkpointer (it starts under load, keeps the WAL in check, closes cleanly and
 * loses nothing to a kill -9).
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { canonicalJson } from "../../src/audit/canonical";
import { hashEvent, type AuditEvent } from "../../src/audit/chain";
import type { VerdictKind } from "../../src/protocol/records";
import { sha256Hex } from "../../src/store/_hash";
import { openSqliteStore } from "../../src/store/sqlite";
import type { DecisionBatch } from "../../src/store/types";
import type { DecisionInput, Store } from "../../src/store/types";
import { verifyStoreAudit } from "../../src/store/verify";
import { tempDir } from "../support/tmp";
import { decision, FakeClock } from "./contract";

type GroupStore = Store & { ingestDecisionBatches(batches: readonly DecisionBatch[]): Promise<({ ok: true; value: { accepted: number; duplicates: number } } | { ok: false; error: unknown })[]> };

async function enroll(store: Store, id: string): Promise<void> {
  const hash = sha256Hex(`enroll-${id}`);
  await store.createToken({ id: `e-${id}`, kind: "enrollment", name: id, hash }, "system");
  await store.enrollClient(hash, { id, name: id, hostname: id, user: "dev", version: "0" }, { id: `t-${id}`, kind: "client", name: id, hash: sha256Hex(`token-${id}`) });
}

/** The rows a store holds, without what is random per run (event ids, rowids). */
function snapshot(path: string): { decisions: unknown[]; events: unknown[]; head: unknown } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      decisions: db.query("SELECT id, client_id, session_id, role, agent, tool, command, normalized, verdict, policy, rule, pattern, reason, source, cwd, decided_at, received_at, audit_seq FROM decisions ORDER BY rid").all(),
      events: db.query("SELECT seq, type, code, actor, target, details, created_at FROM audit_events ORDER BY seq").all(),
      head: db.query("SELECT seq, created_at, decisions_allow, decisions_require_approval, decisions_block FROM store_head").get(),
    };
  } finally {
    db.close();
  }
}

describe("the fast seal, through the store", () => {
  test("hostile strings: every event hashes as hashEvent says, details are JSON.stringify's, the chain verifies", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const store = openSqliteStore(path);
    const nasty = ['q"uote', "back\\slash", "nul\u0000x", "ctl\u001f", "del\u007f", "ls\u2028", "lone \ud800 high", "lone \udc00 low", "pair 😀", "é日本", ""];
    const verdicts: VerdictKind[] = ["allow", "block", "require_approval"];
    const batch = nasty.flatMap((s, i) => [
      decision(`n${i}`, { command: s, policy: s, rule: s, session_id: s, verdict: verdicts[i % 3]! }),
      decision(`m${i}`, { command: `x${s}y`, policy: null, rule: undefined as unknown as null, session_id: null, verdict: verdicts[(i + 1) % 3]! }),
    ]);
    try {
      expect(await store.ingestDecisions(null, batch, 'admin:"odd" actor\u2028')).toEqual({ accepted: batch.length, duplicates: 0 });
      expect(await store.ingestDecisions(null, [decision("single", { command: "\ud83d" })], "admin:a")).toEqual({ accepted: 1, duplicates: 0 });
      expect((await verifyStoreAudit(store)).ok).toBe(true);
      const db = new Database(path, { readonly: true });
      const rows = db.query("SELECT seq, id, type, code, actor, target, details, created_at, prev_hash, hash FROM audit_events WHERE type LIKE 'decision.%' ORDER BY seq").all() as (Omit<AuditEvent, "details"> & { details: string })[];
      db.close();
      const byTarget = new Map([...batch, decision("single", { command: "\ud83d" })].map((d) => [`decision:${d.id}`, d]));
      expect(rows.length).toBe(batch.length + 1);
      for (const r of rows) {
        const d = byTarget.get(r.target)!;
        const details = { verdict: d.verdict, command: d.command, policy: d.policy ?? null, rule: d.rule ?? null, session_id: d.session_id ?? null };
        expect(r.details).toBe(JSON.stringify(details));
        // the hash is the generic one over the event as stored
        expect(r.hash).toBe(hashEvent({ ...r, details: JSON.parse(r.details) }, sha256Hex));
        expect(canonicalJson(JSON.parse(r.details))).toBe(canonicalJson(details));
      }
    } finally {
      await store.close();
    }
  });

  test("ids are found as duplicates however they are spelled (a lone surrogate is looked up bound, as it is stored)", async () => {
    await using dir = await tempDir();
    const store = openSqliteStore(join(dir.path, "gateway.db"));
    try {
      const batch = [decision("lone\ud800"), decision("plain"), decision('q"uote\\')];
      expect(await store.ingestDecisions(null, batch, "admin:a")).toEqual({ accepted: 3, duplicates: 0 });
      expect(await store.ingestDecisions(null, batch, "admin:a")).toEqual({ accepted: 0, duplicates: 3 });
      expect(await store.ingestDecisions(null, [decision('q"uote\\'), decision("new")], "admin:a")).toEqual({ accepted: 1, duplicates: 1 });
    } finally {
      await store.close();
    }
  });

  test("a decision with a non-string field takes the general path and seals the same way", async () => {
    await using dir = await tempDir();
    const store = openSqliteStore(join(dir.path, "gateway.db"));
    try {
      const odd = decision("odd", { policy: 42 as unknown as string, role: 7 as unknown as string });
      expect(await store.ingestDecisions(null, [decision("a"), odd, decision("b")], "admin:a")).toEqual({ accepted: 3, duplicates: 0 });
      expect((await verifyStoreAudit(store)).ok).toBe(true);
      expect((await store.getDecision("odd"))?.role).toBe("7");
      const events = await store.auditSince(0, 10);
      expect(events.find((e) => e.target === "decision:odd")?.details).toEqual({ verdict: "allow", command: "terraform plan odd", policy: 42, rule: null, session_id: "s1" });
    } finally {
      await store.close();
    }
  });
});

describe("group commit", () => {
  /** the same batches, one by one on one store and as one group on another, from the same clock */
  async function compare(batches: DecisionBatch[], prepare: (store: Store) => Promise<void> = async () => {}) {
    await using dir = await tempDir();
    const stores = ["one-by-one.db", "group.db"].map((name) => {
      const clock = new FakeClock();
      return { path: join(dir.path, name), store: openSqliteStore(join(dir.path, name), { now: clock.now }) };
    });
    try {
      for (const { store } of stores) {
        await enroll(store, "c1");
        await enroll(store, "c2");
        await prepare(store);
      }
      const sequential: unknown[] = [];
      for (const b of batches) {
        try {
          sequential.push({ ok: true, value: await stores[0]!.store.ingestDecisions(b.clientId, b.decisions, b.actor) });
        } catch (error) {
          sequential.push({ ok: false, error });
        }
      }
      const grouped = await (stores[1]!.store as GroupStore).ingestDecisionBatches(batches);
      expect(grouped).toEqual(sequential as typeof grouped);
      for (const { store } of stores) expect((await verifyStoreAudit(store)).ok).toBe(true);
      // the same rows and events (the group is one transaction: one received_at and created_at,
      // which the fake clock makes the same as the one-by-one store's)
      expect(snapshot(stores[1]!.path)).toEqual(snapshot(stores[0]!.path));
      return grouped;
    } finally {
      for (const { store } of stores) await store.close();
    }
  }

  test("each batch gets what ingestDecisions would give it, and the store ends the same", async () => {
    const results = await compare(
      [
        { clientId: "c1", decisions: [decision("a1"), decision("a2", { verdict: "block", policy: "p", rule: "r" })], actor: "client:c1" },
        { clientId: "c1", decisions: [decision("a2"), decision("a3"), decision("a3")], actor: "client:c1" }, // a2 from the batch before, a3 twice
        { clientId: "c2", decisions: [decision("b1", { verdict: "require_approval" })], actor: "client:c2" }, // another client and actor
        { clientId: "c1", decisions: [decision("bad", { verdict: "maybe" as VerdictKind })], actor: "client:c1" }, // invalid: its own error
        { clientId: "ghost", decisions: [decision("g1")], actor: "client:ghost" }, // unknown client: its own error
        { clientId: "c1", decisions: [], actor: "client:c1" },
        { clientId: null, decisions: [decision("pre1"), decision("n1")], actor: "admin:root" }, // pre1 stored before the group
        { clientId: "c1", decisions: Array.from({ length: 120 }, (_, i) => decision(`many${i}`)), actor: "client:c1" }, // spans several multi-row inserts
        { clientId: "c2", decisions: [decision("b1"), decision("many7"), decision("b2")], actor: "client:c2" },
      ],
      async (store) => {
        await store.ingestDecisions(null, [decision("pre1")], "admin:root");
      },
    );
    expect(results.map((r) => (r.ok ? r.value : (r.error as { code?: string }).code))).toEqual([
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 2 },
      { accepted: 1, duplicates: 0 },
      "invalid_input",
      "not_found",
      { accepted: 0, duplicates: 0 },
      { accepted: 1, duplicates: 1 },
      { accepted: 120, duplicates: 0 },
      { accepted: 1, duplicates: 2 },
    ]);
  });

  test("an error after writes began rolls the group back and each batch is retried alone", async () => {
    // an object cannot be bound: the multi-row insert fails after the group's earlier rows went in
    const unbindable = decision("x2", { role: {} as unknown as string });
    const results = await compare([
      { clientId: "c1", decisions: [decision("x1")], actor: "client:c1" },
      { clientId: "c1", decisions: [unbindable], actor: "client:c1" },
      { clientId: "c2", decisions: [decision("x3"), decision("x1")], actor: "client:c2" },
    ]);
    expect(results[0]).toEqual({ ok: true, value: { accepted: 1, duplicates: 0 } });
    expect(results[1]!.ok).toBe(false);
    expect((results[1] as { error: Error }).error).toBeInstanceOf(TypeError);
    expect(results[2]).toEqual({ ok: true, value: { accepted: 1, duplicates: 1 } });
  });

  test("a closed store answers every batch with unavailable", async () => {
    await using dir = await tempDir();
    const store = openSqliteStore(join(dir.path, "gateway.db")) as GroupStore;
    await store.close();
    const results = await store.ingestDecisionBatches([
      { clientId: null, decisions: [decision("a")], actor: "admin:a" },
      { clientId: null, decisions: [decision("b")], actor: "admin:a" },
    ]);
    expect(results.map((r) => !r.ok && (r.error as { code?: string }).code)).toEqual(["unavailable", "unavailable"]);
  });
});

/** this process's open descriptors on the database and its WAL files (Linux) */
function openFiles(path: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(path)) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

describe("the background checkpointer", () => {
  const big = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => decision(`${prefix}-${i}`, { command: `terraform apply ${"x".repeat(300)} ${prefix}-${i}` }));

  test("starts once the WAL has grown, checkpoints off the connection, and is gone when the store closes", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const store = openSqliteStore(path);
    const internals = store as unknown as { checkpointer: { completed: number } | null };
    let ingested = 0;
    const ingest = async (batch: DecisionInput[]) => {
      ingested += (await store.ingestDecisions(null, batch, "admin:a")).accepted;
    };
    try {
      await ingest(big("warm", 10));
      expect(internals.checkpointer).toBeNull(); // a quiet store runs no worker
      for (let b = 0; b < 20 && internals.checkpointer === null; b++) await ingest(big(`b${b}`, 500));
      expect(internals.checkpointer).not.toBeNull();
      for (let b = 0; b < 10; b++) await ingest(big(`c${b}`, 500));
      const deadline = Date.now() + 5_000;
      while (internals.checkpointer!.completed === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(internals.checkpointer!.completed).toBeGreaterThan(0);
      expect((await verifyStoreAudit(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
    expect(internals.checkpointer).toBeNull();
    // no connection is left behind, the worker's included: nothing in this process holds the file
    // (bun closes the store's own connection for good once its statement objects are collected)
    if (existsSync("/proc/self/fd")) {
      Bun.gc(true);
      await Bun.sleep(10);
      expect(openFiles(path)).toEqual([]);
      expect(existsSync(`${path}-wal`)).toBe(false); // the last connection to close checkpointed it away
    }
    const db = new Database(path);
    expect(db.query("PRAGMA wal_checkpoint(TRUNCATE)").get()).toEqual({ busy: 0, log: 0, checkpointed: 0 });
    db.close();
    const again = openSqliteStore(path);
    try {
      expect((await again.counts()).decisions_by_verdict.allow).toBe(ingested);
      expect((await verifyStoreAudit(again)).ok).toBe(true);
    } finally {
      await again.close();
    }
  }, 30_000);

  test("kill -9 while it and the writer thread run: every acknowledged batch is there, whole, and the chain verifies", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const child = Bun.spawn([process.execPath, resolve(import.meta.dir, "_ingest-child.ts"), path], { stdout: "pipe", stderr: "inherit" });
    const acked: number[] = [];
    let checkpointing = false;
    let writer = false;
    const reader = child.stdout.getReader();
    let text = "";
    while (!(checkpointing && writer && acked.length >= 40)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the child ended early: ${text}`);
      text += new TextDecoder().decode(value);
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        if (line === "checkpointing") checkpointing = true;
        else if (line === "writer") writer = true;
        else if (/^\d+$/.test(line)) acked.push(Number(line));
      }
    }
    child.kill("SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");

    const db = new Database(path);
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const perBatch = new Map<number, number>();
    for (const { id } of db.query("SELECT id FROM decisions").all() as { id: string }[]) {
      const b = Number(id.split("-")[0]!.slice(1));
      perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
    }
    db.close();
    for (const b of acked) expect(perBatch.get(b)).toBe(200);
    for (const [b, n] of perBatch) expect(n, `batch ${b}`).toBe(200); // all of a batch or none of it
    const store = openSqliteStore(path);
    try {
      expect((await verifyStoreAudit(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe("the writer thread", () => {
  type Internals = { writer: { ready: boolean; answered: number } | null; startWriter(): void };
  /** a file store whose ingests go through its writer thread from now on */
  async function withWriter(path: string, options: Parameters<typeof openSqliteStore>[1] = {}) {
    const store = openSqliteStore(path, options);
    const internals = store as unknown as Internals;
    internals.startWriter();
    expect(internals.writer).not.toBeNull();
    while (!internals.writer!.ready) await Bun.sleep(1);
    return { store, internals };
  }

  test("starts once a file store has ingested in earnest; a quiet one writes on its own connection", async () => {
    await using dir = await tempDir();
    const store = openSqliteStore(join(dir.path, "gateway.db"));
    const internals = store as unknown as Internals;
    try {
      await store.ingestDecisions(null, [decision("a")], "admin:a");
      expect(internals.writer).toBeNull();
      for (let b = 0; b < 5; b++) await store.ingestDecisions(null, Array.from({ length: 500 }, (_, i) => decision(`b${b}-${i}`)), "admin:a");
      expect(internals.writer).not.toBeNull();
      const deadline = Date.now() + 10_000;
      while (!internals.writer!.ready && Date.now() < deadline) await Bun.sleep(5);
      const many = Array.from({ length: 100 }, (_, i) => decision(`through${i}`));
      expect(await store.ingestDecisions(null, [...many, decision("a")], "admin:a")).toEqual({ accepted: 100, duplicates: 1 });
      expect(internals.writer!.answered).toBe(1);
      // a small batch while the writer is idle is written on the store's own connection
      expect(await store.ingestDecisions(null, [decision("small"), decision("through7")], "admin:a")).toEqual({ accepted: 1, duplicates: 1 });
      expect(internals.writer!.answered).toBe(1);
      expect((await verifyStoreAudit(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
    expect(internals.writer).toBeNull();
  }, 30_000);

  test("hostile strings through the writer: every event hashes as hashEvent says, ids are found as duplicates however spelled", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const { store, internals } = await withWriter(path);
    const verdicts = ["allow", "block", "require_approval"] as const;
    const hostile = (strings: string[], prefix: string) =>
      strings.flatMap((s, i) => [
        decision(`${prefix}${i}${s}`, { command: s, policy: s, rule: s, session_id: s, role: s, cwd: s, verdict: verdicts[i % 3] }),
        decision(`${prefix}m${i}`, { command: `x${s}y`, policy: null, rule: undefined as unknown as null, session_id: null }),
      ]);
    // well-formed text crosses to the writer thread
    // (with enough plain ones that the batch is not written in-process as a small one)
    const batch = [...hostile(['q"uote', "back\\slash", "nul\u0000x", "ctl\u001f", "ls\u2028", "pair 😀", "é日本", ""], "n"), ...Array.from({ length: 64 }, (_, i) => decision(`pad${i}`))];
    // a lone surrogate cannot cross (a string crosses as UTF-8): that group is written in-process,
    // and the surrogate stays out of the ids (binding writes an id as UTF-8 either way)
    const lone = hostile(["lone \ud800 high", "lone \udc00 low", "\ud83d"], "l").map((d) => ({ ...d, id: d.id.replace(/[\ud800-\udfff]/g, "") }));
    try {
      expect(await store.ingestDecisions(null, batch, 'admin:"odd" actor\u2028')).toEqual({ accepted: batch.length, duplicates: 0 });
      expect(internals.writer!.answered).toBe(1);
      expect(await store.ingestDecisions(null, lone, "admin:a")).toEqual({ accepted: lone.length, duplicates: 0 });
      expect(internals.writer!.answered).toBe(1);
      expect(await store.ingestDecisions(null, batch, "admin:a")).toEqual({ accepted: 0, duplicates: batch.length });
      expect(internals.writer!.answered).toBe(2);
      expect((await verifyStoreAudit(store)).ok).toBe(true);
      for (const d of batch) {
        const stored = await store.getDecision(d.id);
        expect(stored?.command).toBe(d.command);
        expect(stored?.role).toBe(d.role);
      }
      const db = new Database(path, { readonly: true });
      const rows = db.query("SELECT seq, id, type, code, actor, target, details, created_at, prev_hash, hash FROM audit_events WHERE type LIKE 'decision.%' ORDER BY seq").all() as (Omit<AuditEvent, "details"> & { details: string })[];
      db.close();
      expect(rows.length).toBe(batch.length + lone.length);
      const byTarget = new Map([...batch, ...lone].map((d) => [`decision:${d.id}`, d]));
      for (const r of rows) {
        const d = byTarget.get(r.target)!;
        expect(r.details).toBe(JSON.stringify({ verdict: d.verdict, command: d.command, policy: d.policy ?? null, rule: d.rule ?? null, session_id: d.session_id ?? null }));
        expect(r.hash).toBe(hashEvent({ ...r, details: JSON.parse(r.details) }, sha256Hex));
      }
    } finally {
      await store.close();
    }
  });

  test("group commit through the writer gives what the in-process store gives, and the same rows", async () => {
    await using dir = await tempDir();
    const clocks = [new FakeClock(), new FakeClock()];
    const here = openSqliteStore(join(dir.path, "here.db"), { now: clocks[0]!.now });
    const { store: there } = await withWriter(join(dir.path, "there.db"), { now: clocks[1]!.now });
    const batches: DecisionBatch[] = [
      { clientId: "c1", decisions: [decision("a1"), decision("a2", { verdict: "block", policy: "p", rule: "r" })], actor: "client:c1" },
      { clientId: "c1", decisions: [decision("a2"), decision("a3"), decision("a3")], actor: "client:c1" },
      { clientId: "ghost", decisions: [decision("g1")], actor: "client:ghost" },
      { clientId: "c1", decisions: [decision("bad", { verdict: "maybe" as VerdictKind })], actor: "client:c1" },
      { clientId: "c1", decisions: Array.from({ length: 250 }, (_, i) => decision(`many${i}`)), actor: "client:c1" },
      { clientId: null, decisions: [decision("many7"), decision("n1")], actor: "admin:root" },
    ];
    try {
      for (const store of [here, there]) await enroll(store, "c1");
      const a = await (here as GroupStore).ingestDecisionBatches(batches);
      const b = await (there as GroupStore).ingestDecisionBatches(batches);
      expect(b).toEqual(a);
      expect(a.map((r) => (r.ok ? r.value : (r.error as { code?: string }).code))).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 1, duplicates: 2 },
        "not_found",
        "invalid_input",
        { accepted: 250, duplicates: 0 },
        { accepted: 1, duplicates: 1 },
      ]);
      // concurrent submissions are merged into the writer's transactions and each keeps its result
      const answered = (there as unknown as Internals).writer!.answered;
      const concurrent = await Promise.all(
        Array.from({ length: 40 }, (_, i) => there.ingestDecisions("c1", Array.from({ length: 70 }, (_, j) => decision(`s${i % 30}-${j}`)), "client:c1")),
      );
      expect(concurrent.reduce((n, r) => n + r.accepted, 0)).toBe(30 * 70);
      expect(concurrent.reduce((n, r) => n + r.duplicates, 0)).toBe(10 * 70);
      // 2 handed over at once, the other 38 merged into a few transactions of at most 2,000 decisions
      const transactions = (there as unknown as Internals).writer!.answered - answered;
      expect(transactions).toBeGreaterThanOrEqual(4);
      expect(transactions).toBeLessThan(40);
      for (const store of [here, there]) expect((await verifyStoreAudit(store)).ok).toBe(true);
    } finally {
      await here.close();
      await there.close();
    }
    const expected = snapshot(join(dir.path, "here.db")).decisions;
    expect(snapshot(join(dir.path, "there.db")).decisions.slice(0, expected.length)).toEqual(expected);
  });

  test("hashes computed ahead on the request thread are used when the head is as guessed; the writer hashes for itself wherever it is not", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const { store, internals } = await withWriter(path);
    const writer = () => internals.writer as unknown as { answered: number; hashedAhead: number };
    const many = (prefix: string, n = 100, overrides = {}) => Array.from({ length: n }, (_, i) => decision(`${prefix}${i}`, overrides));
    const ahead = async (run: () => Promise<unknown>) => {
      const before = writer().hashedAhead;
      await run();
      return writer().hashedAhead - before;
    };
    try {
      // enrolling moved the head on the store's own connection: the guess follows it
      await enroll(store, "c1");
      expect(await ahead(() => store.ingestDecisions("c1", many("a"), "client:c1"))).toBe(100);
      // another connection (another store on the file) moves the head unseen: the group finds
      // another head than guessed and hashes for itself, and its answer tells the head again
      const other = openSqliteStore(path);
      await other.createToken({ id: "v0", kind: "viewer", name: "v", hash: sha256Hex("viewer-0") }, "admin:root");
      await other.close();
      expect(await ahead(() => store.ingestDecisions("c1", many("b", 100, { verdict: "block", policy: "p", rule: "r" }), "client:c1"))).toBe(0);
      // an audited write on the store's own connection moves the head: the next guess follows it
      await store.createToken({ id: "v1", kind: "viewer", name: "v", hash: sha256Hex("viewer-1") }, "admin:root");
      expect(await ahead(() => store.ingestDecisions("c1", many("c"), "client:c1"))).toBe(100);
      // a decision stored already was counted in as new: from there on the writer hashes itself
      // (the group is written once without looking ids up, fails on the stored one, and is written
      // again with the lookups: the batch still gets its exact answer)
      let answer: unknown;
      expect(await ahead(async () => (answer = await store.ingestDecisions("c1", [...many("d", 50), decision("a3"), ...many("e", 49)], "client:c1")))).toBe(50);
      expect(answer).toEqual({ accepted: 99, duplicates: 1 });
      // a long text (80 KB of UTF-8 in one event) is hashed ahead as well
      expect(await ahead(() => store.ingestDecisions("c1", [...many("long", 99), decision("long-one", { command: `echo ${"é".repeat(40_000)}` })], "client:c1"))).toBe(100);
      // a repeat inside the group is left out on both sides
      expect(await ahead(() => store.ingestDecisions("c1", [...many("f", 50), decision("f3"), ...many("g", 49)], "client:c1"))).toBe(99);
      // an unknown client's batch in the group: the batches after it are hashed by the writer
      const results = await (store as GroupStore).ingestDecisionBatches([
        { clientId: "c1", decisions: many("h"), actor: "client:c1" },
        { clientId: "ghost", decisions: many("i"), actor: "client:ghost" },
        { clientId: "c1", decisions: many("j"), actor: "client:c1" },
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
      // concurrent submissions: each group is guessed from the one sent before it, still in flight
      const answered = writer().answered;
      const before = writer().hashedAhead;
      await Promise.all(Array.from({ length: 12 }, (_, i) => store.ingestDecisions("c1", many(`k${i}-`, 300), "client:c1")));
      expect(writer().answered - answered).toBeGreaterThan(2);
      expect(writer().hashedAhead - before).toBe(12 * 300);
      const report = await verifyStoreAudit(store);
      expect(report.ok).toBe(true);
      expect((await store.counts()).decisions_by_verdict).toEqual({ allow: 100 + 100 + 99 + 100 + 99 + 200 + 3600, require_approval: 0, block: 100 });
    } finally {
      await store.close();
    }
  });

  test("a writer that cannot open the database hands its work back: nothing is lost", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "gateway.db");
    const store = openSqliteStore(path);
    const internals = store as unknown as Internals & { path: string };
    try {
      internals.path = join(dir.path, "missing", "gateway.db"); // the worker opens with create: false
      internals.startWriter();
      internals.path = path;
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.ingestDecisions(null, [decision(`f${i}`)], "admin:a")));
      expect(results.every((r) => r.accepted === 1)).toBe(true);
      const deadline = Date.now() + 10_000;
      while (internals.writer !== null && Date.now() < deadline) await Bun.sleep(5);
      expect(internals.writer).toBeNull();
      expect(await store.ingestDecisions(null, [decision("after")], "admin:a")).toEqual({ accepted: 1, duplicates: 0 });
      expect((await store.counts()).decisions_by_verdict.allow).toBe(11);
      expect((await verifyStoreAudit(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
