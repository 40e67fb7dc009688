/**
 * The daemon's half of approvals over its real socket, with an in-process gateway for bundles and
 * the outbox and an in-memory approvals relay (test/daemon/_relay.ts) with a headless approver:
 * keys and pairing, sealed requests, the verifier (every failure blocks, whatever the fail mode),
 * availability failures under both fail modes, single use, retries, approval mode and patterns,
 * grants for the shims under an approved shell string, and the guardrail subcommands.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { statSync, writeFileSync } from "node:fs";
import { generateKeyPairs } from "../../src/approvals/index";
import { enrollClient } from "../../src/daemon/enroll";
import { createGatewayApi } from "../../src/daemon/gateway-api";
import { eventually, httpGateway, startTestDaemon, type HttpGateway, type TestDaemon } from "./_harness";
import { FakeRelay, TestApprover } from "./_relay";

const HELM = ["helm", "upgrade", "web", "./chart"];

interface Setup {
  gw: HttpGateway;
  d: TestDaemon;
  relay: FakeRelay;
  approver: TestApprover;
  caller: { kind: "session"; session_id: string; token: string };
  sessionId: string;
  setConfig(config: Record<string, unknown>): void;
  [Symbol.asyncDispose](): Promise<void>;
}

async function setup(options: { config?: Record<string, unknown>; pair?: boolean } = {}): Promise<Setup> {
  const gw = await httpGateway();
  const relay = new FakeRelay();
  const d = await startTestDaemon({ config: options.config ?? {}, deps: { gatewayApi: (o) => ({ ...createGatewayApi(o), ...relay.api }) } });
  await enrollClient({ gatewayUrl: gw.url, token: await gw.enrollmentToken(), home: d.home, name: "laptop" });
  await eventually(async () => (await d.call("GET", "/v1/status")).body.gateway.reachable, 3000, "the daemon to reach the gateway");
  const identity = (await d.call("GET", "/v1/identity")).body;
  const approver = await TestApprover.create(identity.keys);
  if (options.pair !== false) {
    const paired = await d.call("POST", "/v1/pairing", { pairing_id: "pair_test", approver: approver.pub, fingerprint: await approver.fingerprint(), label: "phone" });
    expect(paired.status).toBe(200);
  }
  const s = await d.session();
  return {
    gw,
    d,
    relay,
    approver,
    caller: { kind: "session", session_id: s.id, token: s.token },
    sessionId: s.id,
    setConfig(config) {
      writeFileSync(d.paths.config, JSON.stringify(config));
    },
    async [Symbol.asyncDispose]() {
      await d[Symbol.asyncDispose]();
      await gw[Symbol.asyncDispose]();
    },
  };
}

function outboxDecisions(path: string): { id: string; verdict: string; reason: string; command: string; session_id: string | null }[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT payload FROM outbox WHERE kind = 'decision' ORDER BY seq").all() as { payload: string }[]).map((r) => JSON.parse(r.payload));
  } catch {
    return [];
  } finally {
    db.close();
  }
}

/** decisions shipped to the gateway or still in the outbox, newest last */
async function decisions(t: Setup): Promise<{ id: string; verdict: string; reason: string; command: string }[]> {
  const local = outboxDecisions(t.d.paths.daemonDb);
  const shipped = (await t.gw.api("GET", `/api/v1/decisions?session_id=${t.sessionId}&limit=500`)).body.items as { id: string; verdict: string; reason: string; command: string }[];
  const all = new Map<string, { id: string; verdict: string; reason: string; command: string }>();
  for (const d of [...shipped, ...local]) all.set(d.id, d);
  return [...all.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

const wait = (t: Setup, id: string, timeout_ms = 5000, final = true) => t.d.call("POST", `/v1/approvals/${id}/wait`, { timeout_ms, final });

describe("keys and pairing", () => {
  test("the daemon's keys are created once, kept in daemon.db (0600), and pairing checks the fingerprint", async () => {
    await using t = await setup({ pair: false });
    const a = (await t.d.call("GET", "/v1/identity")).body;
    const b = (await t.d.call("GET", "/v1/identity")).body;
    expect(a).toEqual(b);
    expect(a.keys.sign_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.client_id).toMatch(/^\S+$/);
    expect(statSync(t.d.paths.daemonDb).mode & 0o777).toBe(0o600);

    expect((await t.d.call("GET", "/v1/pairing")).status).toBe(404);
    const other = await TestApprover.create(a.keys);
    const swapped = await t.d.call("POST", "/v1/pairing", { pairing_id: "pair_x", approver: t.approver.pub, fingerprint: await other.fingerprint() });
    expect(swapped.status).toBe(409);
    expect(swapped.body.message).toContain("fingerprint");
    const bad = await t.d.call("POST", "/v1/pairing", { pairing_id: "pair_x", approver: { sign_key: "x" }, fingerprint: "AAAA" });
    expect(bad.status).toBe(400);

    const fp = await t.approver.fingerprint();
    const ok = await t.d.call("POST", "/v1/pairing", { pairing_id: "pair_x", approver: t.approver.pub, fingerprint: fp.toLowerCase() });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ pairing_id: "pair_x", approver: t.approver.pub, fingerprint: fp, label: null });
    expect((await t.d.call("GET", "/v1/pairing")).body).toEqual(ok.body);
    expect((await t.d.call("DELETE", "/v1/pairing")).body).toEqual({ removed: true });
    expect((await t.d.call("DELETE", "/v1/pairing")).status).toBe(404);
  });
});

