/**
 * The daemon with a gateway (in process, real HTTP on loopback): enrollment, shipping the outbox
 * exactly once, the change feed (policy changes, revocations), outages, stale bundles.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { enrollClient } from "../../src/daemon/enroll";
import { openDaemonDb } from "../../src/daemon/db";
import { createGatewayApi, type DaemonGatewayApi } from "../../src/daemon/gateway-api";
import { eventually, httpGateway, startTestDaemon, type HttpGateway, type TestDaemon } from "./_harness";

async function enrolled(options: Parameters<typeof startTestDaemon>[0] = {}): Promise<{ gw: HttpGateway; d: TestDaemon; clientId: string; [Symbol.asyncDispose](): Promise<void> }> {
  const gw = await httpGateway();
  const d = await startTestDaemon(options);
  const result = await enrollClient({ gatewayUrl: gw.url, token: await gw.enrollmentToken(), home: d.home, name: "test-laptop" });
  await eventually(async () => (await d.call("GET", "/v1/status")).body.gateway.reachable, 3000, "the daemon to reach the gateway");
  return {
    gw,
    d,
    clientId: result.client_id,
    async [Symbol.asyncDispose]() {
      await d[Symbol.asyncDispose]();
      await gw[Symbol.asyncDispose]();
    },
  };
}

async function gatewayDecisionIds(gw: HttpGateway, sessionId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const r: { body: { items: { id: string }[]; next_cursor: string | null } } = await gw.api("GET", `/api/v1/decisions?session_id=${sessionId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    ids.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  return ids.sort();
}

async function pending(d: TestDaemon): Promise<number> {
  return (await d.call("GET", "/v1/status")).body.outbox.pending;
}

describe("enrollment", () => {
  test("a running daemon picks up the enrollment and ships what waited in its outbox, under the same ids", async () => {
    const gw = await httpGateway();
    await using _gw = gw;
    await using d = await startTestDaemon();
    // standalone first: a session and decisions wait in the outbox
    const s = await d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    const ids = [(await d.check(caller, ["terraform", "apply"])).decision_id, (await d.check(caller, ["terraform", "plan"])).decision_id];
    expect(await pending(d)).toBe(3);

    const result = await enrollClient({ gatewayUrl: `${gw.url}/`, token: await gw.enrollmentToken(), home: d.home });
    expect(result).toMatchObject({ gateway_url: gw.url, previous: null });
    const status = await eventually(async () => {
      const st = (await d.call("GET", "/v1/status")).body;
      return st.outbox.pending === 0 && st.gateway.reachable ? st : null;
    }, 3000, "the outbox to drain");
    expect(status.gateway).toMatchObject({ url: gw.url, enrolled: true, client_id: result.client_id, reachable: true, last_error: null });
    expect(status.outbox.shipped_total).toBe(3);

    const session = await gw.api("GET", `/api/v1/sessions/${s.id}`);
    expect(session.body).toMatchObject({ id: s.id, client_id: result.client_id, agent: "claude", role: "default-agent", user: "dev", host: "laptop.local", status: "ready" });
    expect(await gatewayDecisionIds(gw, s.id)).toEqual([...ids].sort());
    const decision = (await gw.api("GET", `/api/v1/decisions/${ids[0]}`)).body;
    expect(decision).toMatchObject({ verdict: "block", policy: "infra-mutation-block", tool: "terraform", source: "shim", client_id: result.client_id });

    // the credential is stored in daemon.db, which only its owner can read
    const db = new Database(d.paths.daemonDb, { readonly: true });
    const row = db.prepare("SELECT client_id, client_token FROM enrollment").get() as { client_id: string; client_token: string };
    db.close();
    expect(row.client_id).toBe(result.client_id);
    expect(row.client_token).toMatch(/^al_c_/);
  });

  test("a used enrollment token is refused", async () => {
    await using gw = await httpGateway();
    await using d = await startTestDaemon();
    const token = await gw.enrollmentToken();
    await enrollClient({ gatewayUrl: gw.url, token, home: d.home });
    await expect(enrollClient({ gatewayUrl: gw.url, token, home: d.home })).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });

  test("session status changes reach the gateway in order", async () => {
    await using e = await enrolled();
    const s = await e.d.session({ pid: 4242 });
    await e.d.call("POST", `/v1/sessions/${s.id}/status`, { token: s.token, status: "running" });
    await e.d.call("POST", `/v1/sessions/${s.id}/status`, { token: s.token, status: "exited", exit_code: 7 });
    const gwSession = await eventually(async () => {
      const r = await e.gw.api("GET", `/api/v1/sessions/${s.id}`);
      return r.body?.status === "exited" ? r.body : null;
    }, 3000, "the session to exit at the gateway");
    expect(gwSession).toMatchObject({ exit_code: 7, pid: 4242 });
  });

  test("checks under a role the gateway does not have are blocked, asking the gateway at most once a second", async () => {
    const asked: string[] = [];
    const counting = (o: Parameters<typeof createGatewayApi>[0]) => {
      const api = createGatewayApi(o);
      return { ...api, bundle: (role: string, etag: string | null) => (asked.push(role), api.bundle(role, etag)) };
    };
    await using e = await enrolled({ config: { default_role: "ghost" }, deps: { gatewayApi: counting } });
    const caller = { kind: "ancestry", agent: "claude", agent_pid: process.pid };
    await Bun.sleep(1000); // past the refreshes at connection
    const before = asked.filter((r) => r === "ghost").length;
    const started = Date.now();
    for (let i = 0; i < 30; i++) {
      const r = await e.d.check(caller, ["ls"]);
      expect(r.verdict).toBe("block");
      expect(r.reason).toBe(`unknown role "ghost" at the gateway ${e.gw.url}`);
    }
    const elapsed = Date.now() - started;
    expect(asked.filter((r) => r === "ghost").length - before).toBeLessThanOrEqual(1 + Math.floor(elapsed / 1000));
  });

  test("a role the gateway does not have is refused at session creation", async () => {
    await using e = await enrolled();
    const r = await e.d.call("POST", "/v1/sessions", { agent: "claude", cwd: "/", role: "ghost" });
    expect(r).toMatchObject({ status: 400, body: { code: "invalid_input", details: [{ path: "body.role" }] } });
  });
});

describe("the change feed", () => {
  test("a policy change through the gateway API reaches a check within 1 s", async () => {
    await using e = await enrolled();
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    expect((await e.d.check(caller, ["terraform", "plan"])).verdict).toBe("allow");
    const policy = (await e.gw.api("GET", "/api/v1/policies/infra-mutation-block")).body;
    // its embedded examples say plan is allowed: drop them along with the change
    const { tests: _examples, ...rest } = policy.document;
    const doc = { ...rest, blocked_commands: [...(policy.document.blocked_commands as string[]), "terraform plan"] };
    const put = await e.gw.api("PUT", "/api/v1/policies/infra-mutation-block", doc);
    expect(put.body.version).toBe(2);
    const changedAt = Date.now();
    const blocked = await eventually(async () => {
      const r = await e.d.check(caller, ["terraform", "plan"]);
      return r.verdict === "block" ? r : null;
    }, 1000, "the new policy");
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(blocked).toMatchObject({ policy: "infra-mutation-block", command: "terraform plan" });
  });

  test("revoking a session through the API blocks its next check within 1 s", async () => {
    await using e = await enrolled();
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    await eventually(async () => (await e.gw.api("GET", `/api/v1/sessions/${s.id}`)).status === 200, 3000, "the session at the gateway");
    expect((await e.gw.api("POST", `/api/v1/sessions/${s.id}/revoke`)).status).toBe(200);
    const revokedAt = Date.now();
    const r = await eventually(async () => {
      const c = await e.d.check(caller, ["ls"]);
      return c.verdict === "block" ? c : null;
    }, 1000, "the revocation");
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(r.reason).toContain("revoked");
    expect((await e.d.call("GET", `/v1/sessions/${s.id}`)).body.status).toBe("revoked");
  });

  test("revoking this client blocks every governed check until it enrolls again", async () => {
    await using e = await enrolled();
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    expect((await e.gw.api("POST", `/api/v1/clients/${e.clientId}/revoke`)).status).toBe(200);
    const r = await eventually(async () => {
      const c = await e.d.check(caller, ["ls"]);
      return c.verdict === "block" ? c : null;
    }, 1000, "the client revocation");
    expect(r.reason).toContain("client credential was revoked");
    expect((await e.d.call("GET", "/v1/status")).body.gateway).toMatchObject({ enrolled: false, client_id: e.clientId });

    await enrollClient({ gatewayUrl: e.gw.url, token: await e.gw.enrollmentToken(), home: e.d.home });
    await eventually(async () => (await e.d.call("GET", "/v1/status")).body.gateway.enrolled, 3000, "the new enrollment");
    const ok = await eventually(async () => {
      const c = await e.d.check(caller, ["ls"]);
      return c.verdict === "allow" ? c : null;
    }, 3000, "checks to pass again");
    expect(ok.session_id).toBe(s.id);
  });
});

describe("outages", () => {
  test("gateway down: decisions continue from the cached bundle; back up: each reaches it exactly once", async () => {
    await using e = await enrolled();
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    const ids: string[] = [(await e.d.check(caller, ["terraform", "plan"])).decision_id];
    await eventually(async () => (await pending(e.d)) === 0, 3000, "the first shipment");

    await e.gw.down();
    for (let i = 0; i < 30; i++) {
      const r = await e.d.check(caller, i % 2 ? ["terraform", "apply"] : ["terraform", "plan"]);
      expect(r.verdict).toBe(i % 2 ? "block" : "allow");
      ids.push(r.decision_id);
    }
    const down = await eventually(async () => {
      const st = (await e.d.call("GET", "/v1/status")).body;
      return !st.gateway.reachable && st.gateway.last_error ? st : null;
    }, 3000, "the outage to be noticed");
    expect(down.gateway.last_error).toContain("cannot reach the gateway");
    expect(down.outbox.pending).toBe(30);

    e.gw.up();
    await eventually(async () => (await pending(e.d)) === 0, 5000, "the outbox to drain after the outage");
    expect(await gatewayDecisionIds(e.gw, s.id)).toEqual([...ids].sort());
    expect((await e.d.call("GET", "/v1/status")).body.gateway.reachable).toBe(true);
  });

  test("a bundle older than bundle_max_age_seconds while the gateway is unreachable fails closed", async () => {
    await using e = await enrolled({ config: { bundle_max_age_seconds: 60 } });
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    expect((await e.d.check(caller, ["terraform", "plan"])).verdict).toBe("allow");
    await e.gw.down();
    await eventually(async () => !(await e.d.call("GET", "/v1/status")).body.gateway.reachable, 3000, "the outage to be noticed");
    e.d.clock.advance(30_000);
    expect((await e.d.check(caller, ["terraform", "plan"])).verdict).toBe("allow"); // 30 s old: still trusted
    e.d.clock.advance(31_000);
    const stale = await e.d.check(caller, ["terraform", "plan"]);
    expect(stale.verdict).toBe("block");
    expect(stale.reason).toMatch(/policy bundle of role default-agent is stale: last confirmed by the gateway 6\d s ago \(max age 60 s\) and the gateway is unreachable/);
    expect((await e.d.call("GET", "/v1/status")).body.bundles.find((b: any) => b.role === "default-agent")).toMatchObject({ stale: true });

    e.gw.up();
    const back = await eventually(async () => {
      const c = await e.d.check(caller, ["terraform", "plan"]);
      return c.verdict === "allow" ? c : null;
    }, 3000, "a fresh bundle");
    expect(back.role).toBe("default-agent");
  });

  test("a row the gateway refuses for good moves to outbox_rejected; every other row still ships", async () => {
    await using e = await enrolled();
    const s = await e.d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    await eventually(async () => (await pending(e.d)) === 0, 3000, "the session registration");
    await e.gw.down();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await e.d.check(caller, ["ls", String(i)])).decision_id);
    // a decision naming another client's session: the gateway refuses the batch that holds it
    const foreign = Bun.randomUUIDv7();
    e.d.running.daemon.db.enqueue("decision", {
      id: foreign, session_id: e.gw.gw.sessionId, role: null, agent: null, tool: "ls", command: "ls", normalized: ["ls"], verdict: "allow",
      policy: null, rule: null, pattern: null, reason: "x", source: "shim", cwd: "/", decided_at: new Date().toISOString(),
    });
    for (let i = 4; i < 8; i++) ids.push((await e.d.check(caller, ["ls", String(i)])).decision_id);
    e.gw.up();
    await eventually(async () => (await pending(e.d)) === 0, 5000, "the outbox to drain");
    expect(await gatewayDecisionIds(e.gw, s.id)).toEqual([...ids].sort());
    const db = new Database(e.d.paths.daemonDb, { readonly: true });
    const rejected = db.prepare("SELECT kind, payload, error FROM outbox_rejected").all() as { kind: string; payload: string; error: string }[];
    db.close();
    expect(rejected).toHaveLength(1);
    expect(JSON.parse(rejected[0]!.payload).id).toBe(foreign);
    expect(rejected[0]!.error).toContain("not a session of this client");
  });
});

describe("a gateway that does not answer", () => {
  test("a check that must fetch its bundle waits at most inlineFetchMs, then blocks", async () => {
    const hang = (signal?: AbortSignal) =>
      new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(new Error("aborted"))));
    const silent: DaemonGatewayApi = {
      baseUrl: "http://192.0.2.1:8787",
      bundle: () => hang(),
      changes: (_after, _wait, signal) => hang(signal),
      createSession: () => hang(),
      sessionStatus: () => hang(),
      postDecisions: () => hang(),
      createApproval: () => hang(),
      approval: (_id, _wait, signal) => hang(signal),
      reportVerification: () => hang(),
    };
    await using d = await startTestDaemon({ deps: { gatewayApi: () => silent, timing: { enrollPollMs: 50, inlineFetchMs: 300, reapMs: 100, retryBaseMs: 50, retryMaxMs: 400, feedWaitSeconds: 2, requestTimeoutMs: 2000 } } });
    const other = openDaemonDb(d.paths.daemonDb); // another process's connection, like 'airlock client enroll'
    other.setEnrollment({ gateway_url: silent.baseUrl, client_id: "cli_x", client_token: "al_c_x", name: "x" });
    other.close();
    await eventually(async () => (await d.call("GET", "/v1/status")).body.gateway.enrolled, 2000, "the enrollment");
    const started = Date.now();
    const r = await d.check({ kind: "ancestry", agent: "claude", agent_pid: process.pid }, ["ls"]);
    const took = Date.now() - started;
    expect(r.verdict).toBe("block");
    expect(r.reason).toContain("no policy bundle for role default-agent is cached");
    expect(r.reason).toContain("did not answer within 300 ms");
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
  });
});
