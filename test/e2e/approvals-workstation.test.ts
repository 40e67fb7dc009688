/**
 * Approvals end to end, compiled: the gateway and the daemon as processes, the shims from
 * `airlock install`, a headless approver in this test (src/approvals over the gateway API). The
 * daemon talks to the gateway through a relay in this test that forwards everything and, when told,
 * lies about a decision (a tampered signature, a stranger's key, a replay): the workstation must
 * catch what a compromised relay does. Every outcome is checked at the shim (exit 0 with the fake
 * tool run, or 126) and at the gateway (the verifier's result, audited).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { actionHash, fingerprint, generateKeyPairs, openEnvelope, publicKeys, signDecision, type KeyPairs } from "../../src/approvals/index";
import type { ApprovalRecord, PublicKeys, SignedDecision } from "../../src/protocol/approvals";
import { run } from "../support/binary";
import { fakeTools, type FakeTools } from "../support/fakes";
import { api, disposeWorlds, sock, startDaemon, startGateway, waitFor, world, type World } from "../support/world";

let w: World;
let tools: FakeTools;
let relayUrl = "";
let relay: Server<undefined> | null = null;
let relayPort = 0;
/** rewrites what GET /api/v1/approvals/:id answers the daemon */
let lie: ((record: ApprovalRecord) => ApprovalRecord) | null = null;

let approverToken = "";
let approverKeys: KeyPairs;
let approverPub: PublicKeys;
let daemonKeys: PublicKeys;
let pairing: { pairing_id: string; approver: PublicKeys; fingerprint: string; label: string };
const handled = new Set<string>();

function startRelay(port = 0): void {
  relay = Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 60,
    async fetch(req) {
      const url = new URL(req.url);
      const headers: Record<string, string> = {};
      for (const h of ["authorization", "content-type", "accept", "if-none-match"]) {
        const value = req.headers.get(h);
        if (value) headers[h] = value;
      }
      // a lying relay answers at once: it does not hold the daemon's long-poll while it makes up its answer
      const isApprovalGet = req.method === "GET" && /^\/api\/v1\/approvals\/[^/]+$/.test(url.pathname);
      if (lie && isApprovalGet) url.searchParams.set("wait", "0");
      const res = await fetch(`${w.gatewayUrl}${url.pathname}${url.search}`, { method: req.method, headers, ...(req.method === "GET" ? {} : { body: await req.arrayBuffer() }) });
      const body = await res.arrayBuffer();
      const out: Record<string, string> = {};
      for (const h of ["content-type", "etag"]) {
        const value = res.headers.get(h);
        if (value) out[h] = value;
      }
      if (lie && isApprovalGet && res.status === 200) {
        return Response.json(lie(JSON.parse(new TextDecoder().decode(body))));
      }
      return new Response(body, { status: res.status, headers: out });
    },
  });
  relayPort = relay.port!;
  relayUrl = `http://127.0.0.1:${relayPort}`;
}