describe("a policy's require_approval", () => {
  test("is sealed for the paired approver; approved and verified → allowed once, recorded and reported", async () => {
    await using t = await setup();
    const r = await t.d.check(t.caller, HELM, "/work/app");
    expect(r).toMatchObject({ verdict: "require_approval", policy: "infra-mutation-block", session_id: t.sessionId });
    expect(r.approval).toMatchObject({ approver_online: true, reused: false, fingerprint: await t.approver.fingerprint() });
    const record = t.relay.records.get(r.approval.id)!;
    expect(record.expires_at).toBe(r.approval.expires_at);
    expect(JSON.stringify(record)).not.toContain("helm");
    const action = await t.approver.open(record);
    expect(action).toMatchObject({ v: 1, request_id: r.approval.id, command: "helm upgrade web ./chart", cwd: "/work/app", agent: "claude", session_id: t.sessionId, role: "default-agent", tool: "helm", policy: "infra-mutation-block", rule: "rules[0]", reason: r.reason, host: "laptop.local" });

    t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve"));
    const answer = (await wait(t, r.approval.id)).body;
    expect(answer).toMatchObject({ status: "approved", allow: true });
    expect(answer.reason).toContain("signature verified");
    expect(t.relay.reports).toEqual([expect.objectContaining({ id: record.id, ok: true, reason: "approved" })]);
    expect(t.relay.reports[0]!.verify_ms).toBeGreaterThanOrEqual(0);

    // single use: the same approval does not run anything a second time
    const again = (await wait(t, r.approval.id)).body;
    expect(again).toMatchObject({ status: "expired", allow: false });
    expect(again.reason).toContain("already used");

    const all = await decisions(t);
    expect(all.map((d) => d.verdict)).toEqual(["require_approval", "allow"]);
    expect(all[1]!.id).toBe(answer.decision_id);
    expect(all[1]!.reason).toContain(`approved by phone (${await t.approver.fingerprint()}), signature verified (approval ${record.id})`);
  });

  test("denied → blocked, naming the approver", async () => {
    await using t = await setup();
    const r = await t.d.check(t.caller, HELM);
    const record = t.relay.records.get(r.approval.id)!;
    t.relay.decide(record.id, "denied", await t.approver.sign(record, "deny"));
    const answer = (await wait(t, r.approval.id)).body;
    expect(answer).toMatchObject({ status: "denied", allow: false });
    expect(answer.reason).toStartWith("denied by phone (");
    expect(t.relay.reports[0]).toMatchObject({ ok: true, reason: "denied" });
    expect((await decisions(t)).map((d) => d.verdict)).toEqual(["require_approval", "block"]);
  });

  const integrity: [string, (t: Setup, record: any) => Promise<void>, string][] = [
    [
      "a tampered signature",
      async (t, record) => {
        const signed = await t.approver.sign(record, "approve");
        const sig = signed.sig.startsWith("A") ? `B${signed.sig.slice(1)}` : `A${signed.sig.slice(1)}`;
        t.relay.decide(record.id, "approved", { ...signed, sig });
      },
      "invalid signature [bad_signature]",
    ],
    [
      "a signature over a different action",
      async (t, record) => {
        const action = await t.approver.open(record);
        t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve", { action: { ...action, command: "helm list" } }));
      },
      "signature over a different action [action_mismatch]",
    ],
    [
      "an expired decision",
      async (t, record) => t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve", { now: new Date(Date.now() - 20 * 60_000) })),
      "decision expired [expired]",
    ],
    [
      "a decision signed by a key that is not paired",
      async (t, record) => {
        const stranger = await generateKeyPairs(false);
        t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve", { key: stranger.sign.privateKey }));
      },
      "invalid signature [bad_signature]",
    ],
  ];
  for (const [what, tamper, reason] of integrity) {
    test(`${what} → rejected and blocked, even under fail mode open; reported to the gateway`, async () => {
      await using t = await setup({ config: { fail_mode: "open" } });
      const r = await t.d.check(t.caller, HELM);
      await tamper(t, t.relay.records.get(r.approval.id)!);
      const answer = (await wait(t, r.approval.id)).body;
      expect(answer).toMatchObject({ status: "rejected", allow: false });
      expect(answer.reason).toContain(reason);
      expect(t.relay.reports).toEqual([expect.objectContaining({ id: r.approval.id, ok: false })]);
      expect(t.relay.reports[0]!.reason).toStartWith(reason.match(/\[(\w+)\]/)![1]!);
      const all = await decisions(t);
      expect(all.map((d) => d.verdict)).toEqual(["require_approval", "block"]);
      expect(all[1]!.reason).toContain(reason);
    });
  }

  test("a decision replayed onto another request → rejected as replayed", async () => {
    await using t = await setup();
    const first = await t.d.check(t.caller, HELM);
    const a = t.relay.records.get(first.approval.id)!;
    const signedA = await t.approver.sign(a, "approve");
    t.relay.decide(a.id, "approved", signedA);
    expect((await wait(t, a.id)).body.status).toBe("approved");

    const second = await t.d.check(t.caller, HELM);
    expect(second.approval.id).not.toBe(a.id);
    t.relay.decide(second.approval.id, "approved", signedA);
    const answer = (await wait(t, second.approval.id)).body;
    expect(answer).toMatchObject({ status: "rejected", allow: false });
    expect(answer.reason).toContain("decision replayed [replayed]");
  });
});

