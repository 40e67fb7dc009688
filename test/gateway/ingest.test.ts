/**
 * Decision ingest in the gateway: group commit (concurrent requests share one store transaction,
 * each keeps its own answer and its own error), the remembered session owners, and the live event.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { groupCommit } from "../../src/gateway/routes/decisions";
import { AirlockError } from "../../src/protocol/errors";
import type { DecisionInput, Store } from "../../src/store/types";
import { decisionFor, testGateway, type TestGateway } from "../support/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

const decision = (id: string, over: Record<string, unknown> = {}) => decisionFor(gw.sessionId, id, over);

type Batch = { clientId: string | null; decisions: DecisionInput[]; actor: string };

/** A store double that records how ingests reach it. */
function recordingStore(answer: (b: Batch) => { accepted: number; duplicates: number } | Error) {
  const calls: { kind: "single" | "group"; batches: Batch[] }[] = [];
  const store = {
    async ingestDecisions(clientId: string | null, decisions: DecisionInput[], actor: string) {
      const b = { clientId, decisions, actor };
      calls.push({ kind: "single", batches: [b] });
      const r = answer(b);
      if (r instanceof Error) throw r;
      return r;
    },
    async ingestDecisionBatches(batches: Batch[]) {
      calls.push({ kind: "group", batches });
      return batches.map((b) => {
        const r = answer(b);
        return r instanceof Error ? { ok: false as const, error: r } : { ok: true as const, value: r };
      });
    },
  } as unknown as Store;
  return { store, calls };
}

const batchOf = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }) as DecisionInput);

describe("group commit", () => {
  test("ingests issued in the same turn become one group; each caller gets its own answer or error", async () => {
    const { store, calls } = recordingStore((b) => (b.actor === "bad" ? new AirlockError("not_found", "client gone") : { accepted: b.decisions.length, duplicates: 0 }));
    const ingest = groupCommit(store);
    const results = await Promise.allSettled([
      ingest("c1", batchOf(1, "a"), "client:c1"),
      ingest("c1", batchOf(2, "b"), "client:c1"),
      ingest("c2", batchOf(1, "c"), "bad"),
      ingest("c2", batchOf(3, "d"), "client:c2"),
    ]);
    expect(calls.map((c) => [c.kind, c.batches.length])).toEqual([["group", 4]]);
    expect(results[0]).toEqual({ status: "fulfilled", value: { accepted: 1, duplicates: 0 } });
    expect(results[1]).toEqual({ status: "fulfilled", value: { accepted: 2, duplicates: 0 } });
    expect(results[2]!.status).toBe("rejected");
    expect(((results[2] as PromiseRejectedResult).reason as AirlockError).code).toBe("not_found");
    expect(results[3]).toEqual({ status: "fulfilled", value: { accepted: 3, duplicates: 0 } });
  });

  test("a lone ingest goes straight to ingestDecisions; later turns are later groups", async () => {
    const { store, calls } = recordingStore((b) => ({ accepted: b.decisions.length, duplicates: 0 }));
    const ingest = groupCommit(store);
    await ingest("c1", batchOf(1, "a"), "client:c1");
    await Promise.all([ingest("c1", batchOf(1, "b"), "client:c1"), ingest("c1", batchOf(1, "c"), "client:c1")]);
    expect(calls.map((c) => [c.kind, c.batches.length])).toEqual([
      ["single", 1],
      ["group", 2],
    ]);
  });

  test("a group holds at most 2,000 decisions: a full batch is a transaction of its own", async () => {
    const { store, calls } = recordingStore((b) => ({ accepted: b.decisions.length, duplicates: 0 }));
    const ingest = groupCommit(store);
    await Promise.all([ingest("c1", batchOf(1, "a"), "x"), ingest("c1", batchOf(1000, "b"), "x"), ingest("c1", batchOf(1000, "c"), "x"), ingest("c1", batchOf(1, "d"), "x")]);
    expect(calls.map((c) => c.batches.map((b) => b.decisions.length))).toEqual([[1, 1000], [1000, 1]]);
  });

  test("a store without group ingest is called once per request", async () => {
    const seen: number[] = [];
    const store = { ingestDecisions: async (_c: unknown, d: DecisionInput[]) => (seen.push(d.length), { accepted: d.length, duplicates: 0 }) } as unknown as Store;
    const ingest = groupCommit(store);
    await Promise.all([ingest(null, batchOf(1, "a"), "x"), ingest(null, batchOf(2, "b"), "x")]);
    expect(seen).toEqual([1, 2]);
  });
});