async function as(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The next request the approver has not looked at yet. */
async function nextRequest(): Promise<ApprovalRecord> {
  return waitFor("an approval request at the approver", async () => {
    const r = await as(approverToken, "GET", "/api/v1/approvals?status=pending");
    const item = (r.body?.items as ApprovalRecord[] | undefined)?.find((a) => !handled.has(a.id));
    if (item) handled.add(item.id);
    return item ?? null;
  });
}

async function sign(record: ApprovalRecord, decision: "approve" | "deny", options: { command?: string; now?: Date; key?: CryptoKey } = {}): Promise<SignedDecision> {
  const action = await openEnvelope({ id: record.id, pairing_id: record.pairing_id, expires_at: record.expires_at, envelope: record.envelope, approverBox: approverKeys.box.privateKey, daemonSignKey: daemonKeys.sign_key });
  return signDecision({
    request_id: record.id,
    action_hash: await actionHash(options.command ? { ...action, command: options.command } : action),
    expires_at: record.expires_at,
    decision,
    approverSign: options.key ?? approverKeys.sign.privateKey,
    ...(options.now ? { now: options.now } : {}),
  });
}

async function post(record: ApprovalRecord, signed: SignedDecision): Promise<void> {
  const r = await as(approverToken, "POST", `/api/v1/approvals/${record.id}/decision`, signed);
  expect(r.status).toBe(200);
}

/** A governed session's shim env, the fake real tools behind the installed shims. */
async function governed(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const created = await sock(w, "POST", "/v1/sessions", { agent: "claude", cwd: w.dir });
  return { ...w.env, PATH: `${join(w.home, "bin")}:${tools.realBin}:/usr/bin:/bin`, AIRLOCK_SESSION_ID: created.body.session.id, AIRLOCK_SESSION_TOKEN: created.body.token, AIRLOCK_APPROVAL_TIMEOUT: "20", ...extra };
}

const helm = async (env: Record<string, string>, args = ["upgrade", "web", "./chart"]) => run(args, { exe: join(w.home, "bin", "helm"), env, cwd: w.dir });

async function verification(id: string): Promise<{ ok: boolean; reason: string; verify_ms: number } | null> {
  return waitFor("the verifier's result at the gateway", async () => (await api(w, "GET", `/api/v1/approvals/${id}`)).body?.verification ?? null);
}

function setConfig(config: Record<string, unknown>): void {
  writeFileSync(join(w.home, "config.json"), JSON.stringify(config), { mode: 0o600 });
}

beforeAll(async () => {
  w = await world("airlock-e2e-approvals-");
  await startGateway(w);
  startRelay();
  tools = await fakeTools(w.dir, w.bin, ["helm", "kubectl"]);
  rmSync(join(w.home, "bin"), { recursive: true, force: true });
  expect((await run(["install"], { env: w.env })).code).toBe(0);
  // enrolled through the relay
  const enr = await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "e2e" });
  const tokenFile = join(w.dir, "enroll.token");
  writeFileSync(tokenFile, `${enr.body.token}\n`, { mode: 0o600 });
  const enrolled = await run(["client", "enroll", "--gateway", relayUrl, "--token-file", tokenFile, "--json"], { env: w.env });
  expect(enrolled.code).toBe(0);
  await startDaemon(w);

  // sign-in (device flow, approved by the admin), pair, claim with this test's approver keys
  const started = await as(null, "POST", "/api/v1/auth/device", { client_name: "e2e" });
  expect(started.status).toBe(200);
  expect((await api(w, "POST", "/api/v1/auth/device/approve", { user_code: started.body.user_code, approve: true })).status).toBe(200);
  const token = await as(null, "POST", "/api/v1/auth/device/token", { device_code: started.body.device_code });
  expect(token.status).toBe(200);
  const identity = (await sock(w, "GET", "/v1/identity")).body;
  daemonKeys = identity.keys;
  const created = await as(token.body.access_token, "POST", "/api/v1/pairings", { client_id: identity.client_id, daemon: daemonKeys, label: "e2e-laptop" });
  expect(created.status).toBe(201);
  approverKeys = await generateKeyPairs(true);
  approverPub = await publicKeys(approverKeys);
  const claimed = await as(null, "POST", "/api/v1/pairings/claim", { code: created.body.code, approver: approverPub, label: "e2e-approver" });
  expect(claimed.status).toBe(200);
  approverToken = claimed.body.approver_token;
  pairing = { pairing_id: claimed.body.pairing.id, approver: approverPub, fingerprint: await fingerprint(daemonKeys, approverPub), label: "e2e-approver" };
  expect((await sock(w, "POST", "/v1/pairing", pairing)).status).toBe(200);
});
afterAll(async () => {
  if (process.env.E2E_DEBUG) console.error(w.daemon?.output());
  await relay?.stop(true);
  await disposeWorlds();
});

