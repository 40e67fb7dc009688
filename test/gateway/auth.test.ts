/**
 * The auth matrix: every route × every credential class. Allowed classes get past auth (never 401
 * or 403); other valid credentials get 403; a missing or invalid credential gets 401.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decisionFor, testGateway, type Cred, type TestGateway } from "../support/gateway";
import { pair, sealedRequest, signIn, type Call, type Paired } from "./_approvals";

let gw: TestGateway;
let n = 0;
const uniq = () => `t${++n}-${Date.now().toString(36)}`;

/** the approvals fixtures: a user (sign-in), a pairing of the test client with its approver, one approval, one sign-in code */
const fx = {} as { freshUser: () => Promise<string>; user: string; paired: Paired; approvalId: string; deviceCode: string; userCode: string; daemon: { sign_key: string; box_key: string } };
const AS = (c: string) => c as Cred;

beforeAll(async () => {
  gw = await testGateway();
  const call: Call = async (method, path, token, body) => {
    const res = await gw.req(method, path, { as: "none", ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}), ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  fx.user = (await signIn(call, gw.tokens.admin)).token;
  // another token of the same user (the same admin approves): sign-out revokes the one it presents
  fx.freshUser = async () => ((gw.tokens as Record<string, string>).user = (await signIn(call, gw.tokens.admin)).token);
  fx.paired = await pair(call, fx.user, gw.clientId);
  fx.daemon = fx.paired.pairing.daemon;
  const req = await sealedRequest(fx.paired, "helm upgrade matrix ./chart", 3_600_000);
  fx.approvalId = (await call("POST", "/api/v1/approvals", gw.tokens.client, req.body)).body.approval.id;
  const started = (await call("POST", "/api/v1/auth/device", null, {})).body;
  [fx.deviceCode, fx.userCode] = [started.device_code, started.user_code];
  const tokens = gw.tokens as Record<string, string>;
  tokens.user = fx.user;
  tokens.approver = fx.paired.approverToken;
});

async function freshPairing(): Promise<string> {
  const r = await gw.req("POST", "/api/v1/pairings", { as: "none", headers: { authorization: `Bearer ${fx.user}` }, body: { client_id: gw.clientId, daemon: fx.daemon } });
  return ((await r.json()) as { pairing: { id: string } }).pairing.id;
}
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

interface Route {
  method: string;
  path: () => string | Promise<string>;
  body?: () => unknown;
  allowed: Cred[];
}

const policyDoc = (id: string) => ({ id, name: id, status: "active", blocked_commands: ["make deploy"] });
const decision = () => decisionFor(gw.sessionId, `dec-${uniq()}`, { decided_at: new Date().toISOString() });

async function freshPolicy(): Promise<string> {
  const id = `p-${uniq()}`;
  await gw.json("POST", "/api/v1/policies", { body: policyDoc(id) });
  return id;
}

async function freshClient(): Promise<string> {
  const t = (await gw.json("POST", "/api/v1/clients/enrollment-tokens", { body: { name: "x" } })).body.token;
  const saved = gw.tokens.enrollment;
  gw.tokens.enrollment = t;
  const r = await gw.json("POST", "/api/v1/clients/enroll", { as: "enrollment", body: { name: "x", hostname: "x", user: "x", version: "x" } });
  gw.tokens.enrollment = saved;
  return r.body.client.id;
}

const ANYONE: Cred[] = ["admin", "viewer", "client", "other_client", "enrollment", "session", "none", "garbage", "user" as Cred, "approver" as Cred];

const ROUTES: Route[] = [
  { method: "GET", path: () => "/api/v1/policies", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/policies/infra-mutation-block", allowed: ["admin", "viewer"] },
  { method: "POST", path: () => "/api/v1/policies", body: () => policyDoc(`p-${uniq()}`), allowed: ["admin"] },
  { method: "PUT", path: async () => `/api/v1/policies/${await freshPolicy()}`, body: () => ({ name: "renamed", status: "active", blocked_commands: ["x y"] }), allowed: ["admin"] },
  { method: "DELETE", path: async () => `/api/v1/policies/${await freshPolicy()}`, allowed: ["admin"] },
  { method: "GET", path: () => "/api/v1/roles", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/roles/default-agent", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/roles/default-agent/bundle", allowed: ["admin", "viewer", "client", "other_client"] },
  { method: "POST", path: () => "/api/v1/roles", body: () => ({ id: `r-${uniq()}`, name: "R", policies: ["git-guard"], default_action: "allow" }), allowed: ["admin"] },
  { method: "GET", path: () => "/api/v1/tokens", allowed: ["admin"] },
  { method: "POST", path: () => "/api/v1/tokens", body: () => ({ kind: "viewer", name: "v" }), allowed: ["admin"] },
  { method: "POST", path: () => "/api/v1/clients/enrollment-tokens", body: () => ({ name: "e" }), allowed: ["admin"] },
  { method: "POST", path: () => "/api/v1/clients/enroll", body: () => ({ name: "n", hostname: "h", user: "u", version: "v" }), allowed: ["enrollment"] },
  { method: "GET", path: () => "/api/v1/clients", allowed: ["admin", "viewer"] },
  { method: "POST", path: async () => `/api/v1/clients/${await freshClient()}/revoke`, allowed: ["admin"] },
  { method: "POST", path: () => "/api/v1/sessions", body: () => ({ agent: "codex", role: "default-agent", user: "u", host: "h", cwd: "/" }), allowed: ["client", "other_client"] },
  { method: "GET", path: () => "/api/v1/sessions", allowed: ["admin", "viewer", "client", "other_client"] },
  { method: "GET", path: () => `/api/v1/sessions/${gw.sessionId}`, allowed: ["admin", "viewer", "client", "other_client"] },
  { method: "POST", path: () => "/api/v1/decisions", body: () => ({ decisions: [decision()] }), allowed: ["client", "other_client"] },
  { method: "GET", path: () => "/api/v1/decisions", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/decisions/stats", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/audit", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/audit/export", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/audit/verify", allowed: ["admin", "viewer"] },
  { method: "POST", path: () => "/api/v1/check", body: () => ({ command: "terraform apply" }), allowed: ["admin", "viewer", "client", "other_client", "session"] },
  { method: "GET", path: () => "/api/v1/changes", allowed: ["admin", "viewer", "client", "other_client"] },
  { method: "GET", path: () => "/api/v1/status", allowed: ["admin", "viewer"] },
  { method: "GET", path: () => "/api/v1/auth/whoami", allowed: ["admin", "viewer", "client", "other_client", "enrollment", "session", AS("user"), AS("approver")] },
  // sign-in, pairing, approvals (docs/approvals.md); "anyone" routes take no credential at all
  { method: "POST", path: () => "/api/v1/auth/device", body: () => ({}), allowed: ANYONE },
  { method: "POST", path: () => "/api/v1/auth/device/token", body: () => ({ device_code: fx.deviceCode }), allowed: ANYONE },
  { method: "GET", path: () => `/api/v1/auth/device/${fx.userCode}`, allowed: ["admin", "viewer"] },
  { method: "POST", path: () => "/api/v1/auth/device/approve", body: () => ({ user_code: fx.userCode, approve: false }), allowed: ["admin", "viewer"] },
  { method: "POST", path: () => "/api/v1/pairings", body: () => ({ client_id: gw.clientId, daemon: fx.daemon }), allowed: [AS("user")] },
  { method: "POST", path: () => "/api/v1/pairings/claim", body: () => ({ code: "ABCDEF", approver: fx.daemon }), allowed: ANYONE },
  { method: "GET", path: () => "/api/v1/pairings", allowed: ["admin", "viewer", AS("user")] },
  { method: "GET", path: () => `/api/v1/pairings/${fx.paired.pairing.id}`, allowed: ["admin", "viewer", "client", "other_client", AS("user"), AS("approver")] },
  { method: "DELETE", path: async () => `/api/v1/pairings/${await freshPairing()}`, allowed: ["admin", AS("user"), AS("approver")] },
  { method: "POST", path: () => "/api/v1/approvals", body: () => ({ id: `apr-${uniq()}`, pairing_id: fx.paired.pairing.id, session_id: null, expires_at: new Date(Date.now() + 60_000).toISOString(), envelope: { v: 1, epk: "A".repeat(43), iv: "A".repeat(16), ct: "AAAA", sig: "A".repeat(86) } }), allowed: ["client"] },
  { method: "GET", path: () => "/api/v1/approvals", allowed: ["admin", "viewer", AS("approver")] },
  { method: "GET", path: () => `/api/v1/approvals/${fx.approvalId}`, allowed: ["admin", "viewer", "client", "other_client", AS("approver")] },
  { method: "POST", path: () => `/api/v1/approvals/${fx.approvalId}/decision`, body: () => ({ payload: "{}", sig: "A".repeat(86) }), allowed: [AS("approver")] },
  { method: "POST", path: async () => (await fx.freshUser(), "/api/v1/auth/sign-out"), allowed: [AS("user")] },
  { method: "POST", path: () => `/api/v1/approvals/${fx.approvalId}/verification`, body: () => ({ ok: true, reason: "ok", verify_ms: 1, total_ms: 2 }), allowed: ["client", "other_client"] },
];

const CLASSES: Cred[] = ["admin", "viewer", "client", "enrollment", "session", AS("user"), AS("approver"), "none", "garbage"];

describe("auth matrix", () => {
  for (const route of ROUTES) {
    for (const as of CLASSES) {
      const allowed = route.allowed.includes(as);
      const expected = allowed ? "passes auth" : as === "none" || as === "garbage" ? "401" : "403";
      test(`${route.method} ${route.path.toString().match(/`([^`]+)`|"([^"]+)"/)?.slice(1).find(Boolean) ?? "?"} as ${as} → ${expected}`, async () => {
        if (as === "enrollment") {
          gw.tokens.enrollment = (await gw.json("POST", "/api/v1/clients/enrollment-tokens", { body: { name: "m" } })).body.token;
        }
        const res = await gw.req(route.method, await route.path(), { as, ...(route.body ? { body: route.body() } : {}) });
        await res.body?.cancel();
        if (allowed) expect([401, 403]).not.toContain(res.status);
        else expect(res.status).toBe(as === "none" || as === "garbage" ? 401 : 403);
      });
    }
  }
});

describe("credential handling", () => {
  test("401 bodies use the error shape and never echo the token", async () => {
    const res = await gw.req("GET", "/api/v1/policies", { as: "garbage" });
    const body = await res.json();
    expect(body).toEqual({ code: "unauthorized", message: expect.any(String), details: [] });
    expect(JSON.stringify(body)).not.toContain("not-a-real-token");
  });

  test("a malformed Authorization header is a 401 saying so", async () => {
    const res = await gw.req("GET", "/api/v1/policies", { as: "none", headers: { authorization: "Basic abc" } });
    expect(res.status).toBe(401);
    expect((await res.json()).message).toContain("Bearer");
  });

  test("a revoked token stops working at once", async () => {
    const created = await gw.json("POST", "/api/v1/tokens", { body: { kind: "viewer", name: "short-lived" } });
    const auth = { authorization: `Bearer ${created.body.token}` };
    expect((await gw.req("GET", "/api/v1/policies", { as: "none", headers: auth })).status).toBe(200);
    expect((await gw.json("POST", `/api/v1/tokens/${created.body.record.id}/revoke`)).status).toBe(200);
    expect((await gw.req("GET", "/api/v1/policies", { as: "none", headers: auth })).status).toBe(401);
  });

  test("an enrollment token works once", async () => {
    const t = (await gw.json("POST", "/api/v1/clients/enrollment-tokens", { body: { name: "once" } })).body.token;
    const headers = { authorization: `Bearer ${t}` };
    const body = { name: "a", hostname: "a", user: "a", version: "a" };
    expect((await gw.req("POST", "/api/v1/clients/enroll", { as: "none", headers, body })).status).toBe(201);
    expect((await gw.req("POST", "/api/v1/clients/enroll", { as: "none", headers, body })).status).toBe(401);
  });

  test("a client sees only its own sessions", async () => {
    const mine = await gw.json("GET", "/api/v1/sessions", { as: "client" });
    const theirs = await gw.json("GET", "/api/v1/sessions", { as: "other_client" });
    expect(mine.body.items.map((s: { id: string }) => s.id)).toContain(gw.sessionId);
    expect(theirs.body.items.map((s: { id: string }) => s.id)).not.toContain(gw.sessionId);
    expect((await gw.json("GET", `/api/v1/sessions/${gw.sessionId}`, { as: "other_client" })).status).toBe(404);
  });

  test("repeated failures are rate-limited per address", async () => {
    await using limited = await testGateway({ failedAuth: { max: 3, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await limited.req("GET", "/api/v1/policies", { as: "garbage" })).status).toBe(401);
    expect((await limited.req("GET", "/api/v1/policies", { as: "garbage" })).status).toBe(429);
    expect((await limited.req("GET", "/api/v1/policies", { as: "admin" })).status).toBe(429);
  });
});
