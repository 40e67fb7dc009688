/**
 * The event bus and the approvals hub across replicas, over an in-memory stand-in for the store's
 * broadcast (PostgreSQL's LISTEN/NOTIFY is exercised for real in test/e2e/postgres-replicas.test.ts):
 * exactly-once delivery with the origin, decision events by id only, listener counts, presence.
 */
import { describe, expect, test } from "bun:test";
import { createGatewayApp } from "../../src/gateway/app";
import { createApprovalsHub, type ApproverSocket } from "../../src/gateway/approvals-hub";
import { createEventBus, type EventBus, type LiveEvent } from "../../src/gateway/events";
import type { ApprovalRecord } from "../../src/protocol/approvals";
import type { DecisionRecord } from "../../src/protocol/records";
import { openSqliteStore } from "../../src/store/sqlite";
import { STORE_RESYNC, STORE_SIGNAL_MAX_BYTES, type Store, type StoreSignal } from "../../src/store/types";
import { shellAnalyzer } from "../support/shell";
import { tempDir } from "../support/tmp";

/** one "database": what any member broadcasts reaches every member's subscribers, asynchronously */
function fakeNetwork() {
  const members = new Set<(s: StoreSignal) => void>();
  const sent: string[] = [];
  const decisions = new Map<string, DecisionRecord>();
  const approvals = new Map<string, ApprovalRecord>();
  const store = (): Pick<Store, "broadcast" | "subscribe" | "getDecision" | "getApproval" | "expireApprovals"> & { resync(): void } => {
    let mine: ((s: StoreSignal) => void) | null = null;
    return {
      async broadcast(signal) {
        const json = JSON.stringify(signal);
        expect(Buffer.byteLength(json)).toBeLessThanOrEqual(STORE_SIGNAL_MAX_BYTES);
        sent.push(json);
        const copy = JSON.parse(json) as StoreSignal;
        setTimeout(() => {
          for (const m of members) m(copy);
        }, 1);
      },
      subscribe(onSignal) {
        mine = onSignal;
        members.add(onSignal);
        return { ready: Promise.resolve(), unsubscribe: () => members.delete(onSignal) };
      },
      getDecision: async (id) => decisions.get(id) ?? null,
      getApproval: async (id) => approvals.get(id) ?? null,
      expireApprovals: async () => [],
      resync() {
        mine?.({ type: STORE_RESYNC, data: null });
      },
    };
  };
  return { store, sent, decisions, approvals };
}

const settle = () => Bun.sleep(30);
const quiet = { info() {}, warn() {}, error() {} };

function decisionRecord(id: string, command: string): DecisionRecord {
  return {
    id,
    client_id: "c1",
    session_id: null,
    role: "default-agent",
    agent: "claude",
    tool: "git",
    command,
    normalized: [command],
    verdict: "block",
    policy: "p",
    rule: "blocked_commands[0]",
    pattern: null,
    reason: "blocked",
    source: "shim",
    cwd: "/w",
    decided_at: new Date().toISOString(),
    received_at: new Date().toISOString(),
  } as DecisionRecord;
}

