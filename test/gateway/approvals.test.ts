/**
 * Sign-in, pairing and approvals (docs/approvals.md) end to end through the gateway, with real
 * WebCrypto keys: in-process for the device flow and pairing, on a real port for the approver
 * WebSocket, the long poll and the database check.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, existsSync } from "node:fs";
import { openEnvelope } from "../../src/approvals/envelope";
import { verifyDecision } from "../../src/approvals/decision";
import { fingerprint, publicKeys } from "../../src/approvals/keys";
import { CODE_ALPHABET } from "../../src/protocol/approvals";
import { testGateway, type TestGateway } from "../support/gateway";
import { decide, liveGateway, openSocket, pair, sealedRequest, signIn, type Call, type LiveGateway } from "./_approvals";

/** a clock the test moves */
function fakeClock(start = Date.now()) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

/** `Call` over an in-process gateway */
const inProcess =
  (gw: TestGateway): Call =>
  async (method, path, token, body) => {
    const res = await gw.req(method, path, { as: "none", ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

describe("sign-in (device flow)", () => {
  const clock = fakeClock();
  let gw: TestGateway;
  let call: Call;
  beforeAll(async () => {
    gw = await testGateway({ now: clock.now });
    call = inProcess(gw);
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  test("start, pending, slow_down, approve in the UI, token once", async () => {
    const started = await call("POST", "/api/v1/auth/device", null, { client_name: "alice's laptop" });
    expect(started.status).toBe(200);
    const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = started.body;
    expect(device_code).toMatch(/^al_d_[A-Za-z0-9_-]{43}$/);
    expect(user_code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`));
    expect(verification_uri).toBe("http://localhost/device");
    expect(verification_uri_complete).toBe(`http://localhost/device?code=${user_code}`);
    expect([expires_in, interval]).toEqual([600, 5]);

    const poll = () => call("POST", "/api/v1/auth/device/token", null, { device_code });
    const pending = await poll();
    expect([pending.status, pending.body.code]).toEqual([400, "authorization_pending"]);
    const fast = await poll();
    expect([fast.status, fast.body.code]).toEqual([429, "slow_down"]);
    expect(fast.body.message).toContain("10 s");

    // what the UI shows before approving: typed any case, with or without the dash
    const shown = await call("GET", `/api/v1/auth/device/${user_code.toLowerCase().replace("-", "")}`, gw.tokens.viewer);
    expect(shown.body).toMatchObject({ user_code, client_name: "alice's laptop", status: "pending" });
    const approved = await call("POST", "/api/v1/auth/device/approve", gw.tokens.admin, { user_code, approve: true });
    expect([approved.status, approved.body.status]).toEqual([200, "approved"]);

    clock.advance(10_000);
    const issued = await poll();
    expect(issued.status).toBe(200);
    const { access_token, token_type, user } = issued.body;
    expect([access_token, token_type, user]).toEqual([expect.stringMatching(/^al_u_/), "Bearer", expect.stringMatching(/^user:tok_/)]);
    const me = await call("GET", "/api/v1/auth/whoami", access_token);
    expect(me.body).toEqual({ kind: "user", actor: user });
    clock.advance(10_000);
    const again = await poll();
    expect([again.status, again.body.code]).toEqual([400, "expired_token"]);
    const audit = await call("GET", "/api/v1/audit?type=auth.&limit=10", gw.tokens.admin);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual(["auth.device_approved", "auth.device_started"]);
    expect(JSON.stringify(audit.body)).not.toContain(device_code);
  });

  test("the same admin signs in as the same user", async () => {
    const a = await signIn(call, gw.tokens.admin);
    clock.advance(10_000);
    const b = await signIn(call, gw.tokens.admin);
    const c = await signIn(call, gw.tokens.viewer);
    expect(a.user).toBe(b.user);
    expect(c.user).not.toBe(a.user);
  });

  test("denied → access_denied; expired → expired_token and 410 on approve; unknown → 401", async () => {
    const denied = (await call("POST", "/api/v1/auth/device", null, {})).body;
    expect((await call("POST", "/api/v1/auth/device/approve", gw.tokens.viewer, { user_code: denied.user_code, approve: false })).body.status).toBe("denied");
    const d = await call("POST", "/api/v1/auth/device/token", null, { device_code: denied.device_code });
    expect([d.status, d.body.code]).toEqual([403, "access_denied"]);

    const late = (await call("POST", "/api/v1/auth/device", null, {})).body;
    clock.advance(600_000);
    const e = await call("POST", "/api/v1/auth/device/token", null, { device_code: late.device_code });
    expect([e.status, e.body.code]).toEqual([400, "expired_token"]);
    const a = await call("POST", "/api/v1/auth/device/approve", gw.tokens.admin, { user_code: late.user_code, approve: true });
    expect([a.status, a.body.code]).toEqual([410, "expired"]);
    expect((await call("GET", `/api/v1/auth/device/${late.user_code}`, gw.tokens.admin)).body.status).toBe("expired");

    const u = await call("POST", "/api/v1/auth/device/token", null, { device_code: "al_d_unknownunknownunknownunknownunknownunknown" });
    expect([u.status, u.body.code]).toEqual([401, "unauthorized"]);
  });

  test("sign-in starts are rate-limited per address", async () => {
    await using limited = await testGateway();
    const limitedCall = inProcess(limited);
    // the test gateway's default: 30 per minute
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await limitedCall("POST", "/api/v1/auth/device", null, {})).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
  });
});

describe("pairing", () => {
  const clock = fakeClock();
  let gw: TestGateway;
  let call: Call;
  let user: { token: string; user: string };
  beforeAll(async () => {
    gw = await testGateway({ now: clock.now });
    call = inProcess(gw);
    user = await signIn(call);
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  test("create → claim (code typed loosely) → single use; both ends compute the same fingerprint", async () => {
    const p = await pair(call, user.token, gw.clientId);
    expect(p.pairing).toMatchObject({ status: "paired", client_id: gw.clientId, user: user.user, label: "laptop", approver_label: "phone", approver_online: false });
    expect(p.approverToken).toMatch(/^al_p_/);
    const daemonSide = await fingerprint(await publicKeys(p.daemon), p.pairing.approver!);
    const approverSide = await fingerprint(p.pairing.daemon, await publicKeys(p.approver));
    expect(daemonSide).toBe(approverSide);

    // loosely typed code; used once
    const created = await call("POST", "/api/v1/pairings", user.token, { client_id: gw.clientId, daemon: await publicKeys(p.daemon) });
    expect(created.status).toBe(201);
    expect(created.body.code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{6}$`));
    expect(Date.parse(created.body.expires_at) - clock.now().getTime()).toBe(300_000);
    const typed = ` ${created.body.code.slice(0, 3).toLowerCase()}-${created.body.code.slice(3)} `;
    const claim = { code: typed, approver: await publicKeys(p.approver) };
    expect((await call("POST", "/api/v1/pairings/claim", null, claim)).status).toBe(200);
    const second = await call("POST", "/api/v1/pairings/claim", null, claim);
    expect([second.status, second.body.code]).toEqual([404, "not_found"]);
  });

  test("who sees a pairing: admin, viewer, its user, its client, its approver; others get 404", async () => {
    const p = await pair(call, user.token, gw.clientId);
    const other = await signIn(call, gw.tokens.viewer);
    const path = `/api/v1/pairings/${p.pairing.id}`;
    for (const token of [gw.tokens.admin, gw.tokens.viewer, user.token, gw.tokens.client, p.approverToken]) expect((await call("GET", path, token)).status).toBe(200);
    for (const token of [other.token, gw.tokens.other_client]) expect((await call("GET", path, token)).status).toBe(404);
    const mine = await call("GET", "/api/v1/pairings", user.token);
    expect(mine.body.items.every((x: { user: string }) => x.user === user.user)).toBe(true);
    expect((await call("GET", "/api/v1/pairings", other.token)).body.items).toEqual([]);
    expect((await call("GET", "/api/v1/pairings?status=paired", gw.tokens.admin)).body.items.length).toBeGreaterThan(0);
    expect((await call("DELETE", path, other.token)).status).toBe(404);
  });

  test("an expired code is refused with 410; an unknown client with 404", async () => {
    const p = await pair(call, user.token, gw.clientId);
    const created = await call("POST", "/api/v1/pairings", user.token, { client_id: gw.clientId, daemon: await publicKeys(p.daemon) });
    clock.advance(300_000);
    const late = await call("POST", "/api/v1/pairings/claim", null, { code: created.body.code, approver: await publicKeys(p.approver) });
    expect([late.status, late.body.code]).toEqual([410, "expired"]);
    const ghost = await call("POST", "/api/v1/pairings", user.token, { client_id: "cli_ghost", daemon: await publicKeys(p.daemon) });
    expect(ghost.status).toBe(404);
  });

  test("wrong codes are rate-limited per address", async () => {
    await using limited = await testGateway({ failedAuth: { max: 3, windowMs: 60_000 } });
    const keys = { sign_key: "A".repeat(43), box_key: "B".repeat(43) };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await limited.req("POST", "/api/v1/pairings/claim", { as: "none", body: { code: "ABCDEF", approver: keys } })).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  test("unpairing by its approver revokes the approver token", async () => {
    const p = await pair(call, user.token, gw.clientId);
    const removed = await call("DELETE", `/api/v1/pairings/${p.pairing.id}`, p.approverToken);
    expect(removed.status).toBe(200);
    expect(removed.body.pairing.status).toBe("removed");
    expect((await call("GET", `/api/v1/pairings/${p.pairing.id}`, p.approverToken)).status).toBe(401);
    expect((await call("DELETE", `/api/v1/pairings/${p.pairing.id}`, user.token)).status).toBe(409);
  });

  test("the live stream gets pairing and approval metadata, never an envelope", async () => {
    const seen: unknown[] = [];
    const stop = gw.bus.subscribe((e) => seen.push(e));
    try {
      const p = await pair(call, user.token, gw.clientId);
      const req = await sealedRequest(p, "helm upgrade live-stream ./chart", 3_600_000);
      // the fake clock is behind real time by at most the advances above: expiry stays ahead
      expect((await call("POST", "/api/v1/approvals", gw.tokens.client, req.body)).status).toBe(201);
      const types = seen.map((e) => (e as { type: string }).type);
      expect(types).toContain("pairing");
      expect(types).toContain("approval");
      expect(JSON.stringify(seen)).not.toContain(req.body.envelope.ct);
    } finally {
      stop();
    }
  });
});

describe("approvals over a real server", () => {
  let gw: LiveGateway;
  let user: { token: string; user: string };
  beforeAll(async () => {
    gw = await liveGateway({ approverAuthTimeoutMs: 300, publicUrl: "https://airlock.example.com/" });
    user = await signIn(gw.call);
  });
  afterAll(async () => {
    await gw[Symbol.asyncDispose]();
  });

  const authed = async (token: string) => {
    const s = await openSocket(gw.wsUrl);
    s.ws.send(JSON.stringify({ type: "auth", token }));
    return s;
  };

  test("the sign-in links use the public URL", async () => {
    const started = await gw.call("POST", "/api/v1/auth/device", null, {});
    expect(started.body.verification_uri).toBe("https://airlock.example.com/device");
  });

  test("request → WebSocket → decrypt → signed decision → long poll returns it → the daemon verifies", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const socket = await authed(p.approverToken);
    const ready = await socket.next("ready");
    expect(ready.pairing).toMatchObject({ id: p.pairing.id, approver_online: true });
    expect(ready.pending).toEqual([]);
    expect((await gw.call("GET", `/api/v1/pairings/${p.pairing.id}`, user.token)).body.approver_online).toBe(true);

    const req = await sealedRequest(p, "helm upgrade web ./chart --namespace prod");
    const created = await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ approval: { id: req.body.id, status: "pending", decision: null }, approver_online: true });

    const pushed = await socket.next("request");
    expect(pushed.approval.id).toBe(req.body.id);
    const action = await openEnvelope({ ...pushed.approval, envelope: pushed.approval.envelope, approverBox: p.approver.box.privateKey, daemonSignKey: p.pairing.daemon.sign_key });
    expect(action.command).toBe("helm upgrade web ./chart --namespace prod");

    const waiting = gw.call("GET", `/api/v1/approvals/${req.body.id}?wait=10`, gw.clientToken);
    await Bun.sleep(50);
    const signed = await decide(p, { id: req.body.id, expires_at: req.body.expires_at, hash: req.hash }, "approve");
    const decided = await gw.call("POST", `/api/v1/approvals/${req.body.id}/decision`, p.approverToken, signed);
    expect([decided.status, decided.body.status]).toEqual([200, "approved"]);
    const polled = await waiting;
    expect(polled.body).toMatchObject({ status: "approved", decision: signed });
    expect(await socket.next("resolved")).toEqual({ type: "resolved", id: req.body.id, status: "approved" });

    const verdict = await verifyDecision(polled.body.decision, { request_id: req.body.id, action_hash: req.hash, approverSignKey: p.pairing.approver!.sign_key, now: new Date(), seen: () => false });
    expect(verdict.ok).toBe(true);
    const reported = await gw.call("POST", `/api/v1/approvals/${req.body.id}/verification`, gw.clientToken, { ok: true, reason: "ok", verify_ms: 0.3, total_ms: 80 });
    expect(reported.body.verification).toMatchObject({ ok: true, reason: "ok" });
    const audit = await gw.call("GET", `/api/v1/audit?target=approval:${req.body.id}`, ADMIN_TOKEN);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual(["approval.verified", "approval.approved", "approval.requested"]);
    socket.ws.close();
  });

  test("a wrong approver gets 403; a tampered signature or another request's decision gets 400 and nothing is stored", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const stranger = await pair(gw.call, user.token, gw.clientId);
    const req = await sealedRequest(p, "kubectl delete ns prod");
    expect((await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body)).status).toBe(201);
    const path = `/api/v1/approvals/${req.body.id}/decision`;
    const signed = await decide(p, { id: req.body.id, expires_at: req.body.expires_at, hash: req.hash }, "approve");

    expect((await gw.call("POST", path, stranger.approverToken, signed)).status).toBe(403);
    const flipped = signed.payload.replace('"approve"', '"deny"');
    const tampered = await gw.call("POST", path, p.approverToken, { payload: flipped, sig: signed.sig });
    expect([tampered.status, tampered.body.details[0].path]).toEqual([400, "body.sig"]);
    const byStranger = await decide(stranger, { id: req.body.id, expires_at: req.body.expires_at, hash: req.hash }, "approve");
    expect((await gw.call("POST", path, p.approverToken, byStranger)).status).toBe(400);
    const other = await decide(p, { id: "apr-other", expires_at: req.body.expires_at, hash: req.hash }, "approve");
    expect((await gw.call("POST", path, p.approverToken, other)).body.details[0].path).toBe("body.payload");

    const stored = await gw.call("GET", `/api/v1/approvals/${req.body.id}`, ADMIN_TOKEN);
    expect(stored.body).toMatchObject({ status: "pending", decision: null });
    // an envelope not signed by the paired daemon is refused too
    const forged = await sealedRequest(stranger, "kubectl delete ns prod");
    const wrongDaemon = await gw.call("POST", "/api/v1/approvals", gw.clientToken, { ...forged.body, pairing_id: p.pairing.id });
    expect([wrongDaemon.status, wrongDaemon.body.details[0].path]).toEqual([400, "body.envelope.sig"]);
  });

  test("a request that times out is expired: the long poll and the socket hear it", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const socket = await authed(p.approverToken);
    await socket.next("ready");
    const req = await sealedRequest(p, "terraform apply", 600);
    expect((await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body)).status).toBe(201);
    await socket.next("request");
    const started = Date.now();
    const polled = await gw.call("GET", `/api/v1/approvals/${req.body.id}?wait=10`, gw.clientToken);
    expect(polled.body.status).toBe("expired");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await socket.next("resolved")).toEqual({ type: "resolved", id: req.body.id, status: "expired" });
    const signed = await decide(p, { id: req.body.id, expires_at: req.body.expires_at, hash: req.hash }, "approve");
    const late = await gw.call("POST", `/api/v1/approvals/${req.body.id}/decision`, p.approverToken, signed);
    expect([late.status, late.body.code]).toEqual([410, "expired"]);
    socket.ws.close();
  });

  test("the socket: pending requests in ready; no auth in time → 4401; a non-approver token → 4403; a bad token → 4401", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const req = await sealedRequest(p, "helm rollback web 3");
    await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body);
    const s = await authed(p.approverToken);
    expect((await s.next("ready")).pending.map((a: { id: string }) => a.id)).toEqual([req.body.id]);
    s.ws.send(JSON.stringify({ type: "ping" }));
    expect(await s.next("pong")).toEqual({ type: "pong" });
    s.ws.close();

    const silent = await openSocket(gw.wsUrl);
    expect((await silent.closed).code).toBe(4401);
    const client = await authed(gw.clientToken);
    expect((await client.closed).code).toBe(4403);
    const garbage = await authed("al_p_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect((await garbage.closed).code).toBe(4401);
    expect((await gw.call("GET", "/api/v1/approver/ws", null)).status).toBe(400);
  });

  test("unpair: the socket is told and closed, the approver token stops working, pending requests expire", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const socket = await authed(p.approverToken);
    await socket.next("ready");
    const req = await sealedRequest(p, "helm uninstall web");
    await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body);
    await socket.next("request");
    expect((await gw.call("DELETE", `/api/v1/pairings/${p.pairing.id}`, user.token)).status).toBe(200);
    expect(await socket.next("unpaired")).toEqual({ type: "unpaired", pairing_id: p.pairing.id });
    expect((await socket.closed).code).toBe(4410);
    expect((await gw.call("GET", "/api/v1/approvals", p.approverToken)).status).toBe(401);
    expect((await gw.call("GET", `/api/v1/approvals/${req.body.id}`, gw.clientToken)).body.status).toBe("expired");
    expect((await gw.call("GET", `/api/v1/pairings/${p.pairing.id}`, user.token)).body).toMatchObject({ status: "removed", approver_online: false });
    const after = await gw.call("POST", "/api/v1/approvals", gw.clientToken, (await sealedRequest(p, "helm uninstall web")).body);
    expect(after.status).toBe(409);
  });

  test("an admin revoking the approver's token unpairs: the socket is told and closed, the pairing is removed", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const socket = await authed(p.approverToken);
    await socket.next("ready");
    // the approver token bound to this pairing, as the audit trail names it
    const claimed = await gw.call("GET", `/api/v1/audit?type=pairing.claimed&target=pairing:${p.pairing.id}`, ADMIN_TOKEN);
    const mine: string = claimed.body.items[0].details.token;
    expect(mine).toMatch(/^tok_/);
    const revoked = await gw.call("POST", `/api/v1/tokens/${mine}/revoke`, ADMIN_TOKEN);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: mine, kind: "approver" });
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await gw.call("GET", `/api/v1/pairings/${p.pairing.id}`, user.token)).body.status).toBe("removed");
    expect(await socket.next("unpaired")).toEqual({ type: "unpaired", pairing_id: p.pairing.id });
    expect((await socket.closed).code).toBe(4410);
    expect((await gw.call("GET", "/api/v1/approvals", p.approverToken)).status).toBe(401);
    // a second revoke of the same token is the usual conflict
    expect((await gw.call("POST", `/api/v1/tokens/${mine}/revoke`, ADMIN_TOKEN)).status).toBe(409);
  });

  test("sign-out: a user gives its token back; it is refused afterwards, and only a user token can", async () => {
    const other = await signIn(gw.call);
    expect((await gw.call("GET", "/api/v1/pairings", other.token)).status).toBe(200);
    expect((await gw.call("POST", "/api/v1/auth/sign-out", ADMIN_TOKEN)).status).toBe(403);
    const out = await gw.call("POST", "/api/v1/auth/sign-out", other.token);
    expect(out.status).toBe(200);
    expect(out.body.revoked).toMatch(/^tok_/);
    expect((await gw.call("GET", "/api/v1/pairings", other.token)).status).toBe(401);
    const audit = await gw.call("GET", `/api/v1/audit?target=token:${out.body.revoked}`, ADMIN_TOKEN);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toContain("token.revoked");
  });

  test("an approver lists only its pairing's approvals; /metrics counts approvals by status", async () => {
    const p = await pair(gw.call, user.token, gw.clientId);
    const req = await sealedRequest(p, "helm upgrade api ./chart");
    await gw.call("POST", "/api/v1/approvals", gw.clientToken, req.body);
    const mine = await gw.call("GET", "/api/v1/approvals", p.approverToken);
    expect(mine.body.items.map((a: { id: string }) => a.id)).toEqual([req.body.id]);
    expect((await gw.call("GET", "/api/v1/approvals?pairing_id=someone-else", p.approverToken)).body.items).toEqual([]);
    const all = await gw.call("GET", "/api/v1/approvals?status=pending", ADMIN_TOKEN);
    expect(all.body.items.map((a: { id: string }) => a.id)).toContain(req.body.id);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/airlock_approvals\{status="pending"\} [1-9]/);
    expect(metrics).toMatch(/airlock_approvals\{status="approved"\} \d+/);
  });
});

const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";

describe("the gateway's database never holds the command in clear", () => {
  test("a full flow leaves no trace of the command in gateway.db or its WAL", async () => {
    const COMMAND = "helm upgrade payments ./chart --set secret=PLAINTEXT-CANARY-7f3a9c";
    await using gw = await liveGateway();
    const user = await signIn(gw.call);
    const p = await pair(gw.call, user.token, gw.clientId);
    const approvedReq = await sealedRequest(p, COMMAND);
    expect((await gw.call("POST", "/api/v1/approvals", gw.clientToken, approvedReq.body)).status).toBe(201);
    const signed = await decide(p, { id: approvedReq.body.id, expires_at: approvedReq.body.expires_at, hash: approvedReq.hash }, "approve");
    expect((await gw.call("POST", `/api/v1/approvals/${approvedReq.body.id}/decision`, p.approverToken, signed)).status).toBe(200);
    await gw.call("POST", `/api/v1/approvals/${approvedReq.body.id}/verification`, gw.clientToken, { ok: true, reason: "ok", verify_ms: 1, total_ms: 2 });
    const deniedReq = await sealedRequest(p, COMMAND);
    await gw.call("POST", "/api/v1/approvals", gw.clientToken, deniedReq.body);
    await gw.call("POST", `/api/v1/approvals/${deniedReq.body.id}/decision`, p.approverToken, await decide(p, { id: deniedReq.body.id, expires_at: deniedReq.body.expires_at, hash: deniedReq.hash }, "deny"));
    await gw.call("DELETE", `/api/v1/pairings/${p.pairing.id}`, user.token);

    const needles = [COMMAND, "PLAINTEXT-CANARY-7f3a9c", "payments ./chart"].map((s) => Buffer.from(s));
    const files = () => [gw.dbPath, `${gw.dbPath}-wal`].filter(existsSync);
    const check = () => {
      for (const file of files()) {
        const bytes = readFileSync(file);
        for (const needle of needles) expect({ file, found: bytes.includes(needle) }).toEqual({ file, found: false });
      }
    };
    expect(files()).toContain(`${gw.dbPath}-wal`);
    check();
    // and the ciphertext is there (the check looks where the data is)
    const ct = Buffer.from(approvedReq.body.envelope.ct);
    expect(files().some((f) => readFileSync(f).includes(ct))).toBe(true);
    await gw.gateway.stop(1000); // checkpoints the WAL into the file
    check();
  });
});