describe("availability failures: the fail mode decides", () => {
  test("no pairing: blocked (closed), allowed and recorded with the reason (open)", async () => {
    await using t = await setup({ pair: false });
    const closed = await t.d.check(t.caller, HELM);
    expect(closed.verdict).toBe("block");
    expect(closed.reason).toBe("approval required, but no approver is paired with this workstation (run airlock pair) (fail mode closed)");
    expect(closed.approval).toBeUndefined();
    t.setConfig({ fail_mode: "open" });
    const open = await t.d.check(t.caller, HELM);
    expect(open.verdict).toBe("allow");
    expect(open.reason).toContain("fail mode is open");
    expect((await decisions(t)).map((d) => d.verdict)).toEqual(["require_approval", "block", "require_approval", "allow"]);
  });

  test("gateway down when asking: blocked; gateway down while waiting: unavailable", async () => {
    await using t = await setup();
    t.relay.down = true;
    const r = await t.d.check(t.caller, HELM);
    expect(r.verdict).toBe("block");
    expect(r.reason).toContain("the request could not be sent to the gateway");
    t.relay.down = false;
    const asked = await t.d.check(t.caller, HELM);
    expect(asked.verdict).toBe("require_approval");
    t.relay.down = true;
    const answer = (await wait(t, asked.approval.id, 600)).body;
    expect(answer).toMatchObject({ status: "unavailable", allow: false });
    expect(answer.reason).toContain("the gateway did not answer");
    t.setConfig({ fail_mode: "open" });
    expect((await wait(t, asked.approval.id, 300)).body).toMatchObject({ status: "unavailable", allow: true });
  });

  test("no decision in time: a hook's wait says pending, the shim's final wait times out (allowed only under fail mode open)", async () => {
    await using t = await setup();
    const r = await t.d.check(t.caller, HELM);
    const pending = (await wait(t, r.approval.id, 300, false)).body;
    expect(pending).toMatchObject({ status: "pending", allow: false });
    const timedOut = (await wait(t, r.approval.id, 300, true)).body;
    expect(timedOut).toMatchObject({ status: "expired", allow: false });
    expect(timedOut.reason).toContain("timed out");
    t.setConfig({ fail_mode: "open" });
    expect((await wait(t, r.approval.id, 300, true)).body).toMatchObject({ status: "expired", allow: true });
  });

  test("an unknown approval id is a 404", async () => {
    await using t = await setup();
    expect((await wait(t, "nope")).status).toBe(404);
  });
});

