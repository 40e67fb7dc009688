/** GET /api/v1/auth/whoami and POST /api/v1/policies/simulate through app.request(), every credential class. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testGateway, type Cred, type TestGateway } from "../support/gateway";

let gw: TestGateway;

const decision = (id: string, command: string, verdict: string, over: Record<string, unknown> = {}) => ({
  id,
  session_id: gw.sessionId,
  role: "default-agent",
  agent: "claude",
  tool: command.split(" ")[0],
  command,
  normalized: [command],
  verdict,
  policy: null,
  rule: null,
  pattern: null,
  reason: "recorded",
  source: "hook",
  cwd: "/work",
  decided_at: "2026-11-22T10:00:00.000Z",
  ...over,
});

beforeAll(async () => {
  gw = await testGateway();
  const posted = await gw.json("POST", "/api/v1/decisions", {
    as: "client",
    body: {
      decisions: [
        decision("sim-1", "git status", "allow"),
        decision("sim-2", "git push --force origin main", "block"),
        decision("sim-3", "ls -la", "allow"),
        decision("sim-4", "git status --short", "allow"),
        decision("sim-5", "npm test", "allow", { role: "no-such-role" }),
      ],
    },
  });
  expect(posted.status).toBe(200);
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

const DRAFT = { id: "no-git-status", name: "No git status", status: "active", blocked_commands: ["git status"] };

describe("GET /api/v1/auth/whoami", () => {
  test("every valid credential learns its class and actor", async () => {
    for (const kind of ["admin", "viewer", "client", "session", "enrollment"] as const) {
      const r = await gw.json("GET", "/api/v1/auth/whoami", { as: kind });
      expect(r.status).toBe(200);
      expect(r.body.kind).toBe(kind);
      expect(typeof r.body.actor).toBe("string");
    }
    expect((await gw.json("GET", "/api/v1/auth/whoami", { as: "client" })).body.actor).toBe(`client:${gw.clientId}`);
    expect((await gw.json("GET", "/api/v1/auth/whoami", { as: "session" })).body.actor).toBe(`session:${gw.sessionId}`);
  });

  test("no credential or an invalid one is a 401", async () => {
    expect((await gw.json("GET", "/api/v1/auth/whoami", { as: "none" })).status).toBe(401);
    expect((await gw.json("GET", "/api/v1/auth/whoami", { as: "garbage" })).status).toBe(401);
  });
});

describe("POST /api/v1/policies/simulate", () => {
  test("admins and viewers may simulate; other classes get 403, none or garbage 401", async () => {
    const expected: Record<Cred, number> = { admin: 200, viewer: 200, client: 403, other_client: 403, session: 403, enrollment: 403, none: 401, garbage: 401 };
    for (const [as, status] of Object.entries(expected) as [Cred, number][]) {
      expect([as, (await gw.json("POST", "/api/v1/policies/simulate", { as, body: { policy: DRAFT } })).status]).toEqual([as, status]);
    }
  });

  test("a new policy is added to the role: the commands it blocks are reported newly blocked", async () => {
    const r = await gw.json("POST", "/api/v1/policies/simulate", { as: "viewer", body: { policy: DRAFT, role: "default-agent" } });
    expect(r.status).toBe(200);
    expect(r.body.new_policy).toBe(true);
    expect(r.body.counts).toMatchObject({ considered: 4, replayed: 4, changed: 2, newly_blocked: 2, newly_allowed: 0 });
    const commands = r.body.changes.map((c: any) => c.command).sort();
    expect(commands).toEqual(["git status", "git status --short"]);
    const change = r.body.changes[0];
    expect(change.kind).toBe("newly_blocked");
    expect(change.before.verdict).toBe("allow");
    expect(change.after).toMatchObject({ verdict: "block", policy: "no-git-status", rule: "blocked_commands[0]" });
    // nothing was saved
    expect((await gw.json("GET", "/api/v1/policies/no-git-status")).status).toBe(404);
  });

  test("a draft of an attached policy replaces it: removing a block reports the command newly allowed", async () => {
    const stored = (await gw.json("GET", "/api/v1/policies/git-guard")).body.document;
    const draft = { ...stored, blocked_commands: [], rules: [], tests: undefined }; // its embedded tests would fail without the blocks
    const r = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: draft } });
    expect(r.status).toBe(200);
    expect(r.body.new_policy).toBe(false);
    expect(r.body.counts).toMatchObject({ considered: 5, replayed: 4, skipped: 1, newly_allowed: 1, newly_blocked: 0 });
    expect(r.body.changes[0]).toMatchObject({ kind: "newly_allowed", command: "git push --force origin main", before: { verdict: "block", policy: "git-guard" }, after: { verdict: "allow" } });
  });

  test("limit replays only the newest N decisions", async () => {
    const r = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: DRAFT, limit: 1 } });
    expect(r.status).toBe(200);
    expect(r.body.counts.considered).toBe(1);
  });

  test("an invalid draft is refused with field errors, like a save", async () => {
    const bad = { id: "no-git-status", name: "x", status: "sometimes", rules: [{ command: "", action: "explode" }] };
    const r = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: bad } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_policy");
    const paths = r.body.details.map((d: any) => d.path);
    expect(paths.some((p: string) => p.startsWith("body.policy.status"))).toBe(true);
    expect(paths.some((p: string) => p.startsWith("body.policy.rules[0]"))).toBe(true);
    const saved = await gw.json("POST", "/api/v1/policies", { body: bad });
    expect(saved.body.details.map((d: any) => d.path.replace(/^body\./, ""))).toEqual(paths.map((p: string) => p.replace(/^body\.policy\./, "")));
  });

  test("bad bodies: over the limit, unknown role, unknown field", async () => {
    const over = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: DRAFT, limit: 1001 } });
    expect(over.status).toBe(400);
    expect(over.body.details[0].path).toBe("body.limit");
    const role = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: DRAFT, role: "nobody" } });
    expect(role.status).toBe(400);
    expect(role.body.details[0].path).toBe("body.role");
    const extra = await gw.json("POST", "/api/v1/policies/simulate", { body: { policy: DRAFT, save: true } });
    expect(extra.status).toBe(400);
  });
});
