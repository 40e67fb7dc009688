/**
 * Live events across gateway replicas on one PostgreSQL database (docs/deploy.md): the store's
 * LISTEN/NOTIFY signals (reconnect included), then two compiled `airlock serve` replicas: the admin
 * UI's stream on one sees what was done through the other, an approver socket on one gets a request
 * created through the other and its decision wakes a long poll on the other, presence counts
 * sockets on any replica, and the daemons' change feed wakes on another replica's policy change.
 */
import { expect, test } from "bun:test";
import { SQL } from "bun";
import { openEnvelope } from "../../src/approvals/envelope";
import { verifyDecision } from "../../src/approvals/decision";
import { openPostgresStore } from "../../src/store/postgres";
import { STORE_RESYNC, type StoreSignal } from "../../src/store/types";
import { decide, openSocket, pair, sealedRequest, signIn, type Call } from "../gateway/_approvals";
import { describeWithPostgres } from "../support/postgres";
import { apiCall, spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";
import { tempDir } from "../support/tmp";

const ADMIN = "e2e-pg-replicas-admin-0123456789abcdefghijklmnopqrstuvwxyz";

interface Replica extends SpawnedGateway {
  call: Call;
}

async function serve(home: string, databaseUrl: string): Promise<Replica> {
  const gw = await spawnGateway(["serve", "--listen", "127.0.0.1:0"], { home, env: { AIRLOCK_DATABASE_URL: databaseUrl, AIRLOCK_ADMIN_TOKEN: ADMIN, AIRLOCK_LOG: "warn" } });
  return { ...gw, call: (method, path, token, body) => apiCall(gw.url, method, path, token, body) };
}

/** the admin UI's event stream: every event as {event, data} */
async function eventStream(url: string, token: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal: controller.signal });
  expect(res.status).toBe(200);
  const events: { event: string; data: any }[] = [];
  const waiter: { wake: (() => void) | null } = { wake: null };
  void (async () => {
    let buffer = "";
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
          const data = /^data: ?(.*)$/m.exec(block)?.[1] ?? "null";
          events.push({ event, data: JSON.parse(data) });
          waiter.wake?.();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    /** the first event (from the start of the stream) that matches, waiting up to `timeoutMs` */
    async find(match: (e: { event: string; data: any }) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.event))}`);
        await new Promise<void>((resolve) => {
          waiter.wake = resolve;
          setTimeout(resolve, Math.min(left, 200));
        });
      }
    },
    close: () => controller.abort(),
  };
}

/** polls `read` until it returns `want` (presence travels between replicas asynchronously) */
async function eventually<T>(read: () => Promise<T>, want: T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (last !== want && Date.now() < deadline) {
    await Bun.sleep(50);
    last = await read();
  }
  return last;
}

describeWithPostgres("live events across replicas on PostgreSQL", (server) => {
  test("store signals: LISTEN/NOTIFY between two stores, too large refused, a dropped listen connection comes back with a resync", async () => {
    const db = await server.createDatabase();
    const a = await openPostgresStore(db.url);
    const b = await openPostgresStore(db.url);
    const admin = new SQL({ url: db.url, max: 1 });
    try {
      const got: StoreSignal[] = [];
      const sub = b.subscribe!((s) => got.push(s));
      await sub.ready;
      await a.broadcast!({ type: "t", data: { id: "x1", text: "é \u0000 \ud800" } });
      const arrived = async (n: number) => {
        const deadline = Date.now() + 10_000;
        while (got.length < n && Date.now() < deadline) await Bun.sleep(10);
        return got.length;
      };
      expect(await arrived(1)).toBe(1);
      expect(got[0]).toEqual({ type: "t", data: { id: "x1", text: "é \u0000 \ud800" } });

      await expect(a.broadcast!({ type: "t", data: "x".repeat(8_000) })).rejects.toMatchObject({ code: "invalid_input" });

      // the listen connection dies: Bun reconnects it; subscribers hear they may have missed signals
      const killed = (await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`) as { ok: boolean }[];
      expect(killed.length).toBeGreaterThanOrEqual(1);
      expect(await arrived(2)).toBe(2);
      expect(got[1]).toEqual({ type: STORE_RESYNC, data: null });
      await a.broadcast!({ type: "t", data: 2 });
      expect(await arrived(3)).toBe(3);
      expect(got[2]).toEqual({ type: "t", data: 2 });

      // the last subscriber gone, nothing more is delivered
      sub.unsubscribe();
      await Bun.sleep(50);
      await a.broadcast!({ type: "t", data: 3 });
      await Bun.sleep(200);
      expect(got).toHaveLength(3);
    } finally {
      await admin.close();
      await a.close();
      await b.close();
      await db.drop();
    }
  }, 60_000);

  test("two serve replicas: events, approvals, presence and the change feed cross from one to the other", async () => {
    await using home = await tempDir("airlock-e2e-pg-replicas-");
    const db = await server.createDatabase();
    const replicas = await Promise.all([serve(home.path, db.url), serve(home.path, db.url)]);
    const [a, b] = replicas as [Replica, Replica];
    const stream = await eventStream(b.url, ADMIN);
    try {
      // the admin UI on b sees a policy created through a
      const doc = { id: "e2e-replicas", name: "replicas", status: "active", description: "created through a", blocked_commands: ["terraform destroy"], rules: [] };
      expect((await a.call("POST", "/api/v1/policies", ADMIN, doc)).status).toBe(201);
      expect((await stream.find((e) => e.event === "policy" && e.data.data.id === "e2e-replicas")).data.data).toMatchObject({ action: "created", version: 1 });

      // a daemon enrolled through a, its decisions ingested through a, seen live on b
      const enr = await a.call("POST", "/api/v1/clients/enrollment-tokens", ADMIN, { name: "laptop" });
      const enrolled = await a.call("POST", "/api/v1/clients/enroll", enr.body.token, { name: "laptop", hostname: "laptop.local", user: "dev", version: "e2e" });
      expect(enrolled.status).toBe(201);
      const clientId = enrolled.body.client.id as string;
      const clientToken = enrolled.body.token as string;
      const decision = {
        id: "e2e-replica-d1",
        session_id: null,
        role: "default-agent",
        agent: "claude",
        tool: "terraform",
        command: "terraform destroy",
        normalized: ["terraform destroy"],
        verdict: "block",
        policy: "e2e-replicas",
        rule: "blocked_commands[0]",
        pattern: null,
        reason: "blocked",
        source: "shim",
        cwd: "/work",
        decided_at: new Date().toISOString(),
      };
      expect((await a.call("POST", "/api/v1/decisions", clientToken, { decisions: [decision] })).body).toEqual({ accepted: 1, duplicates: 0 });
      const live = await stream.find((e) => e.event === "decision");
      expect(live.data.data.count).toBe(1);
      expect(live.data.data.decisions).toEqual([expect.objectContaining({ id: "e2e-replica-d1", command: "terraform destroy", verdict: "block", client_id: clientId })]);

      // the daemons' change feed long-polled on a wakes on a policy changed through b
      const head = (await a.call("GET", "/api/v1/changes", clientToken)).body.next as number;
      const feedWait = 25;
      const feedStarted = Date.now();
      const feed = a.call("GET", `/api/v1/changes?after=${head}&wait=${feedWait}`, clientToken);
      await Bun.sleep(100);
      expect((await b.call("PUT", "/api/v1/policies/e2e-replicas", ADMIN, { ...doc, description: "changed through b" })).status).toBe(200);
      const changed = await feed;
      expect(Date.now() - feedStarted).toBeLessThan(feedWait * 1000);
      expect(changed.body.events.map((e: { type: string; target: string }) => [e.type, e.target])).toEqual([["policy.updated", "policy:e2e-replicas"]]);

      // sign-in and pairing through a; the approver's socket on b
      const user = await signIn(a.call, ADMIN);
      const p = await pair(a.call, user.token, clientId);
      const socket = await openSocket(`${b.url.replace(/^http/, "ws")}/api/v1/approver/ws`);
      socket.ws.send(JSON.stringify({ type: "auth", token: p.approverToken }));
      expect((await socket.next("ready", 10_000)).pairing).toMatchObject({ id: p.pairing.id, approver_online: true });
      // presence asked through a, the socket on b
      expect(await eventually(async () => (await a.call("GET", `/api/v1/pairings/${p.pairing.id}`, user.token)).body.approver_online, true)).toBe(true);
      expect((await stream.find((e) => e.event === "pairing" && e.data.data.action === "online" && e.data.data.id === p.pairing.id)).data.data.approver_online).toBe(true);

      // a request created through a is pushed to the socket on b, envelope and all
      const req = await sealedRequest(p, "helm upgrade web ./chart --namespace prod");
      const created = await a.call("POST", "/api/v1/approvals", clientToken, req.body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ approval: { id: req.body.id, status: "pending" }, approver_online: true });
      const pushed = await socket.next("request", 10_000);
      expect(pushed.approval).toMatchObject({ id: req.body.id, pairing_id: p.pairing.id, status: "pending", envelope: req.body.envelope });
      const action = await openEnvelope({ ...pushed.approval, envelope: pushed.approval.envelope, approverBox: p.approver.box.privateKey, daemonSignKey: p.pairing.daemon.sign_key });
      expect(action.command).toBe("helm upgrade web ./chart --namespace prod");
      // the admin UI on b saw the request's metadata (never the envelope)
      const requested = await stream.find((e) => e.event === "approval" && e.data.data.id === req.body.id);
      expect(requested.data.data).toMatchObject({ action: "requested", status: "pending" });
      expect(requested.data.data.envelope).toBeUndefined();

      // the daemon long-polls through a; the approver decides through b; the poll returns before its wait is up
      const wait = 25;
      const started = Date.now();
      const waiting = a.call("GET", `/api/v1/approvals/${req.body.id}?wait=${wait}`, clientToken);
      await Bun.sleep(100);
      const signed = await decide(p, { id: req.body.id, expires_at: req.body.expires_at, hash: req.hash }, "approve");
      const decided = await b.call("POST", `/api/v1/approvals/${req.body.id}/decision`, p.approverToken, signed);
      expect([decided.status, decided.body.status]).toEqual([200, "approved"]);
      const polled = await waiting;
      expect(Date.now() - started).toBeLessThan(wait * 1000);
      expect(polled.body).toMatchObject({ status: "approved", decision: signed });
      const verdict = await verifyDecision(polled.body.decision, { request_id: req.body.id, action_hash: req.hash, approverSignKey: p.pairing.approver!.sign_key, now: new Date(), seen: () => false });
      expect(verdict.ok).toBe(true);
      expect(await socket.next("resolved")).toEqual({ type: "resolved", id: req.body.id, status: "approved" });

      // a second request, decided through a while the socket is on b: b tells its socket it is resolved
      const second = await sealedRequest(p, "helm rollback web 3");
      expect((await a.call("POST", "/api/v1/approvals", clientToken, second.body)).status).toBe(201);
      expect((await socket.next("request", 10_000)).approval.id).toBe(second.body.id);
      const denied = await decide(p, { id: second.body.id, expires_at: second.body.expires_at, hash: second.hash }, "deny");
      expect((await a.call("POST", `/api/v1/approvals/${second.body.id}/decision`, p.approverToken, denied)).body.status).toBe("denied");
      expect(await socket.next("resolved", 10_000)).toEqual({ type: "resolved", id: second.body.id, status: "denied" });

      // the socket closes: the pairing is offline when asked through a
      socket.ws.close();
      await socket.closed;
      expect(await eventually(async () => (await a.call("GET", `/api/v1/pairings/${p.pairing.id}`, user.token)).body.approver_online, false)).toBe(false);
      const third = await sealedRequest(p, "helm uninstall web");
      expect((await a.call("POST", "/api/v1/approvals", clientToken, third.body)).body.approver_online).toBe(false);
    } finally {
      stream.close();
      for (const r of replicas) expect(await r.stop()).toBe(0);
      await db.drop();
    }
    for (const r of replicas) expect(r.output()).not.toMatch(/error|failed/i);
  }, 120_000);
});