describe("concurrent ingest through the API", () => {
  test("simultaneous single-decision requests: each answered for itself, one refused, duplicates counted once", async () => {
    const posts = [
      ...Array.from({ length: 12 }, (_, i) => ({ as: "client" as const, decisions: [decision(`cc-${i}`)] })),
      { as: "client" as const, decisions: [decision("cc-dup")] },
      { as: "client" as const, decisions: [decision("cc-dup")] },
      { as: "other_client" as const, decisions: [decision("cc-foreign")] }, // another client's session
      { as: "client" as const, decisions: [decision("cc-two-a"), decision("cc-two-b", { verdict: "allow", policy: null, rule: null, pattern: null })] },
    ];
    const grouped = gw.store as unknown as { ingestDecisionBatches: (b: unknown[]) => Promise<unknown> };
    const original = grouped.ingestDecisionBatches;
    const groups: number[] = [];
    grouped.ingestDecisionBatches = function (b) {
      groups.push(b.length);
      return original.call(this, b);
    };
    let answers: { status: number; body: any }[];
    try {
      answers = await Promise.all(posts.map((p) => gw.json("POST", "/api/v1/decisions", { as: p.as, body: { decisions: p.decisions } })));
    } finally {
      grouped.ingestDecisionBatches = original;
    }
    // they did share transactions (here all 15 that reached the store share one)
    expect(groups.length).toBeGreaterThan(0);
    expect(Math.max(...groups)).toBeGreaterThan(1);
    for (let i = 0; i < 12; i++) expect(answers[i]).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });
    expect([answers[12]!.body, answers[13]!.body]).toContainEqual({ accepted: 1, duplicates: 0 });
    expect([answers[12]!.body, answers[13]!.body]).toContainEqual({ accepted: 0, duplicates: 1 });
    expect(answers[14]!.status).toBe(400);
    expect(answers[14]!.body.details[0].path).toBe("body.decisions[0].session_id");
    expect(answers[15]).toEqual({ status: 200, body: { accepted: 2, duplicates: 0 } });
    expect((await gw.json("GET", "/api/v1/decisions/cc-foreign")).status).toBe(404);
    for (const id of ["cc-0", "cc-11", "cc-dup", "cc-two-b"]) expect((await gw.json("GET", `/api/v1/decisions/${id}`)).status).toBe(200);
    // each new decision has its event, and the chain holds
    const audit = await gw.json("GET", "/api/v1/audit?target=decision:cc-dup");
    expect(audit.body.items).toHaveLength(1);
    expect((await gw.json("GET", "/api/v1/audit/verify")).body.ok).toBe(true);
  });

  test("a session remembered as this client's is still refused to another client", async () => {
    expect((await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("own-1")] } })).status).toBe(200);
    const res = await gw.json("POST", "/api/v1/decisions", { as: "other_client", body: { decisions: [decision("theirs-1")] } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe("body.decisions[0].session_id");
    // and an unknown session in the middle of a batch is named at its index
    const mixed = await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("own-2"), decision("own-3", { session_id: "ses_nope" }), decision("own-4")] } });
    expect(mixed.status).toBe(400);
    expect(mixed.body.details[0].path).toBe("body.decisions[1].session_id");
    expect((await gw.json("GET", "/api/v1/decisions/own-2")).status).toBe(404);
  });

  test("the live event carries the batch when someone listens, and nothing is built when no one does", async () => {
    const events: unknown[] = [];
    const stop = gw.bus.subscribe((e) => events.push(e));
    await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("live-1")] } });
    stop();
    expect(events).toEqual([{ type: "decision", data: { count: 1, decisions: [expect.objectContaining({ id: "live-1" })] } }]);
    await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("live-2")] } });
    expect(events).toHaveLength(1);
  });
});