describe("the shim waits for the paired approver", () => {
  test("approved: the waiting line, then the real tool runs; the verification is recorded at the gateway", async () => {
    const env = await governed();
    const shim = helm(env);
    const record = await nextRequest();
    expect(JSON.stringify(record)).not.toContain("helm upgrade");
    await post(record, await sign(record, "approve"));
    const r = await shim;
    // the approver here polls the API, it keeps no WebSocket open: the line says no approver is connected
    expect(r.stderr).toContain(`airlock: waiting for approval of "helm upgrade web ./chart" on your paired approver (fingerprint ${pairing.fingerprint}) (no approver is connected right now), up to 20s — Ctrl-C to cancel\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fake helm ran\n");
    expect((await tools.record("helm"))?.argv).toEqual(["upgrade", "web", "./chart"]);
    expect(await verification(record.id)).toMatchObject({ ok: true, reason: "approved" });
    const audit = await waitFor("approval.verified in the audit trail", async () => {
      const events = (await api(w, "GET", `/api/v1/audit?target=approval:${record.id}&limit=50`)).body?.items as { type: string }[] | undefined;
      return events?.some((e) => e.type === "approval.verified") ? events : null;
    });
    expect(audit.map((e) => e.type)).toContain("approval.requested");
  });

  test("denied: 126 with the block lines naming the approver", async () => {
    const env = await governed();
    const shim = helm(env);
    const record = await nextRequest();
    await post(record, await sign(record, "deny"));
    const r = await shim;
    expect(r.code).toBe(126);
    expect(r.stderr).toContain("airlock: POLICY BLOCK\nairlock: command=helm upgrade web ./chart\n");
    expect(r.stderr).toContain(`airlock: reason=denied by e2e-approver (${pairing.fingerprint})`);
    expect(await verification(record.id)).toMatchObject({ ok: true, reason: "denied" });
  });

  const integrity: [string, (record: ApprovalRecord) => Promise<void>, string, string][] = [
    ["a signature over a different action", async (record) => post(record, await sign(record, "approve", { command: "helm list" })), "signature over a different action", "action_mismatch"],
    ["an expired decision", async (record) => post(record, await sign(record, "approve", { now: new Date(Date.now() - 20 * 60_000) })), "decision expired", "expired"],
    [
      "a tampered signature (the relay flips it)",
      async (record) => {
        lie = (r) => (r.decision ? { ...r, decision: { ...r.decision, sig: r.decision.sig.startsWith("A") ? `B${r.decision.sig.slice(1)}` : `A${r.decision.sig.slice(1)}` } } : r);
        await post(record, await sign(record, "approve"));
      },
      "invalid signature",
      "bad_signature",
    ],
    [
      "a decision signed by a key that is not paired (the relay swaps it in)",
      async (record) => {
        const stranger = await generateKeyPairs(false);
        const forged = await sign(record, "approve", { key: stranger.sign.privateKey });
        lie = (r) => (r.decision ? { ...r, decision: forged } : r);
        await post(record, await sign(record, "approve"));
      },
      "invalid signature",
      "bad_signature",
    ],
  ];
  for (const [what, act, words, code] of integrity) {
    test(`${what}: 126, and the gateway records the verifier's reason; fail mode open changes nothing`, async () => {
      setConfig({ fail_mode: "open" });
      try {
        const env = await governed();
        const shim = helm(env);
        const record = await nextRequest();
        await act(record);
        const r = await shim;
        expect(r.code).toBe(126);
        expect(r.stderr).toContain(`airlock: reason=approval ${record.id} rejected: ${words} [${code}]`);
        expect(await tools.record("helm")).toMatchObject({ argv: ["upgrade", "web", "./chart"] }); // the earlier approved run only
        const v = await verification(record.id);
        expect(v).toMatchObject({ ok: false });
        expect(v!.reason).toStartWith(code);
        const rejected = await waitFor("approval.rejected in the audit trail", async () => {
          const events = (await api(w, "GET", `/api/v1/audit?target=approval:${record.id}&type=approval.rejected`)).body?.items as { details: Record<string, unknown> }[] | undefined;
          return events?.[0] ?? null;
        });
        expect(JSON.stringify(rejected.details)).toContain(code);
      } finally {
        lie = null;
        setConfig({});
      }
    });
  }

  test("a decision replayed onto a new request (by the relay): 126, replayed", async () => {
    const env = await governed();
    const first = helm(env, ["upgrade", "api", "./chart"]);
    const a = await nextRequest();
    const signedA = await sign(a, "approve");
    await post(a, signedA);
    expect((await first).code).toBe(0);
    lie = (r) => (r.id !== a.id ? { ...r, status: "approved", decision: signedA } : r);
    try {
      const second = await helm(env, ["upgrade", "api", "./chart"]);
      handled.add((await as(approverToken, "GET", "/api/v1/approvals?status=pending")).body.items[0]?.id ?? "");
      expect(second.code).toBe(126);
      expect(second.stderr).toContain("decision replayed [replayed]");
    } finally {
      lie = null;
    }
  });
});

