/**
 * Approvals, excluding the human (issue 7): the compiled gateway and daemon on loopback, paired with
 * a headless approver in this process that answers as soon as a request exists (what a WebSocket
 * notification gives it). One round trip = the check that seals and posts the request + the
 * approver fetching, opening, signing and posting its decision + the daemon's wait (long-poll,
 * verifyDecision, verification report, outbox). Target p50 ≤ 50 ms.
 * And the verifier alone, in process (`verifyDecision` under the paired key): target ≤ 1 ms.
 * Run: bun run build.ts && bun run test/bench/approvals.ts
 */
import { actionHash, fingerprint, generateKeyPairs, openEnvelope, publicKeys, signDecision, verifyDecision } from "../../src/approvals/index";
import type { ApprovalAction, ApprovalRecord } from "../../src/protocol/approvals";
import { api, disposeWorlds, enroll, sock, startDaemon, startGateway, world } from "../support/world";
import { report, summarize } from "./_stats";

async function verifierCost(runs = 2000): Promise<void> {
  const keys = await generateKeyPairs(false);
  const pub = await publicKeys(keys);
  const action: ApprovalAction = {
    v: 1, request_id: "req-1", command: "helm upgrade web ./chart", cwd: "/w", agent: "claude", session_id: "ses_1", role: "default-agent",
    tool: "helm", policy: "helm-guard", rule: "rules[1]", reason: "changes what runs", host: "laptop", requested_at: new Date().toISOString(), expires_at: new Date(Date.now() + 600_000).toISOString(),
  };
  const hash = await actionHash(action);
  const signed = await signDecision({ request_id: "req-1", action_hash: hash, expires_at: action.expires_at, decision: "approve", approverSign: keys.sign.privateKey });
  const expect = { request_id: "req-1", action_hash: hash, approverSignKey: pub.sign_key, now: new Date(), seen: () => false };
  for (let i = 0; i < 200; i++) await verifyDecision(signed, expect);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await verifyDecision(signed, expect);
    samples.push(performance.now() - t);
    if (!r.ok) throw new Error(`verify failed: ${r.reason}`);
  }
  report("verifyDecision (daemon's verifier, per decision)", summarize(samples), "ms", { p50: 1 });
}

async function roundTrip(runs = 100): Promise<void> {
  const w = await world("airlock-bench-approvals-");
  try {
    await startGateway(w);
    await enroll(w);
    await startDaemon(w);
    const call = async (token: string | null, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${w.gatewayUrl}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return (await res.json()) as any;
    };
    const started = await call(null, "POST", "/api/v1/auth/device", { client_name: "bench" });
    await api(w, "POST", "/api/v1/auth/device/approve", { user_code: started.user_code, approve: true });
    const user = (await call(null, "POST", "/api/v1/auth/device/token", { device_code: started.device_code })).access_token as string;
    const identity = (await sock(w, "GET", "/v1/identity")).body;
    const created = await call(user, "POST", "/api/v1/pairings", { client_id: identity.client_id, daemon: identity.keys, label: "bench" });
    const keys = await generateKeyPairs(true);
    const pub = await publicKeys(keys);
    const claimed = await call(null, "POST", "/api/v1/pairings/claim", { code: created.code, approver: pub });
    const approverToken = claimed.approver_token as string;
    await sock(w, "POST", "/v1/pairing", { pairing_id: claimed.pairing.id, approver: pub, fingerprint: await fingerprint(identity.keys, pub) });
    const session = (await sock(w, "POST", "/v1/sessions", { agent: "claude", cwd: "/w" })).body;
    const caller = { kind: "session", session_id: session.session.id, token: session.token };

    const approve = async (id: string) => {
      const record = (await call(approverToken, "GET", `/api/v1/approvals/${id}`)) as ApprovalRecord;
      const action = await openEnvelope({ id, pairing_id: record.pairing_id, expires_at: record.expires_at, envelope: record.envelope, approverBox: keys.box.privateKey, daemonSignKey: identity.keys.sign_key });
      const signed = await signDecision({ request_id: id, action_hash: await actionHash(action), expires_at: record.expires_at, decision: "approve", approverSign: keys.sign.privateKey });
      await call(approverToken, "POST", `/api/v1/approvals/${id}/decision`, signed);
    };
    const once = async (i: number) => {
      const t = performance.now();
      const check = (await sock(w, "POST", "/v1/check", { caller, argv: ["helm", "upgrade", `web-${i}`, "./chart"], cwd: "/w" })).body;
      if (!check.approval) throw new Error(`no approval request: ${check.reason}`);
      const [waited] = await Promise.all([sock(w, "POST", `/v1/approvals/${check.approval.id}/wait`, { timeout_ms: 10_000, final: true }), approve(check.approval.id)]);
      if (!waited.body.allow) throw new Error(`not approved: ${waited.body.reason}`);
      return performance.now() - t;
    };
    for (let i = 0; i < 10; i++) await once(-i - 1);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await once(i));
    report("approval round trip (check → approver signs → verified), loopback", summarize(samples), "ms", { p50: 50 });
  } finally {
    await disposeWorlds();
  }
}

export async function benchApprovals(): Promise<void> {
  await verifierCost();
  await roundTrip();
}

if (import.meta.main) await benchApprovals();