describe("the event bus across replicas", () => {
  test("an event published on one replica reaches every other replica's listeners once, with its origin", async () => {
    const net = fakeNetwork();
    const a = createEventBus({ store: net.store() });
    const b = createEventBus({ store: net.store() });
    const c = createEventBus({ store: net.store() });
    const seen: Record<string, [LiveEvent, string | null][]> = { a: [], b: [], c: [] };
    a.subscribe((e, from) => seen.a!.push([e, from]));
    b.subscribe((e, from) => seen.b!.push([e, from]));
    c.subscribe((e, from) => seen.c!.push([e, from]), ["policy"]);
    a.publish({ type: "role", data: { action: "updated", id: "r1", version: 2 } });
    a.publish({ type: "policy", data: { action: "created", id: "p1", version: 1 } });
    expect(seen.a).toHaveLength(2); // local delivery is immediate
    await settle();
    expect(seen.a).toHaveLength(2); // not again from the wire
    expect(seen.b).toEqual([
      [{ type: "role", data: { action: "updated", id: "r1", version: 2 } }, a.id],
      [{ type: "policy", data: { action: "created", id: "p1", version: 1 } }, a.id],
    ]);
    expect(seen.c).toEqual([[{ type: "policy", data: { action: "created", id: "p1", version: 1 } }, a.id]]);
    expect(a.shared && b.shared).toBe(true);
    for (const bus of [a, b, c]) await bus.close();
  });

  test("decision events travel as ids only; the receiver re-reads them; one tick's are merged", async () => {
    const net = fakeNetwork();
    const a = createEventBus({ store: net.store() });
    const b = createEventBus({ store: net.store() });
    for (let i = 0; i < 60; i++) net.decisions.set(`d${i}`, decisionRecord(`d${i}`, `git push --force secret-${i}`));
    const got: [LiveEvent, string | null][] = [];
    b.subscribe((e, from) => got.push([e, from]), ["decision"]);
    await settle();
    a.publish({ type: "decision", data: { count: 30, decisions: [...net.decisions.values()].slice(0, 30) } });
    a.publish({ type: "decision", data: { count: 30, decisions: [...net.decisions.values()].slice(30) } });
    await settle();
    expect(got).toHaveLength(1);
    const [event, from] = got[0]!;
    expect(from).toBe(a.id);
    const data = event.data as { count: number; decisions: DecisionRecord[] };
    expect(data.count).toBe(60);
    expect(data.decisions.map((d) => d.id)).toEqual(Array.from({ length: 50 }, (_, i) => `d${i + 10}`));
    expect(data.decisions[0]).toEqual(net.decisions.get("d10")!);
    // no command ever went over the wire
    expect(net.sent.join("\n")).not.toContain("secret-");
    await a.close();
    await b.close();
  });

  test("listeners counts decision listeners on every replica; filtered ones do not count", async () => {
    const net = fakeNetwork();
    const a = createEventBus({ store: net.store(), heartbeatMs: 20 });
    const b = createEventBus({ store: net.store(), heartbeatMs: 20 });
    await settle();
    expect(a.listeners).toBe(0);
    const stopFeed = b.subscribe(() => {}, ["policy", "role"]);
    await settle();
    expect(a.listeners).toBe(0);
    const stop = b.subscribe(() => {});
    expect(b.listeners).toBe(1);
    await settle();
    expect(a.listeners).toBe(1); // announced at once
    stop();
    stopFeed();
    await Bun.sleep(80);
    expect(a.listeners).toBe(0); // by the next heartbeat
    await a.close();
    await b.close();
  });

  test("a replica that says bye counts for nothing; one not heard of for the TTL neither", async () => {
    const net = fakeNetwork();
    const short = createEventBus({ store: net.store(), peerTtlMs: 60 });
    const a = createEventBus({ store: net.store() });
    const b = createEventBus({ store: net.store() });
    b.subscribe(() => {});
    await settle();
    expect(short.listeners).toBe(1);
    expect(a.listeners).toBe(1);
    await Bun.sleep(100);
    expect(short.listeners).toBe(0); // b's heartbeat (10 s) is too slow for this TTL
    const c = createEventBus({ store: net.store() });
    c.subscribe(() => {});
    await settle();
    expect(a.listeners).toBe(2);
    await c.close();
    await settle();
    expect(a.listeners).toBe(1);
    for (const bus of [short, a, b]) await bus.close();
  });

  test("an event too large for one signal goes out as its metadata, marked partial", async () => {
    const net = fakeNetwork();
    const a = createEventBus({ store: net.store() });
    const b = createEventBus({ store: net.store() });
    const got: LiveEvent[] = [];
    b.subscribe((e) => got.push(e));
    a.publish({ type: "session", data: { id: "s1", cwd: "x".repeat(20_000) } });
    a.publish({ type: "token", data: { action: "revoked", ids: Array.from({ length: 400 }, (_, i) => `tok_${i}_abcdefghijkl`) } });
    await settle();
    expect(got).toEqual([
      { type: "session", data: { partial: true, id: "s1" } },
      { type: "token", data: { partial: true, action: "revoked" } },
    ]);
    await a.close();
    await b.close();
  });

  test("without a broadcasting store the bus is local", async () => {
    const bus = createEventBus();
    const got: (string | null)[] = [];
    bus.subscribe((_e, from) => got.push(from));
    bus.publish({ type: "client", data: {} });
    bus.tell("presence", { id: "x" });
    expect(got).toEqual([null]);
    expect(bus.shared).toBe(false);
    expect(bus.listeners).toBe(1);
    await bus.close();
  });
});

function socket(): ApproverSocket & { messages: any[]; closed: number | null } {
  const s = {
    messages: [] as any[],
    closed: null as number | null,
    send(text: string) {
      s.messages.push(JSON.parse(text));
    },
    close(code?: number) {
      s.closed = code ?? 1000;
    },
  };
  return s;
}

function replica(net: ReturnType<typeof fakeNetwork>, options: { heartbeatMs?: number; presenceTtlMs?: number } = {}) {
  const store = net.store();
  const bus: EventBus = createEventBus({ store, heartbeatMs: options.heartbeatMs });
  const hub = createApprovalsHub({ store: store as unknown as Store, bus, log: quiet, now: () => new Date(), ...options });
  return { store, bus, hub };
}

const approval = (id: string, pairing_id: string, status: ApprovalRecord["status"] = "pending"): ApprovalRecord =>
  ({
    id,
    pairing_id,
    client_id: "c1",
    session_id: null,
    status,
    created_at: new Date().toISOString(),
    expires_at: new Date(Date.now() + 60_000).toISOString(),
    decided_at: null,
    envelope: { v: 1, epk: "e", iv: "i", ct: "c", sig: "s" },
    decision: null,
    verification: null,
  }) as unknown as ApprovalRecord;