describe("retries and single use", () => {
  test("a pending request is reused; once approved, the retry runs it once; the next asks again", async () => {
    await using t = await setup();
    const first = await t.d.check(t.caller, HELM);
    const again = await t.d.check(t.caller, HELM);
    expect(again.approval).toMatchObject({ id: first.approval.id, reused: true });
    expect(t.relay.records.size).toBe(1);
    // another cwd is another action
    const elsewhere = await t.d.check(t.caller, HELM, "/elsewhere");
    expect(elsewhere.approval.id).not.toBe(first.approval.id);

    const record = t.relay.records.get(first.approval.id)!;
    t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve"));
    const retry = await t.d.check(t.caller, HELM);
    expect(retry.verdict).toBe("allow");
    expect(retry.reason).toContain(`approval ${record.id}`);
    expect(t.relay.reports).toEqual([expect.objectContaining({ ok: true, reason: "approved" })]);
    const third = await t.d.check(t.caller, HELM);
    expect(third.verdict).toBe("require_approval");
    expect(third.approval.id).not.toBe(record.id);
  });

  test("an approved shell string lets each command it needed approval for through its shim once", async () => {
    await using t = await setup();
    const r = (await t.d.call("POST", "/v1/check-command", { caller: t.caller, command: "cd app && helm upgrade web ./chart", cwd: "/work", source: "claude" })).body;
    expect(r.verdict).toBe("require_approval");
    const record = t.relay.records.get(r.approval.id)!;
    expect((await t.approver.open(record)).command).toBe("cd app && helm upgrade web ./chart");
    t.relay.decide(record.id, "approved", await t.approver.sign(record, "approve"));
    expect((await wait(t, record.id, 5000, false)).body.status).toBe("approved");
    const shim = await t.d.check(t.caller, HELM, "/work/app");
    expect(shim.verdict).toBe("allow");
    expect(shim.reason).toBe(`approved as part of the shell command of approval ${record.id}`);
    expect((await t.d.check(t.caller, HELM, "/work/app")).verdict).toBe("require_approval");
  });
});

describe("approval mode (airlock auto-off) and patterns", () => {
  test("every command needs approval unless a local pattern matches; blocks stay blocks", async () => {
    await using t = await setup({ config: { auto: false, auto_approve: ["kubectl get *", "Write"] } });
    const ls = await t.d.check(t.caller, ["ls", "-la"]);
    expect(ls.verdict).toBe("require_approval");
    expect(ls.reason).toBe("approval mode is on (airlock auto-off): ls -la matches no local auto-approve pattern");
    const action = await t.approver.open(t.relay.records.get(ls.approval.id)!);
    expect(action).toMatchObject({ command: "ls -la", policy: null, rule: null });

    const get = await t.d.check(t.caller, ["kubectl", "--context", "prod", "get", "pods"]);
    expect(get.verdict).toBe("allow");
    expect(get.reason).toContain('auto-approve pattern "kubectl get"');
    expect((await t.d.check(t.caller, ["terraform", "apply"])).verdict).toBe("block");
    const tool = (cmd: Record<string, unknown>) => t.d.call("POST", "/v1/check-tool", { caller: t.caller, cwd: "/work", ...cmd }).then((r) => r.body);
    expect((await tool({ tool: "Write", path: "src/a.ts" })).verdict).toBe("allow");
    expect((await tool({ tool: "Edit", path: "src/a.ts" })).verdict).toBe("require_approval");
    expect((await tool({ tool: "Read", path: "src/a.ts" })).verdict).toBe("allow");

    t.setConfig({ auto: true });
    expect((await t.d.check(t.caller, ["ls", "-la"])).verdict).toBe("allow");
  });
});

describe("guardrails", () => {
  test("a hook's shell string that runs airlock auto-off, fail-mode, approve, pair... is blocked whatever the role", async () => {
    await using t = await setup();
    const ask = async (command: string) => (await t.d.call("POST", "/v1/check-command", { caller: t.caller, command, cwd: "/work", source: "claude" })).body;
    for (const command of ["airlock auto-off", "bash -c 'airlock fail-mode open'", "env FOO=1 /home/dev/.airlock/bin/airlock approve 'kubectl *'", "airlock pair", "airlock approver --key-file k"]) {
      const r = await ask(command);
      expect({ command, verdict: r.verdict }).toEqual({ command, verdict: "block" });
      expect(r.reason).toContain("an agent may not change its own approval guardrails");
    }
    expect((await ask("airlock status")).verdict).toBe("allow");
    expect((await ask("echo 'airlock auto-off'")).verdict).toBe("allow");
  });
});
