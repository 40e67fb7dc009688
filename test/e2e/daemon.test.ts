/**
 * The workstation daemon from the compiled binary, against a compiled gateway: enrollment, checks
 * over the socket, policy changes and revocations within a second, a killed gateway (decisions
 * continue, then arrive exactly once), a daemon killed with -9 (nothing lost), stale sockets,
 * one daemon per socket, private file modes, and `airlock daemon start|stop|status`.
 * Each process gets an isolated HOME and AIRLOCK_HOME.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../support/binary";
import { api, disposeWorlds, gatewayDecisionIds, onDispose, sock, startDaemon, startGateway, waitFor, world, type World } from "../support/world";

afterAll(disposeWorlds);

async function status(w: World): Promise<any> {
  return (await sock(w, "GET", "/v1/status")).body;
}

describe("daemon and gateway, compiled", () => {
  test("enroll, check, policy change, revocation, gateway killed, daemon killed -9, stale socket, second daemon", async () => {
    const w = await world();
    await startGateway(w, "127.0.0.1:0");
    const port = new URL(w.gatewayUrl).port;

    // --- enroll with a one-time token read from a 0600 file
    const enr = await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "e2e-laptop" });
    expect(enr.status).toBe(201);
    const tokenFile = join(w.dir, "enroll.token");
    writeFileSync(tokenFile, `${enr.body.token}\n`, { mode: 0o600 });
    const enrolled = await run(["client", "enroll", "--gateway", w.gatewayUrl, "--token-file", tokenFile, "--json"], { env: w.env });
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    const clientId = JSON.parse(enrolled.stdout).client_id as string;
    expect(clientId).toMatch(/^cli_/);
    const again = await run(["client", "enroll", "--gateway", w.gatewayUrl, "--token-file", tokenFile], { env: w.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already used");

    // --- the daemon; files are private
    await startDaemon(w);
    expect(statSync(w.socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.home, "daemon.db")).mode & 0o777).toBe(0o600);
    await waitFor("the gateway to be reachable", async () => (await status(w)).gateway.reachable);
    const clientStatus = await run(["client", "status", "--json"], { env: w.env });
    expect(clientStatus.code).toBe(0);
    expect(JSON.parse(clientStatus.stdout)).toMatchObject({ enrolled: true, client_id: clientId, gateway_url: w.gatewayUrl, daemon: { running: true, reachable: true } });

    // --- a session over the socket: apply blocked, plan allowed
    const created = await sock(w, "POST", "/v1/sessions", { agent: "claude", cwd: w.dir, user: "dev" });
    expect(created.status).toBe(201);
    const sid = created.body.session.id as string;
    const caller = { kind: "session", session_id: sid, token: created.body.token };
    const check = async (argv: string[]) => (await sock(w, "POST", "/v1/check", { caller, argv, cwd: w.dir })).body;
    const ids: string[] = [];
    const apply = await check(["terraform", "apply"]);
    expect(apply).toMatchObject({ verdict: "block", policy: "infra-mutation-block", session_id: sid, role: "default-agent" });
    const plan = await check(["terraform", "plan"]);
    expect(plan.verdict).toBe("allow");
    ids.push(apply.decision_id, plan.decision_id);
    await waitFor("the decisions at the gateway", async () => (await gatewayDecisionIds(w, sid)).length === 2);

    // --- a policy change through the API reaches a check within 1 s
    const policy = (await api(w, "GET", "/api/v1/policies/infra-mutation-block")).body;
    const { tests: _examples, ...doc } = policy.document;
    expect((await api(w, "PUT", "/api/v1/policies/infra-mutation-block", { ...doc, blocked_commands: [...doc.blocked_commands, "terraform fmt"] })).status).toBe(200);
    let changedAt = Date.now();
    const fmt = await waitFor("the policy change", async () => {
      const r = await check(["terraform", "fmt"]);
      ids.push(r.decision_id);
      return r.verdict === "block" ? r : null;
    }, 1000);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(fmt.policy).toBe("infra-mutation-block");

    // --- the gateway killed: decisions continue from the cache
    await waitFor("the outbox to drain", async () => (await status(w)).outbox.pending === 0);
    await w.gateway!.stop("SIGKILL");
    await waitFor("the outage to be noticed", async () => !(await status(w)).gateway.reachable);
    for (let i = 0; i < 20; i++) {
      const r = await check(i % 2 ? ["terraform", "apply"] : ["terraform", "plan"]);
      expect(r.verdict).toBe(i % 2 ? "block" : "allow");
      ids.push(r.decision_id);
    }
    expect((await status(w)).outbox.pending).toBe(20);

    // --- the daemon killed with -9 while they wait: restarted, nothing lost; its stale socket is replaced
    await w.daemon!.stop("SIGKILL");
    expect(existsSync(w.socket)).toBe(true);
    await startDaemon(w);
    expect((await status(w)).outbox.pending).toBe(20);
    // decisions continue from the bundle cached in daemon.db
    const cached = await check(["terraform", "apply"]);
    expect(cached.verdict).toBe("block");
    ids.push(cached.decision_id);

    // --- a second daemon on the same socket is refused
    const second = await run(["daemon", "run"], { env: w.env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`a daemon is already running (pid ${w.daemon!.proc.pid})`);
    expect((await status(w)).pid).toBe(w.daemon!.proc.pid);

    // --- the gateway restarted: every decision reaches it exactly once
    await startGateway(w, `127.0.0.1:${port}`);
    await waitFor("the outbox to drain", async () => (await status(w)).outbox.pending === 0, 15_000);
    const shipped = await gatewayDecisionIds(w, sid);
    expect(shipped.length).toBe(ids.length);
    expect([...shipped].sort()).toEqual([...ids].sort());

    // --- killed with -9 in the middle of a burst while shipping: every answered decision arrives once
    const answered: string[] = [];
    let killed: Promise<unknown> | null = null;
    await Promise.allSettled(
      Array.from({ length: 400 }, async (_, i) => {
        const r = await check(["kubectl", "get", "pods", String(i)]);
        if (r?.decision_id) answered.push(r.decision_id);
        if (answered.length === 150) killed = w.daemon!.stop("SIGKILL");
      }),
    );
    await killed;
    expect(answered.length).toBeGreaterThanOrEqual(150);
    expect(answered.length).toBeLessThan(400);
    await startDaemon(w);
    await waitFor("the outbox to drain after the restart", async () => (await status(w)).outbox.pending === 0, 15_000);
    const afterBurst = new Set(await gatewayDecisionIds(w, sid));
    expect(answered.filter((id) => !afterBurst.has(id))).toEqual([]);
    expect(ids.filter((id) => !afterBurst.has(id))).toEqual([]);

    // --- revoking the session through the API blocks its next check within 1 s
    expect((await api(w, "POST", `/api/v1/sessions/${sid}/revoke`)).status).toBe(200);
    changedAt = Date.now();
    const revoked = await waitFor("the revocation", async () => {
      const r = await check(["ls"]);
      return r.verdict === "block" ? r : null;
    }, 1000);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(revoked.reason).toContain("revoked");

    // --- a clean stop removes the socket and the pidfile
    expect(await w.daemon!.stop("SIGTERM")).toBe(0);
    expect(existsSync(w.socket)).toBe(false);
    expect(existsSync(join(w.home, "run", "daemon.pid"))).toBe(false);
    const db = new Database(join(w.home, "daemon.db"), { readonly: true });
    expect((db.prepare("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    db.close();
  }, 90_000);
});

describe("airlock daemon start|stop|status", () => {
  test("start detaches and waits for the socket; a second start reports it; status; stop", async () => {
    const w = await world();
    const down = await run(["daemon", "status"], { env: w.env });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("not running");
    const downJson = await run(["daemon", "status", "--json"], { env: w.env });
    expect(JSON.parse(downJson.stdout)).toMatchObject({ running: false, socket: w.socket });

    const started = await run(["daemon", "start"], { env: w.env });
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const pid = Number(started.stdout.match(/started \(pid (\d+)/)?.[1]);
    expect(pid).toBeGreaterThan(0);
    onDispose(async () => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    });
    const second = await run(["daemon", "start"], { env: w.env });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`already running (pid ${pid}`);

    const st = await run(["daemon", "status", "--json"], { env: w.env });
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ pid, socket: w.socket, gateway: { enrolled: false, url: null }, default_role: "default-agent", fail_mode: "closed" });
    const human = await run(["daemon", "status"], { env: w.env });
    expect(human.stdout).toMatch(/^daemon\s+running \(pid \d+/m);
    expect(human.stdout).toContain("not enrolled");
    const notEnrolled = await run(["client", "status"], { env: w.env });
    expect(notEnrolled.code).toBe(1);
    expect(notEnrolled.stdout).toContain("enroll");

    const log = join(w.home, "logs", "daemon.log");
    expect(existsSync(log)).toBe(true);
    expect(statSync(log).mode & 0o777).toBe(0o600);

    const stopped = await run(["daemon", "stop"], { env: w.env });
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain(`stopped (pid ${pid})`);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(w.socket)).toBe(false);
    const stoppedAgain = await run(["daemon", "stop"], { env: w.env });
    expect(stoppedAgain).toMatchObject({ code: 0, stdout: "airlock daemon is not running\n" });
  }, 60_000);

  test("enroll refuses a token file other users can read, and a missing token", async () => {
    const w = await world();
    mkdirSync(w.home, { recursive: true });
    const file = join(w.dir, "loose.token");
    writeFileSync(file, "al_e_0123456789012345678901234567890123456789012", { mode: 0o644 });
    const loose = await run(["client", "enroll", "--gateway", "http://127.0.0.1:9", "--token-file", file], { env: w.env });
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain("chmod 600");
    const none = await run(["client", "enroll", "--gateway", "http://127.0.0.1:9"], { env: w.env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no enrollment token");
  });
});