describe("approvals across replicas", () => {
  test("presence: a socket on one replica makes the pairing online on the others, until it closes", async () => {
    const net = fakeNetwork();
    const a = replica(net);
    const b = replica(net);
    await settle();
    const ws = socket();
    const detach = b.hub.attach("pr1", ws);
    expect(b.hub.online("pr1")).toBe(true);
    await settle();
    expect(a.hub.online("pr1")).toBe(true);
    expect(a.hub.online("pr2")).toBe(false);
    detach();
    await settle();
    expect(a.hub.online("pr1")).toBe(false);
    for (const r of [a, b]) {
      r.hub.close();
      await r.bus.close();
    }
  });

  test("presence: a replica that starts later hears who is online; a replica's presence expires without heartbeats; bye clears it", async () => {
    const net = fakeNetwork();
    const b = replica(net);
    b.hub.attach("pr1", socket());
    await settle();
    const a = replica(net, { presenceTtlMs: 100 });
    await settle(); // a's hello → b tells what is online there
    expect(a.hub.online("pr1")).toBe(true);
    await Bun.sleep(150);
    expect(a.hub.online("pr1")).toBe(false); // b's heartbeat (10 s) is slower than a's TTL here
    const c = replica(net, { heartbeatMs: 20 });
    c.hub.attach("pr3", socket());
    await Bun.sleep(150);
    expect(a.hub.online("pr3")).toBe(true); // kept alive by c's heartbeats
    c.hub.close();
    await c.bus.close();
    await settle();
    expect(a.hub.online("pr3")).toBe(false);
    for (const r of [a, b]) {
      r.hub.close();
      await r.bus.close();
    }
  });

  test("presence: after a resync a replica tells its state again", async () => {
    const net = fakeNetwork();
    const a = replica(net);
    const b = replica(net);
    b.hub.attach("pr1", socket());
    await settle();
    expect(a.hub.online("pr1")).toBe(true);
    // a missed b's messages and was restarted meanwhile: simulate with a fresh replica a2 that b does not know about
    const a2 = replica(net, { presenceTtlMs: 10_000 });
    await settle();
    expect(a2.hub.online("pr1")).toBe(true);
    const sentBefore = net.sent.length;
    b.store.resync();
    await settle();
    const told = net.sent.slice(sentBefore).map((j) => JSON.parse(j).data.m.map((m: any) => m.p));
    expect(told.flat()).toEqual(expect.arrayContaining(["bus.hello", "presence.all"]));
    for (const r of [a, a2, b]) {
      r.hub.close();
      await r.bus.close();
    }
  });

  test("a request created through one replica is pushed to the approver socket on another, envelope re-read from the store; resolved follows", async () => {
    const net = fakeNetwork();
    const a = replica(net);
    const b = replica(net);
    const ws = socket();
    b.hub.attach("pr1", ws);
    const other = socket();
    b.hub.attach("pr2", other);
    await settle();
    const created = approval("apr1", "pr1");
    net.approvals.set(created.id, created);
    a.hub.approvalChanged(created, "requested");
    const decided = { ...created, status: "approved" } as ApprovalRecord;
    net.approvals.set(created.id, decided);
    a.hub.approvalChanged(decided, "decided");
    await settle();
    // the request was re-read after the decision: it is no longer pending, so it is not pushed;
    // the resolution is
    expect(ws.messages).toEqual([{ type: "resolved", id: "apr1", status: "approved" }]);
    const next = approval("apr2", "pr1");
    net.approvals.set(next.id, next);
    a.hub.approvalChanged(next, "requested");
    await settle();
    expect(ws.messages.at(-1)).toEqual({ type: "request", approval: next });
    expect(other.messages).toEqual([]);
    for (const r of [a, b]) {
      r.hub.close();
      await r.bus.close();
    }
  });

  test("a pairing removed through one replica closes its sockets on the others", async () => {
    const net = fakeNetwork();
    const a = replica(net);
    const b = replica(net);
    const ws = socket();
    b.hub.attach("pr1", ws);
    await settle();
    a.hub.pairingChanged({ id: "pr1", status: "removed" } as never, "removed");
    await settle();
    expect(ws.messages).toEqual([{ type: "unpaired", pairing_id: "pr1" }]);
    expect(ws.closed).toBe(4410);
    expect(a.hub.online("pr1")).toBe(false);
    for (const r of [a, b]) {
      r.hub.close();
      await r.bus.close();
    }
  });
});

describe("readiness of a replica", () => {
  test("/readyz is 503 'starting' until the replica receives the other replicas' events, then ready", async () => {
    await using dir = await tempDir("airlock-ready-");
    const store = openSqliteStore(`${dir.path}/gateway.db`);
    let listening!: () => void;
    // a store that shares events, whose LISTEN is not acknowledged yet
    Object.assign(store, {
      broadcast: async () => {},
      subscribe: () => ({ ready: new Promise<void>((resolve) => (listening = resolve)), unsubscribe() {} }),
    });
    const { app, close } = createGatewayApp({ store, analyzer: await shellAnalyzer(), profiles: new Map() as never, version: "test", log: quiet });
    try {
      const before = await app.request("/readyz");
      expect(before.status).toBe(503);
      expect(await before.json()).toMatchObject({ status: "starting", store: "sqlite" });
      listening();
      await settle();
      const after = await app.request("/readyz");
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: "ready", store: "sqlite" });
    } finally {
      close();
      await store.close();
    }
  });
});
