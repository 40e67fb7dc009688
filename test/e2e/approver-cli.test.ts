/**
 * The approvals CLI from the compiled binary, against a compiled gateway (and daemon), each with an
 * isolated HOME and AIRLOCK_HOME:
 * - sign-in by device code, approved through the admin API; the credential is 0600;
 * - the headless approver against the gateway alone: the test plays the daemon (its own keys, an
 *   enrolled client), `airlock approver --code` claims, both fingerprints agree, a sealed request is
 *   approved or denied with a signature that verifies (a forged request is refused: see
 *   test/cli/approver.test.ts, where the gateway is a fake that lies);
 * - the whole loop: `airlock pair` and `airlock approver --code` in parallel print the same
 *   fingerprint, `status --json` shows the pairing and the approver online, a `helm upgrade` through
 *   the shim waits for and gets the approver's signed approval, then `unpair` ends it everywhere.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { actionHash, fingerprint, generateKeyPairs, publicKeys, sealAction, verifyDecision } from "../../src/approvals/index";
import type { ApprovalAction } from "../../src/protocol/approvals";
import { run } from "../support/binary";
import { fakeTools } from "../support/fakes";
import { api, disposeWorlds, enroll, sock, spawnAirlock, startDaemon, startGateway, waitFor, world, type Proc, type World } from "../support/world";

afterAll(disposeWorlds);

/** `airlock sign-in` in the background, its user code approved by the admin. */
async function signIn(w: World): Promise<{ user: string }> {
  const p = spawnAirlock(w.bin, ["sign-in", "--gateway", w.gatewayUrl, "--no-browser", "--json"], w.env);
  const code = await waitFor("the sign-in code", async () => p.output().match(/enter the code\s+([A-Z0-9]{4}-[A-Z0-9]{4})/)?.[1], 10_000);
  const approved = await api(w, "POST", "/api/v1/auth/device/approve", { user_code: code, approve: true });
  expect(approved.status).toBe(200);
  expect(await exited(p)).toBe(0);
  const result = JSON.parse(p.output().slice(p.output().indexOf("{")));
  expect(result).toMatchObject({ signed_in: true, gateway_url: w.gatewayUrl });
  return { user: result.user };
}

async function exited(p: Proc, ms = 20_000): Promise<number> {
  const code = await Promise.race([p.proc.exited, Bun.sleep(ms).then(() => null)]);
  if (code === null) throw new Error(`still running after ${ms} ms: ${p.output()}`);
  return code;
}

function jsonEvents(text: string): any[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{\"at\""))
    .map((l) => JSON.parse(l));
}

describe("sign-in", () => {
  test("device code approved in the admin API: credentials.json (0600) holds the user token; sign-out removes it", async () => {
    const w = await world("airlock-e2e-signin-");
    await startGateway(w);
    const { user } = await signIn(w);
    expect(user).toMatch(/^user:/);
    const file = join(w.home, "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ gateway_url: w.gatewayUrl, user });

    const status = JSON.parse((await run(["status", "--json"], { env: w.env })).stdout);
    expect(status.signed_in).toMatchObject({ user, gateway_url: w.gatewayUrl });

    const token = JSON.parse(readFileSync(file, "utf8")).token as string;
    const whoami = () => fetch(`${w.gatewayUrl}/api/v1/pairings`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await whoami()).toBe(200);
    const out = await run(["sign-out"], { env: w.env });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`signed out (${user}`);
    expect(() => statSync(file)).toThrow();
    // given back, not only forgotten: the gateway refuses the token now
    expect(await whoami()).toBe(401);
  }, 30_000);

  test("a denied code ends the sign-in with an error, nothing stored", async () => {
    const w = await world("airlock-e2e-signin-deny-");
    await startGateway(w);
    const p = spawnAirlock(w.bin, ["sign-in", "--gateway", w.gatewayUrl, "--no-browser"], w.env);
    const code = await waitFor("the sign-in code", async () => p.output().match(/enter the code\s+([A-Z0-9]{4}-[A-Z0-9]{4})/)?.[1]);
    expect((await api(w, "POST", "/api/v1/auth/device/approve", { user_code: code, approve: false })).status).toBe(200);
    expect(await exited(p)).toBe(1);
    expect(p.output()).toContain("the sign-in was denied");
    expect(() => statSync(join(w.home, "credentials.json"))).toThrow();
  }, 30_000);
});