describe("availability failures follow the fail mode", () => {
  test("no decision in time: 126 timed out (closed); runs with a warning (open)", async () => {
    const r = await helm(await governed({ AIRLOCK_APPROVAL_TIMEOUT: "1" }));
    await nextRequest();
    expect(r.code).toBe(126);
    expect(r.stderr).toContain("timed out waiting for approval");
    setConfig({ fail_mode: "open" });
    try {
      const open = await helm(await governed({ AIRLOCK_APPROVAL_TIMEOUT: "1" }));
      await nextRequest();
      expect(open.code).toBe(0);
      expect(open.stderr).toContain("fail mode is open, so it runs without approval");
    } finally {
      setConfig({});
    }
  });

  test("gateway unreachable: 126; no pairing: 126; both name the reason", async () => {
    await relay!.stop(true);
    try {
      const down = await helm(await governed());
      expect(down.code).toBe(126);
      expect(down.stderr).toContain("approval required, but the request could not be sent to the gateway");
    } finally {
      startRelay(relayPort);
    }
    expect((await sock(w, "DELETE", "/v1/pairing")).status).toBe(200);
    try {
      const unpaired = await helm(await governed());
      expect(unpaired.code).toBe(126);
      expect(unpaired.stderr).toContain("airlock: reason=approval required, but no approver is paired with this workstation (run airlock pair) (fail mode closed)");
    } finally {
      expect((await sock(w, "POST", "/v1/pairing", pairing)).status).toBe(200);
    }
  });
});

describe("approval mode (airlock auto-off)", () => {
  test("every command asks unless a local pattern matches", async () => {
    setConfig({ auto: false, auto_approve: ["kubectl get *"] });
    try {
      const env = await governed();
      const get = await run(["get", "pods"], { exe: join(w.home, "bin", "kubectl"), env });
      expect(get.code).toBe(0);
      const describeRun = run(["describe", "pods"], { exe: join(w.home, "bin", "kubectl"), env });
      const record = await nextRequest();
      await post(record, await sign(record, "approve"));
      const r = await describeRun;
      expect(r.stderr).toContain('waiting for approval of "kubectl describe pods"');
      expect(r.code).toBe(0);
    } finally {
      setConfig({});
    }
  });
});

describe("agent hooks", () => {
  const claudeInput = (session: string) =>
    JSON.stringify({ session_id: session, transcript_path: "/tmp/t", cwd: w.dir, permission_mode: "default", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "helm upgrade web ./chart" }, tool_use_id: "t1" });

  test("Claude Code: the hook waits and allows once approved", async () => {
    const hook = run(["hook", "claude", "--timeout", "30"], { env: w.env, stdin: claudeInput("e2e-claude-wait") });
    const record = await nextRequest();
    await post(record, await sign(record, "approve"));
    const r = await hook;
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe("allow");
    expect(out.permissionDecisionReason).toContain("signature verified");
  });

  test("Codex: denied at once with the pending reason; the retry after approval goes through, once", async () => {
    const input = JSON.stringify({ session_id: "e2e-codex", turn_id: "1", transcript_path: null, cwd: w.dir, hook_event_name: "PreToolUse", model: "gpt", permission_mode: "default", tool_name: "Bash", tool_input: { command: "helm upgrade web ./chart" }, tool_use_id: "t1" });
    const first = await run(["hook", "codex"], { env: w.env, stdin: input });
    expect(first.code).toBe(0);
    const reason = JSON.parse(first.stdout).hookSpecificOutput.permissionDecisionReason as string;
    expect(reason).toStartWith("airlock: APPROVAL PENDING\nairlock: command=helm upgrade web ./chart\n");
    expect(reason).toContain("approve it there, then retry");
    const record = await nextRequest();
    await post(record, await sign(record, "approve"));
    const retry = await run(["hook", "codex"], { env: w.env, stdin: input });
    expect({ code: retry.code, stdout: retry.stdout }).toEqual({ code: 0, stdout: "" });
    const third = await run(["hook", "codex"], { env: w.env, stdin: input });
    expect(JSON.parse(third.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
    await nextRequest();
  });

  test("an agent cannot switch approvals off: airlock auto-off through the hook is denied", async () => {
    const input = JSON.parse(claudeInput("e2e-claude-guard"));
    input.tool_input.command = "airlock auto-off && airlock fail-mode open";
    const r = await run(["hook", "claude"], { env: w.env, stdin: JSON.stringify(input) });
    const out = JSON.parse(r.stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toContain("an agent may not change its own approval guardrails");
  });
});