describe("the headless approver against the gateway (the test plays the daemon)", () => {
  test("claims the code, shows the same fingerprint, approves and denies with signatures that verify, exits when unpaired", async () => {
    const w = await world("airlock-e2e-approver-");
    await startGateway(w);
    await signIn(w);
    const creds = JSON.parse(readFileSync(join(w.home, "credentials.json"), "utf8"));
    const asUser = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${w.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${creds.token}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: await res.json() };
    };
    // an enrolled client with our own daemon keys
    const enr = await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "fake-daemon" });
    const enrolled = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, {
      method: "POST",
      headers: { authorization: `Bearer ${enr.body.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "fake-daemon", hostname: "fake.local", user: "dev", version: "test" }),
    }).then((r) => r.json() as Promise<{ client: { id: string }; token: string }>);
    const daemonKeys = await generateKeyPairs(false);
    const daemonPublic = await publicKeys(daemonKeys);
    const created = await asUser("POST", "/api/v1/pairings", { client_id: enrolled.client.id, daemon: daemonPublic, label: "fake-daemon" });
    expect(created.status).toBe(201);

    const keyFile = join(w.dir, "approver-keys.json");
    const approver = spawnAirlock(w.bin, ["approver", "--gateway", w.gatewayUrl, "--code", created.body.code.toLowerCase(), "--keys", keyFile, "--auto", "approve", "--json"], w.env);
    const paired = await waitFor("the approver to pair and connect", async () => jsonEvents(approver.output()).find((e) => e.event === "ready") && jsonEvents(approver.output()));
    const fpApprover = paired.find((e: { event: string }) => e.event === "paired").fingerprint;
    const pairing = (await asUser("GET", `/api/v1/pairings/${created.body.pairing.id}`)).body;
    expect(pairing).toMatchObject({ status: "paired", approver_online: true });
    expect(fpApprover).toBe(await fingerprint(daemonPublic, pairing.approver));
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(keyFile, "utf8"))).toMatchObject({ pairing_id: pairing.id, daemon: daemonPublic, approver: pairing.approver, fingerprint: fpApprover });

    const submit = async (id: string, over: Partial<ApprovalAction> = {}) => {
      const expires_at = new Date(Date.now() + 60_000).toISOString();
      const action: ApprovalAction = {
        v: 1, request_id: id, command: "helm upgrade web ./chart", cwd: "/w", agent: "claude", session_id: null, role: "default-agent", tool: "helm",
        policy: "helm-guard", rule: "rules[1]", reason: "changes what runs in the cluster", host: "fake.local", requested_at: new Date().toISOString(), expires_at, ...over,
      };
      const envelope = await sealAction({ id, pairing_id: pairing.id, expires_at, action, daemonSign: daemonKeys.sign.privateKey, approverBoxKey: pairing.approver.box_key });
      const res = await fetch(`${w.gatewayUrl}/api/v1/approvals`, {
        method: "POST",
        headers: { authorization: `Bearer ${enrolled.token}`, "content-type": "application/json" },
        body: JSON.stringify({ id, pairing_id: pairing.id, session_id: null, expires_at, envelope }),
      });
      expect({ status: res.status, body: res.status === 201 ? null : await res.text() }).toEqual({ status: 201, body: null });
      return action;
    };
    const decided = (id: string) => waitFor(`a decision on ${id}`, async () => {
      const r = await api(w, "GET", `/api/v1/approvals/${id}`);
      return r.body.status !== "pending" && r.body;
    });

    // a real one is approved; the daemon's verifier accepts the signature for that action
    const action = await submit("apr-real-1");
    const record = await decided("apr-real-1");
    expect(record.status).toBe("approved");
    const verdict = await verifyDecision(record.decision, { request_id: "apr-real-1", action_hash: await actionHash(action), approverSignKey: pairing.approver.sign_key, now: new Date(), seen: () => false });
    expect(verdict).toMatchObject({ ok: true, decision: "approve" });
    const shown = jsonEvents(approver.output()).find((e) => e.event === "request" && e.id === "apr-real-1");
    expect(shown.action).toMatchObject({ command: "helm upgrade web ./chart", cwd: "/w", agent: "claude", role: "default-agent", rule: "rules[1]" });
    await approver.stop("SIGTERM");
    expect(approver.proc.exitCode).toBe(0);

    // later runs load the key file: --auto deny --once answers one request and exits
    const denier = spawnAirlock(w.bin, ["approver", "--keys", keyFile, "--auto", "deny", "--once"], w.env);
    await waitFor("the approver to connect", async () => denier.output().includes("connected to"));
    const denied = await submit("apr-real-2", { command: "helm rollback web 3" });
    expect(await exited(denier)).toBe(0);
    expect(denier.output()).toContain("command   helm rollback web 3");
    expect(denier.output()).toContain("DENIED apr-real-2");
    const r2 = await decided("apr-real-2");
    expect(r2.status).toBe("denied");
    expect(await verifyDecision(r2.decision, { request_id: "apr-real-2", action_hash: await actionHash(denied), approverSignKey: pairing.approver.sign_key, now: new Date(), seen: () => false })).toMatchObject({ ok: true, decision: "deny" });

    // unpaired at the gateway: a listening approver is told and exits cleanly
    const listener = spawnAirlock(w.bin, ["approver", "--keys", keyFile, "--auto", "approve"], w.env);
    await waitFor("the approver to connect", async () => listener.output().includes("connected to"));
    expect((await asUser("DELETE", `/api/v1/pairings/${pairing.id}`)).status).toBe(200);
    expect(await exited(listener)).toBe(0);
    expect(listener.output()).toContain("no longer paired");
  }, 60_000);
});

describe("pair, approve through the shim, unpair (gateway + daemon)", () => {
  test("the same fingerprint on both ends, status shows it, a helm upgrade runs after the headless approval", async () => {
    const w = await world("airlock-e2e-pair-");
    await startGateway(w);
    await enroll(w);
    await startDaemon(w);
    await signIn(w);

    const pair = spawnAirlock(w.bin, ["pair"], w.env);
    const code = await waitFor("the pairing code", async () => pair.output().match(/--code ([A-Z0-9]{6})/)?.[1]);
    expect(pair.output()).toContain(`${w.gatewayUrl}/approver`);
    const approver = spawnAirlock(w.bin, ["approver", "--gateway", w.gatewayUrl, "--code", code, "--auto", "approve", "--once"], w.env);
    expect(await exited(pair)).toBe(0);
    const fpTerminal = pair.output().match(/fingerprint: (\S+)/)?.[1];
    const fpApprover = await waitFor("the approver's fingerprint", async () => approver.output().match(/fingerprint: (\S+)/)?.[1]);
    expect(fpTerminal).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}/);
    expect(fpApprover).toBe(fpTerminal!);
    expect(pair.output()).toContain("compare with the approver's screen");

    await waitFor("the approver online", async () => JSON.parse((await run(["status", "--json"], { env: w.env })).stdout).pairing?.approver_online);
    const status = JSON.parse((await run(["status", "--json"], { env: w.env })).stdout);
    expect(status).toMatchObject({ daemon: { reachable: true }, pairing: { fingerprint: fpTerminal, status: "paired", approver_online: true } });
    expect((await sock(w, "GET", "/v1/pairing")).body).toMatchObject({ fingerprint: fpTerminal });
    const again = await run(["pair"], { env: w.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already paired");

    // a helm upgrade in a governed session needs approval; the approver approves it; the real helm runs
    const tools = await fakeTools(w.dir, w.bin, ["helm"]);
    const session = await sock(w, "POST", "/v1/sessions", { agent: "claude", cwd: w.dir, user: "e2e" });
    expect(session.status).toBe(201);
    const governed = { ...w.env, PATH: `${tools.shimBin}:${tools.realBin}:/usr/bin:/bin`, AIRLOCK_SESSION_ID: session.body.session.id, AIRLOCK_SESSION_TOKEN: session.body.token, AIRLOCK_KNOWN_AGENTS: "" };
    const shim = Bun.spawn([join(tools.shimBin, "helm"), "upgrade", "web", "./chart"], { env: governed, stdout: "pipe", stderr: "pipe", cwd: w.dir });
    const [stdout, stderr, shimCode] = await Promise.all([new Response(shim.stdout).text(), new Response(shim.stderr).text(), shim.exited]);
    expect(stderr).toContain("waiting for approval");
    expect(shimCode).toBe(0);
    expect(stdout).toContain("fake helm ran");
    expect((await tools.record("helm"))?.argv).toEqual(["upgrade", "web", "./chart"]);
    expect(await exited(approver)).toBe(0);
    expect(approver.output()).toContain("command   helm upgrade web ./chart");
    expect(approver.output()).toMatch(/APPROVED \S+/);

    // unpair: both ends forget it
    const un = await run(["unpair", "--json"], { env: w.env });
    expect(un.code).toBe(0);
    expect(JSON.parse(un.stdout)).toMatchObject({ unpaired: true, daemon: "removed", gateway: "removed" });
    expect((await sock(w, "GET", "/v1/pairing")).status).toBe(404);
    expect(JSON.parse((await run(["status", "--json"], { env: w.env })).stdout).pairing).toBeNull();
    const nothing = await run(["unpair"], { env: w.env });
    expect(nothing.stdout).toBe("not paired\n");
  }, 90_000);
});

describe("--no-wait (what the Claude Code plugin runs)", () => {
  test("sign-in and pair start, return at once, and finish on the next run", async () => {
    const w = await world("airlock-e2e-nowait-");
    await startGateway(w);
    await enroll(w);
    await startDaemon(w);

    const first = await run(["sign-in", "--gateway", w.gatewayUrl, "--no-browser", "--no-wait"], { env: w.env });
    expect(first.code).toBe(0);
    const userCode = first.stdout.match(/enter the code\s+([A-Z0-9]{4}-[A-Z0-9]{4})/)?.[1];
    expect(first.stdout).toContain("run 'airlock sign-in --no-wait' again");
    const pending = await run(["sign-in", "--gateway", w.gatewayUrl, "--no-browser", "--no-wait"], { env: w.env });
    expect(pending.stdout).toContain(userCode!);
    expect(pending.stdout).toContain("not approved yet");
    expect((await api(w, "POST", "/api/v1/auth/device/approve", { user_code: userCode, approve: true })).status).toBe(200);
    await Bun.sleep(5_100); // the device flow's poll interval
    const done = await run(["sign-in", "--gateway", w.gatewayUrl, "--no-browser", "--no-wait"], { env: w.env });
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("signed in as user:");

    const started = await run(["pair", "--no-wait"], { env: w.env });
    expect(started.code).toBe(0);
    const code = started.stdout.match(/--code ([A-Z0-9]{6})/)?.[1];
    expect(code).toBeDefined();
    const approver = spawnAirlock(w.bin, ["approver", "--gateway", w.gatewayUrl, "--code", code!, "--auto", "approve"], w.env);
    const fp = await waitFor("the approver's fingerprint", async () => approver.output().match(/fingerprint: (\S+)/)?.[1]);
    const finished = await run(["pair", "--no-wait"], { env: w.env });
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain(`fingerprint: ${fp}`);
    expect((await sock(w, "GET", "/v1/pairing")).body).toMatchObject({ fingerprint: fp });

    const out = await run(["sign-out", "--json"], { env: w.env });
    expect(JSON.parse(out.stdout)).toMatchObject({ signed_out: true, was_signed_in: true, unpaired: { daemon: "removed", gateway: "removed" } });
    expect(await exited(approver)).toBe(0);
    expect(approver.output()).toContain("no longer paired");
  }, 60_000);
});
