/**
 * The Store contract (src/store/types.ts): cases every backend must pass. A backend's test file
 * calls `storeContract(name, open)`; `open` gets the contract's fake clock and returns a fresh,
 * empty store plus its cleanup. After every case the audit chain of that store must verify.
 *
 * Conventions the contract fixes where types.ts is silent (every backend keeps them):
 * - time filters: `since` inclusive, `until` exclusive; any ISO-8601 input is accepted;
 * - audit `created_at` never decreases along `seq` (a clock that steps back is clamped);
 * - revoking an already revoked token or client is a conflict; touching an unknown one not_found;
 * - a page `limit` outside 1..1000 is invalid_input.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { AuditEvent } from "../../src/audit/chain";
import { auditCode, type AuditEventType } from "../../src/audit/events";
import { AirlockError, type ErrorCode } from "../../src/protocol/errors";
import { SESSION_STATUSES, type DecisionRecord, type JsonObject, type SessionStatus, type VerdictKind } from "../../src/protocol/records";
import type { DecisionInput, NewClient, NewSession, NewToken, Store, StoreOptions } from "../../src/store/types";
import { verifyStoreAudit } from "../../src/store/verify";

export type OpenStore = (options: StoreOptions) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

// ---------------------------------------------------------------- fixtures

export class FakeClock {
  private t: number;
  constructor(iso = "2026-03-01T10:00:00.000Z") {
    this.t = Date.parse(iso);
  }
  readonly now = (): Date => new Date(this.t);
  iso(): string {
    return new Date(this.t).toISOString();
  }
  advance(ms: number): string {
    this.t += ms;
    return this.iso();
  }
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
}

export const sha = (s: string): string => new Bun.CryptoHasher("sha256").update(s).digest("hex");

const policyDoc = (id: string, over: JsonObject = {}): JsonObject => ({
  id,
  name: `Policy ${id}`,
  status: "active",
  description: `policy ${id}`,
  blocked_commands: [`${id} apply`],
  rules: [],
  ...over,
});
const roleDoc = (id: string, policies: string[], over: JsonObject = {}): JsonObject => ({
  id,
  name: `Role ${id}`,
  description: `role ${id}`,
  policies,
  default_action: "allow",
  ...over,
});
const token = (id: string, kind: NewToken["kind"], over: Partial<NewToken> = {}): NewToken => ({ id, kind, name: `${kind} ${id}`, hash: sha(`secret-${id}`), ...over });
const client = (id: string): NewClient => ({ id, name: `daemon ${id}`, hostname: `${id}.local`, user: "dev", version: "0.1.0" });
const session = (id: string, over: Partial<NewSession> = {}): NewSession => ({
  id,
  client_id: null,
  agent: "claude",
  role: "default-agent",
  user: "dev",
  host: "laptop",
  cwd: "/work",
  pid: 4242,
  token_hash: sha(`session-${id}`),
  ...over,
});
/** a decision as a daemon reports it (session s1, allowed), with `over` on top */
export const decision = (id: string, over: Partial<DecisionInput> = {}): DecisionInput => ({
  id,
  session_id: "s1",
  role: "default-agent",
  agent: "claude",
  tool: "terraform",
  command: `terraform plan ${id}`,
  normalized: ["terraform plan"],
  verdict: "allow",
  policy: null,
  rule: null,
  pattern: null,
  reason: "no rule matched",
  source: "shim",
  cwd: "/work",
  decided_at: "2026-03-01T09:00:00.000Z",
  ...over,
});

async function errorOf(p: Promise<unknown>): Promise<AirlockError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(AirlockError);
    return error as AirlockError;
  }
  throw new Error("expected the call to fail");
}

async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<AirlockError> {
  const error = await errorOf(p);
  expect(error.code).toBe(code);
  return error;
}

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

const MALFORMED_CURSORS = ["not a cursor!", "", b64("{nope"), b64([1, 2]), b64({ k: "elsewhere", s: 1 }), b64({ k: "x" }), "=".repeat(4), "a".repeat(5000)];

// ---------------------------------------------------------------- the suite

export function storeContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;

    beforeEach(async () => {
      clock = new FakeClock();
      ({ store, cleanup } = await open({ now: clock.now }));
    });

    afterEach(async () => {
      try {
        const verified = await verifyStoreAudit(store);
        expect(verified.problem).toBeUndefined();
        expect(verified.ok).toBe(true);
      } finally {
        await cleanup();
      }
    });

    /** the audit head's seq now (0 for an empty chain) */
    const mark = async () => (await store.auditHead())?.seq ?? 0;
    const eventsSince = (seq: number) => store.auditSince(seq, 1000);

    async function expectEvents(since: number, expected: { type: AuditEventType; actor: string; target: string }[]): Promise<AuditEvent[]> {
      const events = await eventsSince(since);
      expect(events.map((e) => ({ type: e.type, code: e.code, actor: e.actor, target: e.target }))).toEqual(
        expected.map((x) => ({ ...x, code: auditCode(x.type) })),
      );
      for (const e of events) expect(e.created_at).toBe(clock.iso());
      return events;
    }
    async function expectNoEvents(since: number): Promise<void> {
      expect(await eventsSince(since)).toEqual([]);
      expect(await mark()).toBe(since);
    }

    test("ping answers and backend names itself", async () => {
      await store.ping();
      expect(["sqlite", "postgres"]).toContain(store.backend);
    });

    // ------------------------------------------------------------ initialize

    describe("initialize", () => {
      const seed = () => ({
        policies: [policyDoc("p-block"), policyDoc("p-off", { status: "disabled" })],
        roles: [roleDoc("r-default", ["p-block", "p-off"])],
        adminToken: token("admin-1", "admin"),
      });

      test("an empty store has no head and zero counts", async () => {
        expect(await store.auditHead()).toBeNull();
        expect(await store.counts()).toEqual({
          sessions_by_status: { ready: 0, running: 0, exited: 0, revoked: 0 },
          decisions_by_verdict: { allow: 0, require_approval: 0, block: 0 },
          policies: 0,
          roles: 0,
          clients: 0,
          audit_events: 0,
        });
      });

      test("seeds policies, roles and the admin token once, writing store.initialized", async () => {
        expect(await store.initialize(seed())).toBe(true);
        expect((await store.listPolicies()).map((p) => [p.id, p.version])).toEqual([["p-block", 1], ["p-off", 1]]);
        expect((await store.listRoles()).map((r) => r.id)).toEqual(["r-default"]);
        const admin = await store.findToken(sha("secret-admin-1"));
        expect(admin).toMatchObject({ id: "admin-1", kind: "admin", created_by: "system", created_at: clock.iso() });
        const [event] = await expectEvents(0, [{ type: "store.initialized", actor: "system", target: "store" }]);
        expect(event!.details).toMatchObject({ admin_token: "admin-1" });
        expect(JSON.stringify(event!.details)).not.toContain(sha("secret-admin-1"));
      });

      test("a second call returns false and changes nothing, whatever the seed", async () => {
        expect(await store.initialize(seed())).toBe(true);
        const head = await store.auditHead();
        const policies = await store.listPolicies();
        clock.advance(60_000);
        const other = { policies: [policyDoc("p-new")], roles: [], adminToken: token("admin-2", "admin") };
        expect(await store.initialize(other)).toBe(false);
        expect(await store.initialize(seed())).toBe(false);
        expect(await store.auditHead()).toEqual(head);
        expect(await store.listPolicies()).toEqual(policies);
        expect(await store.findToken(sha("secret-admin-2"))).toBeNull();
      });

      test("concurrent first starts: exactly one seeds", async () => {
        const results = await Promise.all([store.initialize(seed()), store.initialize(seed()), store.initialize(seed())]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.counts()).toMatchObject({ policies: 2, roles: 1, audit_events: 1 });
      });

      test("a seed that cannot be stored writes nothing and can be retried", async () => {
        const bad = { ...seed(), roles: [roleDoc("r-bad", ["p-missing"])] };
        const error = await expectCode(store.initialize(bad), "conflict");
        expect(error.message).toContain("p-missing");
        expect(await store.auditHead()).toBeNull();
        expect(await store.listPolicies()).toEqual([]);
        expect(await store.findToken(sha("secret-admin-1"))).toBeNull();
        expect(await store.initialize(seed())).toBe(true);
      });
    });

    // ------------------------------------------------------------ tokens

    describe("tokens", () => {
      test("createToken stores the hash only and audits token.created", async () => {
        const t = await store.createToken(token("t1", "admin"), "admin:root");
        expect(t).toEqual({
          id: "t1",
          kind: "admin",
          name: "admin t1",
          client_id: null,
          created_at: clock.iso(),
          created_by: "admin:root",
          expires_at: null,
          last_used_at: null,
          used_at: null,
          revoked_at: null,
        });
        expect("hash" in t).toBe(false);
        const [event] = await expectEvents(0, [{ type: "token.created", actor: "admin:root", target: "token:t1" }]);
        expect(event!.details).toMatchObject({ kind: "admin" });
        expect(JSON.stringify(event)).not.toContain(sha("secret-t1"));
      });

      test("an enrollment token is audited as client.enrollment_token.created", async () => {
        await store.createToken(token("e1", "enrollment"), "admin:root");
        await expectEvents(0, [{ type: "client.enrollment_token.created", actor: "admin:root", target: "token:e1" }]);
      });

      test("findToken returns a live token with its hash, null for an unknown one", async () => {
        await store.createToken(token("t1", "viewer"), "admin:root");
        expect(await store.findToken(sha("secret-t1"))).toMatchObject({ id: "t1", kind: "viewer", hash: sha("secret-t1") });
        expect(await store.findToken(sha("nope"))).toBeNull();
      });

      test("an expired token is not found; one expiring later is", async () => {
        const expires = new Date(clock.now().getTime() + 3_600_000).toISOString();
        await store.createToken(token("t1", "admin", { expires_at: expires }), "admin:root");
        expect(await store.findToken(sha("secret-t1"))).toMatchObject({ id: "t1", expires_at: expires });
        clock.advance(3_599_999);
        expect(await store.findToken(sha("secret-t1"))).not.toBeNull();
        clock.advance(1);
        expect(await store.findToken(sha("secret-t1"))).toBeNull();
      });

      test("revokeToken: not found afterwards, audited once, a second revoke is a conflict", async () => {
        await store.createToken(token("t1", "admin"), "admin:root");
        const before = await mark();
        clock.advance(1000);
        const revoked = await store.revokeToken("t1", "admin:root");
        expect(revoked.revoked_at).toBe(clock.iso());
        expect(await store.findToken(sha("secret-t1"))).toBeNull();
        await expectEvents(before, [{ type: "token.revoked", actor: "admin:root", target: "token:t1" }]);
        const after = await mark();
        await expectCode(store.revokeToken("t1", "admin:root"), "conflict");
        await expectCode(store.revokeToken("nope", "admin:root"), "not_found");
        await expectNoEvents(after);
      });

      test("touchToken records last use without an audit event", async () => {
        await store.createToken(token("t1", "admin"), "admin:root");
        const before = await mark();
        const at = clock.advance(5000);
        await store.touchToken("t1");
        expect((await store.findToken(sha("secret-t1")))!.last_used_at).toBe(at);
        await expectCode(store.touchToken("nope"), "not_found");
        await expectNoEvents(before);
      });

      test("listTokens lists newest first, optionally by kind", async () => {
        await store.createToken(token("a", "admin"), "system");
        clock.advance(1);
        await store.createToken(token("v", "viewer"), "system");
        clock.advance(1);
        await store.createToken(token("e", "enrollment"), "system");
        expect((await store.listTokens()).map((t) => t.id)).toEqual(["e", "v", "a"]);
        expect((await store.listTokens("viewer")).map((t) => t.id)).toEqual(["v"]);
        expect(await store.listTokens("client")).toEqual([]);
        for (const t of await store.listTokens()) expect("hash" in t).toBe(false);
      });

      test("duplicate id or secret, unknown client, bad kind: refused with no event", async () => {
        await store.createToken(token("t1", "admin"), "admin:root");
        const before = await mark();
        await expectCode(store.createToken(token("t1", "viewer", { hash: sha("other") }), "admin:root"), "conflict");
        await expectCode(store.createToken(token("t2", "viewer", { hash: sha("secret-t1") }), "admin:root"), "conflict");
        await expectCode(store.createToken(token("t3", "client", { client_id: "ghost" }), "admin:root"), "not_found");
        await expectCode(store.createToken(token("t4", "root" as never), "admin:root"), "invalid_input");
        await expectNoEvents(before);
        expect((await store.listTokens()).map((t) => t.id)).toEqual(["t1"]);
      });
    });

    // ------------------------------------------------------------ policies

    describe("policies", () => {
      test("create, get, list (by id)", async () => {
        const p = await store.createPolicy(policyDoc("zeta"), "admin:a");
        expect(p).toEqual({ id: "zeta", version: 1, document: policyDoc("zeta"), created_at: clock.iso(), updated_at: clock.iso() });
        await store.createPolicy(policyDoc("alpha"), "admin:a");
        expect((await store.listPolicies()).map((x) => x.id)).toEqual(["alpha", "zeta"]);
        expect(await store.getPolicy("zeta")).toEqual(p);
        expect(await store.getPolicy("nope")).toBeNull();
        const events = await expectEvents(0, [
          { type: "policy.created", actor: "admin:a", target: "policy:zeta" },
          { type: "policy.created", actor: "admin:a", target: "policy:alpha" },
        ]);
        expect(events[0]!.details).toMatchObject({ version: 1 });
      });

      test("a duplicate id is a conflict; a document without id is invalid; neither is audited", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        const before = await mark();
        await expectCode(store.createPolicy(policyDoc("p1", { name: "other" }), "admin:a"), "conflict");
        await expectCode(store.createPolicy({ name: "no id" }, "admin:a"), "invalid_input");
        await expectNoEvents(before);
        expect((await store.getPolicy("p1"))!.document.name).toBe("Policy p1");
      });

      test("update replaces the document and bumps the version", async () => {
        const created = await store.createPolicy(policyDoc("p1"), "admin:a");
        const before = await mark();
        clock.advance(10_000);
        const updated = await store.updatePolicy("p1", policyDoc("p1", { status: "disabled" }), "admin:b");
        expect(updated).toEqual({ id: "p1", version: 2, document: policyDoc("p1", { status: "disabled" }), created_at: created.created_at, updated_at: clock.iso() });
        expect(await store.getPolicy("p1")).toEqual(updated);
        const [event] = await expectEvents(before, [{ type: "policy.updated", actor: "admin:b", target: "policy:p1" }]);
        expect(event!.details).toMatchObject({ version: 2 });
        expect((await store.updatePolicy("p1", policyDoc("p1"), "admin:b", 2)).version).toBe(3);
      });

      test("ifVersion that is not current is a conflict and changes nothing", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        await store.updatePolicy("p1", policyDoc("p1", { name: "v2" }), "admin:a");
        const before = await mark();
        const error = await expectCode(store.updatePolicy("p1", policyDoc("p1", { name: "stale" }), "admin:a", 1), "conflict");
        expect(error.message).toContain("2");
        expect(await store.getPolicy("p1")).toMatchObject({ version: 2, document: { name: "v2" } });
        await expectNoEvents(before);
      });

      test("update of an unknown policy is not_found; a document naming another id is invalid", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        const before = await mark();
        await expectCode(store.updatePolicy("nope", policyDoc("nope"), "admin:a"), "not_found");
        await expectCode(store.updatePolicy("p1", policyDoc("p2"), "admin:a"), "invalid_input");
        await expectNoEvents(before);
      });

      test("delete removes it; unknown is not_found", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        const before = await mark();
        await store.deletePolicy("p1", "admin:a");
        expect(await store.getPolicy("p1")).toBeNull();
        await expectEvents(before, [{ type: "policy.deleted", actor: "admin:a", target: "policy:p1" }]);
        const after = await mark();
        await expectCode(store.deletePolicy("p1", "admin:a"), "not_found");
        await expectNoEvents(after);
      });

      test("delete while attached to a role is a conflict naming the role", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        await store.createPolicy(policyDoc("p2"), "admin:a");
        await store.createRole(roleDoc("r-one", ["p1"]), "admin:a");
        await store.createRole(roleDoc("r-two", ["p2", "p1"]), "admin:a");
        const before = await mark();
        const error = await expectCode(store.deletePolicy("p1", "admin:a"), "conflict");
        expect(error.message).toContain("r-one");
        expect(error.message).toContain("r-two");
        expect(await store.getPolicy("p1")).not.toBeNull();
        await expectNoEvents(before);
        await store.updateRole("r-one", roleDoc("r-one", []), "admin:a");
        await store.deleteRole("r-two", "admin:a");
        await store.deletePolicy("p1", "admin:a");
        expect(await store.getPolicy("p1")).toBeNull();
      });
    });

    // ------------------------------------------------------------ roles

    describe("roles", () => {
      beforeEach(async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        await store.createPolicy(policyDoc("p2"), "admin:a");
      });

      test("create, get, list", async () => {
        const before = await mark();
        const r = await store.createRole(roleDoc("r1", ["p2", "p1"]), "admin:a");
        expect(r).toEqual({ id: "r1", version: 1, document: roleDoc("r1", ["p2", "p1"]), created_at: clock.iso(), updated_at: clock.iso() });
        expect(await store.getRole("r1")).toEqual(r);
        expect(await store.getRole("nope")).toBeNull();
        await store.createRole(roleDoc("a-role", []), "admin:a");
        expect((await store.listRoles()).map((x) => x.id)).toEqual(["a-role", "r1"]);
        await expectEvents(before, [
          { type: "role.created", actor: "admin:a", target: "role:r1" },
          { type: "role.created", actor: "admin:a", target: "role:a-role" },
        ]);
      });

      test("an unknown attached policy is a conflict naming it, with no event", async () => {
        const before = await mark();
        const error = await expectCode(store.createRole(roleDoc("r1", ["p1", "ghost"]), "admin:a"), "conflict");
        expect(error.message).toContain("ghost");
        expect(await store.getRole("r1")).toBeNull();
        await expectCode(store.createRole(roleDoc("r2", "p1" as never), "admin:a"), "invalid_input");
        await expectNoEvents(before);
      });

      test("a duplicate role is a conflict", async () => {
        await store.createRole(roleDoc("r1", []), "admin:a");
        const before = await mark();
        await expectCode(store.createRole(roleDoc("r1", ["p1"]), "admin:a"), "conflict");
        await expectNoEvents(before);
      });

      test("update bumps the version, honours ifVersion and checks attachments", async () => {
        const created = await store.createRole(roleDoc("r1", ["p1"]), "admin:a");
        const before = await mark();
        clock.advance(1000);
        const updated = await store.updateRole("r1", roleDoc("r1", ["p1", "p2"], { default_action: "require_approval" }), "admin:b", 1);
        expect(updated).toMatchObject({ version: 2, created_at: created.created_at, updated_at: clock.iso(), document: { policies: ["p1", "p2"] } });
        await expectEvents(before, [{ type: "role.updated", actor: "admin:b", target: "role:r1" }]);
        const after = await mark();
        await expectCode(store.updateRole("r1", roleDoc("r1", []), "admin:b", 1), "conflict");
        const error = await expectCode(store.updateRole("r1", roleDoc("r1", ["ghost"]), "admin:b"), "conflict");
        expect(error.message).toContain("ghost");
        await expectCode(store.updateRole("nope", roleDoc("nope", []), "admin:b"), "not_found");
        await expectNoEvents(after);
        expect(await store.getRole("r1")).toEqual(updated);
        // the failed update left the attachments alone
        await expectCode(store.deletePolicy("p2", "admin:a"), "conflict");
      });

      test("delete removes it and its attachments; unknown is not_found", async () => {
        await store.createRole(roleDoc("r1", ["p1"]), "admin:a");
        const before = await mark();
        await store.deleteRole("r1", "admin:a");
        expect(await store.getRole("r1")).toBeNull();
        await expectEvents(before, [{ type: "role.deleted", actor: "admin:a", target: "role:r1" }]);
        await expectCode(store.deleteRole("r1", "admin:a"), "not_found");
        await store.deletePolicy("p1", "admin:a");
      });
    });

    // ------------------------------------------------------------ bundles

    describe("role bundle", () => {
      beforeEach(async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        await store.createPolicy(policyDoc("p2", { status: "disabled" }), "admin:a");
        await store.createPolicy(policyDoc("unattached"), "admin:a");
        await store.createRole(roleDoc("r1", ["p2", "p1"]), "admin:a");
      });

      test("holds the role and its policies in the role's order, disabled ones included", async () => {
        const bundle = (await store.getRoleBundle("r1"))!;
        expect(bundle.role).toEqual((await store.getRole("r1"))!);
        expect(bundle.policies.map((p) => [p.id, p.document.status])).toEqual([
          ["p2", "disabled"],
          ["p1", "active"],
        ]);
        expect(bundle.policies[0]).toEqual((await store.getPolicy("p2"))!);
        expect(typeof bundle.etag).toBe("string");
        expect(bundle.etag.length).toBeGreaterThan(0);
        expect(await store.getRoleBundle("nope")).toBeNull();
      });

      test("the etag changes when the role or an attached policy changes, and not otherwise", async () => {
        const seen = new Set<string>();
        const etag = async () => (await store.getRoleBundle("r1"))!.etag;
        const first = await etag();
        seen.add(first);
        expect(await etag()).toBe(first);

        clock.advance(1000);
        await store.updatePolicy("unattached", policyDoc("unattached", { name: "x" }), "admin:a");
        await store.createPolicy(policyDoc("p3"), "admin:a");
        await store.createRole(roleDoc("r2", ["p1"]), "admin:a");
        await store.createSession(session("s1"), "admin:a");
        await store.ingestDecisions(null, [decision("d1")], "admin:a");
        expect(await etag()).toBe(first);

        clock.advance(1000);
        await store.updateRole("r1", roleDoc("r1", ["p2", "p1"], { description: "changed" }), "admin:a");
        const afterRole = await etag();
        expect(seen.has(afterRole)).toBe(false);
        seen.add(afterRole);

        clock.advance(1000);
        await store.updatePolicy("p1", policyDoc("p1", { rules: [{ command: "helm upgrade", action: "require_approval" }] }), "admin:a");
        const afterPolicy = await etag();
        expect(seen.has(afterPolicy)).toBe(false);
        seen.add(afterPolicy);

        clock.advance(1000);
        await store.updateRole("r1", roleDoc("r1", ["p1"], { description: "changed" }), "admin:a");
        const afterDetach = await etag();
        expect(seen.has(afterDetach)).toBe(false);
        seen.add(afterDetach);
        await store.updatePolicy("p2", policyDoc("p2", { status: "active" }), "admin:a"); // detached now
        expect(await etag()).toBe(afterDetach);
      });
    });

    // ------------------------------------------------------------ clients

    describe("clients and enrollment", () => {
      const enroll = (hash = sha("secret-e1"), id = "c1") => store.enrollClient(hash, client(id), token(`ct-${id}`, "client"));

      beforeEach(async () => {
        await store.createToken(token("e1", "enrollment"), "admin:a");
      });

      test("enrollment uses the token once and creates the client and its token", async () => {
        const before = await mark();
        clock.advance(1000);
        const { client: c, token: t } = await enroll();
        expect(c).toEqual({ ...client("c1"), created_at: clock.iso(), last_seen_at: null, revoked_at: null });
        expect(t).toMatchObject({ id: "ct-c1", kind: "client", client_id: "c1", created_at: clock.iso(), revoked_at: null });
        expect("hash" in t).toBe(false);
        expect(await store.getClient("c1")).toEqual(c);
        expect(await store.findToken(sha("secret-ct-c1"))).toMatchObject({ id: "ct-c1", client_id: "c1" });
        expect(await store.findToken(sha("secret-e1"))).toBeNull();
        expect((await store.listTokens("enrollment"))[0]!.used_at).toBe(clock.iso());
        const [event] = await expectEvents(before, [{ type: "client.enrolled", actor: "client:c1", target: "client:c1" }]);
        expect(JSON.stringify(event)).not.toContain(sha("secret-ct-c1"));
        expect(JSON.stringify(event)).not.toContain(sha("secret-e1"));
      });

      test("a second use is unauthorized and creates nothing", async () => {
        await enroll();
        const before = await mark();
        await expectCode(enroll(sha("secret-e1"), "c2"), "unauthorized");
        expect(await store.getClient("c2")).toBeNull();
        expect(await store.findToken(sha("secret-ct-c2"))).toBeNull();
        expect(await store.listClients()).toHaveLength(1);
        await expectNoEvents(before);
      });

      test("unknown, revoked, expired or non-enrollment tokens are unauthorized", async () => {
        await store.createToken(token("e-rev", "enrollment"), "admin:a");
        await store.revokeToken("e-rev", "admin:a");
        await store.createToken(token("e-exp", "enrollment", { expires_at: new Date(clock.now().getTime() + 1000).toISOString() }), "admin:a");
        await store.createToken(token("adm", "admin"), "admin:a");
        clock.advance(1000);
        const before = await mark();
        await expectCode(enroll(sha("never-issued"), "c1"), "unauthorized");
        await expectCode(enroll(sha("secret-e-rev"), "c2"), "unauthorized");
        await expectCode(enroll(sha("secret-e-exp"), "c3"), "unauthorized");
        await expectCode(enroll(sha("secret-adm"), "c4"), "unauthorized");
        expect(await store.listClients()).toEqual([]);
        await expectNoEvents(before);
      });

      test("a failed enrollment leaves the enrollment token unused", async () => {
        await enroll();
        await store.createToken(token("e2", "enrollment"), "admin:a");
        const before = await mark();
        await expectCode(enroll(sha("secret-e2"), "c1"), "conflict"); // client id taken
        expect(await store.findToken(sha("secret-e2"))).toMatchObject({ id: "e2", used_at: null });
        await expectNoEvents(before);
        await enroll(sha("secret-e2"), "c2");
      });

      test("revokeClient revokes the client and its tokens", async () => {
        await enroll();
        const before = await mark();
        clock.advance(1000);
        const revoked = await store.revokeClient("c1", "admin:a");
        expect(revoked.revoked_at).toBe(clock.iso());
        expect(await store.findToken(sha("secret-ct-c1"))).toBeNull();
        expect((await store.listTokens("client"))[0]!.revoked_at).toBe(clock.iso());
        await expectEvents(before, [{ type: "client.revoked", actor: "admin:a", target: "client:c1" }]);
        const after = await mark();
        await expectCode(store.revokeClient("c1", "admin:a"), "conflict");
        await expectCode(store.revokeClient("nope", "admin:a"), "not_found");
        await expectNoEvents(after);
      });

      test("touchClient, listClients (newest first), getClient", async () => {
        await enroll();
        clock.advance(1);
        await store.createToken(token("e2", "enrollment"), "admin:a");
        await enroll(sha("secret-e2"), "c2");
        const before = await mark();
        const at = clock.advance(5000);
        await store.touchClient("c1");
        expect((await store.getClient("c1"))!.last_seen_at).toBe(at);
        await expectCode(store.touchClient("nope"), "not_found");
        expect((await store.listClients()).map((c) => c.id)).toEqual(["c2", "c1"]);
        expect(await store.getClient("nope")).toBeNull();
        await expectNoEvents(before);
      });
    });

    // ------------------------------------------------------------ sessions

    describe("sessions", () => {
      test("create: ready, audited, findable by its token hash", async () => {
        const s = await store.createSession(session("s1"), "client:c0");
        expect(s).toEqual({
          id: "s1",
          client_id: null,
          agent: "claude",
          role: "default-agent",
          user: "dev",
          host: "laptop",
          cwd: "/work",
          pid: 4242,
          status: "ready",
          created_at: clock.iso(),
          updated_at: clock.iso(),
          started_at: null,
          ended_at: null,
          exit_code: null,
          revoked_by: null,
        });
        expect("token_hash" in s).toBe(false);
        expect(await store.getSession("s1")).toEqual(s);
        expect(await store.findSessionByToken(sha("session-s1"))).toEqual(s);
        expect(await store.findSessionByToken(sha("nope"))).toBeNull();
        expect(await store.getSession("nope")).toBeNull();
        const [event] = await expectEvents(0, [{ type: "session.created", actor: "client:c0", target: "session:s1" }]);
        expect(JSON.stringify(event)).not.toContain(sha("session-s1"));
      });

      test("duplicate id or unknown client is refused with no event", async () => {
        await store.createSession(session("s1"), "system");
        const before = await mark();
        await expectCode(store.createSession(session("s1", { token_hash: sha("other") }), "system"), "conflict");
        await expectCode(store.createSession(session("s2", { client_id: "ghost" }), "system"), "not_found");
        await expectNoEvents(before);
      });

      test("a session can belong to an enrolled client", async () => {
        await store.createToken(token("e1", "enrollment"), "admin:a");
        await store.enrollClient(sha("secret-e1"), client("c1"), token("ct", "client"));
        expect((await store.createSession(session("s1", { client_id: "c1" }), "client:c1")).client_id).toBe("c1");
      });

      const LEGAL = new Set(["ready>running", "running>exited", "ready>revoked", "running>revoked"]);
      const EVENT: Partial<Record<SessionStatus, AuditEventType>> = { running: "session.started", exited: "session.exited", revoked: "session.revoked" };

      async function sessionIn(status: SessionStatus, id: string) {
        await store.createSession(session(id), "system");
        if (status === "running" || status === "exited") await store.transitionSession(id, "running", "system");
        if (status === "exited") await store.transitionSession(id, "exited", "system", { exit_code: 0 });
        if (status === "revoked") await store.transitionSession(id, "revoked", "admin:a");
      }

      for (const from of SESSION_STATUSES) {
        for (const to of SESSION_STATUSES) {
          const legal = LEGAL.has(`${from}>${to}`);
          test(`${from} → ${to} is ${legal ? "allowed" : "a conflict"}`, async () => {
            await sessionIn(from, "s1");
            const before = await mark();
            const prior = (await store.getSession("s1"))!;
            clock.advance(1000);
            if (!legal) {
              await expectCode(store.transitionSession("s1", to, "admin:a"), "conflict");
              expect(await store.getSession("s1")).toEqual(prior);
              await expectNoEvents(before);
              return;
            }
            const s = await store.transitionSession("s1", to, "admin:a", { exit_code: 3 });
            expect(s.status).toBe(to);
            expect(s.updated_at).toBe(clock.iso());
            const [event] = await expectEvents(before, [{ type: EVENT[to]!, actor: "admin:a", target: "session:s1" }]);
            expect(event!.details).toMatchObject({ from, to });
            if (to === "running") expect(s).toMatchObject({ started_at: clock.iso(), ended_at: null });
            if (to === "exited") expect(s).toMatchObject({ exit_code: 3, ended_at: clock.iso(), started_at: prior.started_at });
            if (to === "revoked") expect(s).toMatchObject({ revoked_by: "admin:a", ended_at: clock.iso(), exit_code: null });
          });
        }
      }

      test("transition of an unknown session is not_found; a revoked session is still found by token", async () => {
        await expectCode(store.transitionSession("nope", "running", "system"), "not_found");
        await sessionIn("revoked", "s1");
        expect(await store.findSessionByToken(sha("session-s1"))).toMatchObject({ id: "s1", status: "revoked" });
      });

      test("list filters by status, agent, role, user, host, client and time", async () => {
        await store.createToken(token("e1", "enrollment"), "admin:a");
        await store.enrollClient(sha("secret-e1"), client("c1"), token("ct", "client"));
        const t0 = clock.iso();
        await store.createSession(session("a", { agent: "codex" }), "system");
        const t1 = clock.advance(1000);
        await store.createSession(session("b", { role: "ops", client_id: "c1" }), "system");
        const t2 = clock.advance(1000);
        await store.createSession(session("c", { user: "bob", host: "ci" }), "system");
        await store.transitionSession("c", "running", "system");
        const ids = async (filter: Parameters<Store["listSessions"]>[0]) => (await store.listSessions(filter, { limit: 100 })).items.map((s) => s.id);
        expect(await ids({})).toEqual(["c", "b", "a"]);
        expect(await ids({ status: "running" })).toEqual(["c"]);
        expect(await ids({ status: "ready" })).toEqual(["b", "a"]);
        expect(await ids({ agent: "codex" })).toEqual(["a"]);
        expect(await ids({ role: "ops" })).toEqual(["b"]);
        expect(await ids({ user: "bob" })).toEqual(["c"]);
        expect(await ids({ host: "ci" })).toEqual(["c"]);
        expect(await ids({ client_id: "c1" })).toEqual(["b"]);
        expect(await ids({ since: t1 })).toEqual(["c", "b"]);
        expect(await ids({ until: t1 })).toEqual(["a"]);
        expect(await ids({ since: t0, until: t2 })).toEqual(["b", "a"]);
        expect(await ids({ since: t1, status: "ready" })).toEqual(["b"]);
        expect(await ids({ agent: "nobody" })).toEqual([]);
        await expectCode(store.listSessions({ status: "paused" as never }, { limit: 10 }), "invalid_input");
        await expectCode(store.listSessions({ since: "yesterday" }, { limit: 10 }), "invalid_input");
      });

      test("keyset pagination: newest first, no duplicates or gaps, stable while rows are added", async () => {
        const created: string[] = [];
        for (let i = 0; i < 23; i++) {
          if (i % 3 === 0) clock.advance(1000); // groups sharing a timestamp
          await store.createSession(session(`s${String(i).padStart(2, "0")}`), "system");
          created.push(`s${String(i).padStart(2, "0")}`);
        }
        const expected = [...created].reverse();
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listSessions({}, { limit: 5, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((s) => s.id));
          cursor = page.next_cursor ?? undefined;
          if (pages++ === 0) {
            clock.advance(1000);
            await store.createSession(session("late"), "system"); // newer: must not shift later pages
          }
        } while (cursor);
        expect(pages).toBe(5);
        expect(seen).toEqual(expected);
        const last = await store.listSessions({}, { limit: 24 });
        expect(last.items).toHaveLength(24);
        expect(last.next_cursor).toBeNull();
        const filtered = await store.listSessions({ status: "ready" }, { limit: 10 });
        const next = await store.listSessions({ status: "ready" }, { limit: 10, cursor: filtered.next_cursor! });
        expect(new Set([...filtered.items, ...next.items].map((s) => s.id)).size).toBe(20);
      });

      test("a malformed cursor or limit is invalid_input", async () => {
        await store.createSession(session("s1"), "system");
        for (const cursor of MALFORMED_CURSORS) {
          const error = await expectCode(store.listSessions({}, { limit: 10, cursor }), "invalid_input");
          expect(error.details[0]?.path).toBe("cursor");
        }
        await expectCode(store.listSessions({}, { limit: 10, cursor: b64({ k: "sessions", t: 5, r: "x" }) }), "invalid_input");
        for (const limit of [0, -1, 1.5, 100_000]) await expectCode(store.listSessions({}, { limit }), "invalid_input");
      });
    });

    // ------------------------------------------------------------ decisions

    describe("decisions", () => {
      const batch = [
        decision("d1", { verdict: "allow" }),
        decision("d2", { verdict: "block", policy: "infra", rule: "blocked_commands[0]", command: "terraform apply", pattern: "terraform apply" }),
        decision("d3", { verdict: "require_approval", policy: "helm", rule: "rules[0]", command: "helm upgrade web" }),
      ];

      test("ingest stores each new decision and audits it by verdict", async () => {
        await store.createToken(token("e1", "enrollment"), "admin:a");
        await store.enrollClient(sha("secret-e1"), client("c1"), token("ct", "client"));
        const before = await mark();
        clock.advance(1000);
        expect(await store.ingestDecisions("c1", batch, "client:c1")).toEqual({ accepted: 3, duplicates: 0 });
        const events = await expectEvents(before, [
          { type: "decision.allowed", actor: "client:c1", target: "decision:d1" },
          { type: "decision.blocked", actor: "client:c1", target: "decision:d2" },
          { type: "decision.approval_required", actor: "client:c1", target: "decision:d3" },
        ]);
        expect(events[1]!.details).toMatchObject({ verdict: "block", command: "terraform apply", policy: "infra", rule: "blocked_commands[0]", session_id: "s1" });
        const d2 = await store.getDecision("d2");
        expect(d2).toEqual({ ...batch[1]!, client_id: "c1", received_at: clock.iso() } as DecisionRecord);
        expect(await store.getDecision("nope")).toBeNull();
      });

      test("decisionStats: per minute by verdict inside the window, top blocked commands by count", async () => {
        // the clock is 10:00; a 30-minute window starts at 09:31
        const at = (hhmm: string, s = "15") => `2026-03-01T${hhmm}:${s}.000Z`;
        await store.ingestDecisions(null, [
          decision("old", { verdict: "block", command: "terraform destroy", decided_at: at("09:30", "59") }),
          decision("a1", { verdict: "allow", decided_at: at("09:31", "00") }),
          decision("b1", { verdict: "block", command: "terraform apply", decided_at: at("09:31") }),
          decision("b2", { verdict: "block", command: "kubectl delete ns prod", decided_at: at("09:45") }),
          decision("b3", { verdict: "block", command: "terraform apply", decided_at: at("09:45", "40") }),
          decision("r1", { verdict: "require_approval", command: "helm upgrade web", decided_at: at("09:45", "50") }),
        ], "admin:a");
        const stats = await store.decisionStats(30, 10);
        expect(stats.since).toBe("2026-03-01T09:31:00.000Z");
        expect(stats.minutes).toBe(30);
        expect(stats.per_minute).toEqual([
          { minute: "2026-03-01T09:31", allow: 1, require_approval: 0, block: 1 },
          { minute: "2026-03-01T09:45", allow: 0, require_approval: 1, block: 2 },
        ]);
        expect(stats.top_blocked).toEqual([
          { command: "terraform apply", count: 2, last_at: at("09:45", "40") },
          { command: "kubectl delete ns prod", count: 1, last_at: at("09:45") },
        ]);
        expect((await store.decisionStats(30, 1)).top_blocked.map((t) => t.command)).toEqual(["terraform apply"]);
        expect((await store.decisionStats(60, 10)).top_blocked.map((t) => t.command)).toContain("terraform destroy");
      });

      test("the same batch twice: accepted 0, duplicates n, nothing new written", async () => {
        await store.ingestDecisions(null, batch, "admin:a");
        const before = await mark();
        const stored = await store.getDecision("d1");
        clock.advance(1000);
        expect(await store.ingestDecisions(null, batch, "admin:a")).toEqual({ accepted: 0, duplicates: 3 });
        await expectNoEvents(before);
        expect(await store.getDecision("d1")).toEqual(stored);
        expect((await store.counts()).decisions_by_verdict).toEqual({ allow: 1, require_approval: 1, block: 1 });
      });

      test("a mixed batch audits only the new decisions; a repeat inside a batch is a duplicate", async () => {
        await store.ingestDecisions(null, batch.slice(0, 2), "admin:a");
        const before = await mark();
        const mixed = [batch[0]!, decision("d4", { verdict: "block" }), batch[1]!, batch[2]!, decision("d4", { verdict: "block" })];
        expect(await store.ingestDecisions(null, mixed, "admin:a")).toEqual({ accepted: 2, duplicates: 3 });
        await expectEvents(before, [
          { type: "decision.blocked", actor: "admin:a", target: "decision:d4" },
          { type: "decision.approval_required", actor: "admin:a", target: "decision:d3" },
        ]);
        expect(await store.ingestDecisions(null, [], "admin:a")).toEqual({ accepted: 0, duplicates: 0 });
      });

      test("an invalid decision or unknown client rejects the whole batch", async () => {
        const before = await mark();
        const error = await expectCode(store.ingestDecisions(null, [decision("ok1"), decision("bad", { verdict: "maybe" as VerdictKind })], "admin:a"), "invalid_input");
        expect(error.details[0]?.path).toBe("[1].verdict");
        await expectCode(store.ingestDecisions(null, [decision("bad", { decided_at: "not a time" })], "admin:a"), "invalid_input");
        await expectCode(store.ingestDecisions("ghost", [decision("ok2")], "client:ghost"), "not_found");
        expect(await store.getDecision("ok1")).toBeNull();
        expect(await store.getDecision("ok2")).toBeNull();
        await expectNoEvents(before);
      });

      test("list filters: verdict, session, role, agent, tool, policy, rule, client, q, time", async () => {
        await store.createToken(token("e1", "enrollment"), "admin:a");
        await store.enrollClient(sha("secret-e1"), client("c1"), token("ct", "client"));
        await store.ingestDecisions(
          "c1",
          [
            decision("a", { command: "terraform apply -auto-approve", verdict: "block", policy: "infra", rule: "blocked_commands[0]", decided_at: "2026-03-01T09:00:00.000Z" }),
            decision("b", { command: "Terraform Plan", tool: "terraform", decided_at: "2026-03-01T09:00:01.000Z" }),
          ],
          "client:c1",
        );
        await store.ingestDecisions(
          null,
          [
            decision("c", { command: "kubectl delete ns prod", tool: "kubectl", agent: "codex", session_id: "s2", role: "ops", verdict: "require_approval", policy: "k8s", rule: "rules[1]", decided_at: "2026-03-01T09:00:02.000Z" }),
            decision("d", { command: "echo 100%_done", tool: "echo", decided_at: "2026-03-01T09:00:03.000Z" }),
            decision("e", { command: "echo 100 percent", tool: "echo", decided_at: "2026-03-01T09:00:03.000Z" }),
          ],
          "admin:a",
        );
        const ids = async (filter: Parameters<Store["listDecisions"]>[0]) => (await store.listDecisions(filter, { limit: 100 })).items.map((d) => d.id);
        expect(await ids({})).toEqual(["e", "d", "c", "b", "a"]);
        expect(await ids({ verdict: "block" })).toEqual(["a"]);
        expect(await ids({ verdict: "require_approval" })).toEqual(["c"]);
        expect(await ids({ session_id: "s2" })).toEqual(["c"]);
        expect(await ids({ role: "ops" })).toEqual(["c"]);
        expect(await ids({ agent: "codex" })).toEqual(["c"]);
        expect(await ids({ tool: "echo" })).toEqual(["e", "d"]);
        expect(await ids({ policy: "infra" })).toEqual(["a"]);
        expect(await ids({ rule: "rules[1]" })).toEqual(["c"]);
        expect(await ids({ client_id: "c1" })).toEqual(["b", "a"]);
        expect(await ids({ q: "TERRAFORM" })).toEqual(["b", "a"]);
        expect(await ids({ q: "plan" })).toEqual(["b"]);
        expect(await ids({ q: "%" })).toEqual(["d"]);
        expect(await ids({ q: "%_d" })).toEqual(["d"]);
        expect(await ids({ q: "_" })).toEqual(["d"]);
        expect(await ids({ q: "100" })).toEqual(["e", "d"]);
        expect(await ids({ q: "terraform", verdict: "allow" })).toEqual(["b"]);
        expect(await ids({ since: "2026-03-01T09:00:01.000Z" })).toEqual(["e", "d", "c", "b"]);
        expect(await ids({ until: "2026-03-01T09:00:01.000Z" })).toEqual(["a"]);
        expect(await ids({ since: "2026-03-01T09:00:01Z", until: "2026-03-01T09:00:03.000Z" })).toEqual(["c", "b"]);
        expect(await ids({ verdict: "allow", since: "2026-03-01T09:00:02.000Z" })).toEqual(["e", "d"]);
        await expectCode(store.listDecisions({ verdict: "deny" as VerdictKind }, { limit: 10 }), "invalid_input");
      });

      test("keyset pagination: newest decided first, no duplicates or gaps, malformed cursor rejected", async () => {
        const all: DecisionInput[] = [];
        for (let i = 0; i < 37; i++) {
          const second = String(Math.floor(i / 4)).padStart(2, "0"); // four per timestamp
          all.push(decision(`d${String(i).padStart(2, "0")}`, { decided_at: `2026-03-01T09:00:${second}.000Z`, verdict: i % 5 === 0 ? "block" : "allow" }));
        }
        // ingested out of order: the order is by decision time, then by arrival
        await store.ingestDecisions(null, all.slice(20), "admin:a");
        await store.ingestDecisions(null, all.slice(0, 20), "admin:a");
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listDecisions({}, { limit: 6, ...(cursor ? { cursor } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(6);
          seen.push(...page.items.map((d) => d.id));
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        expect(seen).toHaveLength(37);
        expect(new Set(seen).size).toBe(37);
        const times = seen.map((id) => all.find((d) => d.id === id)!.decided_at);
        expect(times).toEqual([...times].sort().reverse());
        const blocked: string[] = [];
        cursor = undefined;
        do {
          const page = await store.listDecisions({ verdict: "block" }, { limit: 2, ...(cursor ? { cursor } : {}) });
          blocked.push(...page.items.map((d) => d.id));
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        expect(blocked).toEqual(["d35", "d30", "d25", "d20", "d15", "d10", "d05", "d00"]);
        for (const cursor of [...MALFORMED_CURSORS, b64({ k: "sessions", t: "x", r: 1 })]) {
          await expectCode(store.listDecisions({}, { limit: 10, cursor }), "invalid_input");
        }
      });
    });

    // ------------------------------------------------------------ audit

    describe("audit trail", () => {
      /** one of every mutation, each at its own second */
      async function everything(): Promise<void> {
        await store.initialize({ policies: [policyDoc("p1")], roles: [roleDoc("r1", ["p1"])], adminToken: token("root", "admin") });
        clock.advance(1000);
        await store.createToken(token("v1", "viewer"), "admin:root");
        clock.advance(1000);
        await store.createToken(token("e1", "enrollment"), "admin:root");
        clock.advance(1000);
        await store.enrollClient(sha("secret-e1"), client("c1"), token("ct1", "client"));
        clock.advance(1000);
        await store.createPolicy(policyDoc("p2"), "admin:root");
        clock.advance(1000);
        await store.updatePolicy("p2", policyDoc("p2", { status: "disabled" }), "admin:root");
        clock.advance(1000);
        await store.createRole(roleDoc("r2", ["p2"]), "admin:root");
        clock.advance(1000);
        await store.updateRole("r2", roleDoc("r2", []), "admin:root");
        clock.advance(1000);
        await store.deleteRole("r2", "admin:root");
        clock.advance(1000);
        await store.deletePolicy("p2", "admin:root");
        clock.advance(1000);
        await store.createSession(session("s1", { client_id: "c1" }), "client:c1");
        clock.advance(1000);
        await store.transitionSession("s1", "running", "client:c1");
        clock.advance(1000);
        await store.ingestDecisions("c1", [decision("d1"), decision("d2", { verdict: "block" }), decision("d3", { verdict: "require_approval" })], "client:c1");
        clock.advance(1000);
        await store.transitionSession("s1", "exited", "client:c1", { exit_code: 0 });
        clock.advance(1000);
        await store.createSession(session("s2"), "admin:root");
        clock.advance(1000);
        await store.transitionSession("s2", "revoked", "admin:root");
        clock.advance(1000);
        await store.revokeToken("v1", "admin:root");
        clock.advance(1000);
        await store.revokeClient("c1", "admin:root");
      }
      const TYPES: AuditEventType[] = [
        "store.initialized",
        "token.created",
        "client.enrollment_token.created",
        "client.enrolled",
        "policy.created",
        "policy.updated",
        "role.created",
        "role.updated",
        "role.deleted",
        "policy.deleted",
        "session.created",
        "session.started",
        "decision.allowed",
        "decision.blocked",
        "decision.approval_required",
        "session.exited",
        "session.created",
        "session.revoked",
        "token.revoked",
        "client.revoked",
      ];

      test("every mutation wrote exactly one event, in order, and the chain verifies", async () => {
        const start = clock.iso();
        await everything();
        const events: AuditEvent[] = [];
        for await (const e of store.iterateAudit()) events.push(e);
        expect(events.map((e) => e.type)).toEqual(TYPES);
        expect(events.map((e) => e.seq)).toEqual(TYPES.map((_, i) => i + 1));
        for (const e of events) {
          expect(e.code).toBe(auditCode(e.type));
          expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
          expect(e.created_at >= start).toBe(true);
        }
        for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash).toBe(events[i - 1]!.hash);
        expect(await store.auditHead()).toEqual({ seq: TYPES.length, hash: events.at(-1)!.hash });
        const verified = await verifyStoreAudit(store);
        expect(verified).toEqual({ ok: true, checked: TYPES.length, head: { seq: TYPES.length, hash: events.at(-1)!.hash } });
        expect((await store.counts()).audit_events).toBe(TYPES.length);
      });

      test("no event carries a token secret's hash", async () => {
        await everything();
        const text = JSON.stringify(await store.auditSince(0, 1000));
        for (const id of ["root", "v1", "e1", "ct1"]) expect(text).not.toContain(sha(`secret-${id}`));
        for (const id of ["s1", "s2"]) expect(text).not.toContain(sha(`session-${id}`));
      });

      test("listAudit filters by exact type, type prefix, actor, target and time", async () => {
        const t0 = clock.iso();
        await everything();
        const list = async (filter: Parameters<Store["listAudit"]>[0]) => (await store.listAudit(filter, { limit: 100 })).items;
        const all = await list({});
        expect(all.map((e) => e.seq)).toEqual(TYPES.map((_, i) => TYPES.length - i));
        expect((await list({ type: "policy.created" })).map((e) => e.target)).toEqual(["policy:p2"]);
        expect((await list({ type: "session." })).map((e) => e.type)).toEqual(["session.revoked", "session.created", "session.exited", "session.started", "session.created"]);
        expect((await list({ type: "client." })).map((e) => e.type)).toEqual(["client.revoked", "client.enrolled", "client.enrollment_token.created"]);
        expect((await list({ type: "client.enrollment_token." })).map((e) => e.type)).toEqual(["client.enrollment_token.created"]);
        expect((await list({ type: "decision." })).map((e) => e.target)).toEqual(["decision:d3", "decision:d2", "decision:d1"]);
        expect(await list({ type: "session" })).toEqual([]); // exact, not a prefix
        expect(await list({ type: "nothing." })).toEqual([]);
        expect((await list({ actor: "client:c1" })).map((e) => e.type)).toEqual([
          "session.exited",
          "decision.approval_required",
          "decision.blocked",
          "decision.allowed",
          "session.started",
          "session.created",
          "client.enrolled",
        ]);
        expect((await list({ target: "session:s1" })).map((e) => e.type)).toEqual(["session.exited", "session.started", "session.created"]);
        expect((await list({ type: "session.", actor: "admin:root" })).map((e) => e.type)).toEqual(["session.revoked", "session.created"]);
        expect((await list({ type: "decision.blocked", target: "decision:d2", actor: "client:c1" })).length).toBe(1);
        expect((await list({ target: "decision:d2" })).map((e) => e.type)).toEqual(["decision.blocked"]);
        expect(await list({ target: "decision:d2", type: "decision.allowed" })).toEqual([]);
        expect(await list({ target: "decision:d2", actor: "admin:root" })).toEqual([]);
        expect(await list({ target: "decision:nope" })).toEqual([]);
        expect((await list({ target: "policy:p2" })).map((e) => e.type)).toEqual(["policy.deleted", "policy.updated", "policy.created"]);
        expect((await list({ target: "policy:p2", type: "policy." })).map((e) => e.type)).toEqual(["policy.deleted", "policy.updated", "policy.created"]);
        expect(await list({ target: "policy:p2", type: "decision." })).toEqual([]);
        // time: since inclusive, until exclusive
        const t4 = new Date(Date.parse(t0) + 4000).toISOString();
        const t6 = new Date(Date.parse(t0) + 6000).toISOString();
        expect((await list({ since: t4, until: t6 })).map((e) => e.type)).toEqual(["policy.updated", "policy.created"]);
        expect((await list({ since: t4, until: t6, type: "policy.updated" })).map((e) => e.type)).toEqual(["policy.updated"]);
        expect((await list({ until: t0 })).map((e) => e.type)).toEqual([]);
        expect((await list({ since: t0, until: new Date(Date.parse(t0) + 1).toISOString() })).map((e) => e.type)).toEqual(["store.initialized"]);
        expect(await list({ since: "2030-01-01T00:00:00Z" })).toEqual([]);
        expect((await list({ since: "2026-03-01T10:00:16Z", type: "client." })).map((e) => e.type)).toEqual(["client.revoked"]);
        await expectCode(store.listAudit({ since: "soon" }, { limit: 10 }), "invalid_input");
      });

      test("keyset pagination over the trail, also across a type prefix, rejects malformed cursors", async () => {
        await everything();
        for (const filter of [{}, { type: "session." }, { type: "decision." }, { actor: "client:c1" }, { since: clock.iso() }]) {
          const expected = (await store.listAudit(filter, { limit: 1000 })).items.map((e) => e.seq);
          const seen: number[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.listAudit(filter, { limit: 2, ...(cursor ? { cursor } : {}) });
            seen.push(...page.items.map((e) => e.seq));
            cursor = page.next_cursor ?? undefined;
          } while (cursor);
          expect(seen).toEqual(expected);
        }
        for (const cursor of [...MALFORMED_CURSORS, b64({ k: "audit", s: -1 }), b64({ k: "audit", s: "5" })]) {
          await expectCode(store.listAudit({}, { limit: 10, cursor }), "invalid_input");
        }
      });

      test("auditSince feeds changes oldest first; iterateAudit reads past one batch", async () => {
        await everything();
        expect((await store.auditSince(0, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect((await store.auditSince(18, 100)).map((e) => e.seq)).toEqual([19, 20]);
        expect(await store.auditSince(20, 100)).toEqual([]);
        const many = Array.from({ length: 1500 }, (_, i) => decision(`bulk-${i}`));
        expect(await store.ingestDecisions(null, many, "admin:root")).toEqual({ accepted: 1500, duplicates: 0 });
        let n = 0;
        let prev = 0;
        for await (const e of store.iterateAudit()) {
          expect(e.seq).toBe(prev + 1);
          prev = e.seq;
          n++;
        }
        expect(n).toBe(1520);
        expect((await verifyStoreAudit(store)).checked).toBe(1520);
      });

      test("event times never go backwards even when the clock does", async () => {
        await store.createPolicy(policyDoc("p1"), "admin:a");
        const first = clock.iso();
        clock.advance(-60_000);
        await store.createPolicy(policyDoc("p2"), "admin:a");
        const [a, b] = await store.auditSince(0, 10);
        expect(a!.created_at).toBe(first);
        expect(b!.created_at >= a!.created_at).toBe(true);
        expect((await store.getPolicy("p2"))!.created_at).toBe(clock.iso()); // records keep the clock's time
        expect((await store.listAudit({ since: first }, { limit: 10 })).items).toHaveLength(2);
      });
    });

    // ------------------------------------------------------------ sign-in, pairings, approvals (docs/approvals.md)

    describe("device flow, pairings and approvals", () => {
      const K = (c: string) => c.repeat(43); // a 32-byte key's base64url length
      const daemonKeys = { sign_key: K("d"), box_key: K("e") };
      const approverKeys = { sign_key: K("a"), box_key: K("b") };
      const envelope = (tag = "x") => ({ v: 1 as const, epk: K("p"), iv: "i".repeat(16), ct: `ciphertext-${tag}`, sig: "s".repeat(86) });
      const inMinutes = (m: number) => new Date(clock.now().getTime() + m * 60_000).toISOString();
      const device = (id: string, code: string) => ({ id, device_hash: sha(`device-${id}`), user_code: code, client_name: "laptop", interval: 5, expires_at: inMinutes(10) });

      async function enrolled(id = "c1"): Promise<void> {
        await store.createToken(token(`enr-${id}`, "enrollment"), "admin:root");
        await store.enrollClient(sha(`secret-enr-${id}`), client(id), token(`ct-${id}`, "client"));
      }
      async function paired(id = "pr1", clientId = "c1"): Promise<void> {
        await store.createPairing({ id, client_id: clientId, user: "user:alice", label: "laptop", daemon: daemonKeys, code_hash: sha(`code-${id}`), code_expires_at: inMinutes(5) }, "user:alice");
        await store.claimPairing(sha(`code-${id}`), { approver: approverKeys, label: "phone" }, token(`ap-${id}`, "approver"));
      }
      const approval = (id: string, over: Partial<Parameters<Store["createApproval"]>[0]> = {}) => ({
        id,
        pairing_id: "pr1",
        client_id: "c1",
        session_id: null,
        expires_at: inMinutes(2),
        envelope: envelope(id),
        ...over,
      });

      test("device flow: started, polled (pending, slow_down), approved, issued once as a user token", async () => {
        const before = await mark();
        const started = await store.createDeviceRequest(device("dv1", "ABCDEFGH"), "anonymous:1.2.3.4");
        expect(started).toMatchObject({ id: "dv1", user_code: "ABCDEFGH", client_name: "laptop", status: "pending", interval: 5, user: null });
        await expectEvents(before, [{ type: "auth.device_started", actor: "anonymous:1.2.3.4", target: "device:dv1" }]);
        await expectCode(store.createDeviceRequest(device("dv2", "ABCDEFGH"), "anonymous:x"), "conflict");

        const userToken = token("ut1", "user");
        expect(await store.pollDeviceRequest(sha("device-dv1"), userToken)).toEqual({ status: "pending", interval: 5 });
        clock.advance(1000);
        expect(await store.pollDeviceRequest(sha("device-dv1"), userToken)).toEqual({ status: "slow_down", interval: 10 });
        clock.advance(10_000);
        expect(await store.pollDeviceRequest(sha("device-dv1"), userToken)).toEqual({ status: "pending", interval: 10 });
        expect(await store.pollDeviceRequest(sha("nope"), userToken)).toEqual({ status: "unknown" });

        const mid = await mark();
        const approved = await store.decideDeviceRequest("ABCDEFGH", { approve: true, user: "user:tok_admin" }, "admin:tok_admin");
        expect(approved).toMatchObject({ status: "approved", user: "user:tok_admin", decided_by: "admin:tok_admin" });
        await expectCode(store.decideDeviceRequest("ABCDEFGH", { approve: false, user: "user:x" }, "admin:x"), "conflict");
        const issued = await store.pollDeviceRequest(sha("device-dv1"), userToken);
        expect(issued).toMatchObject({ status: "issued", user: "user:tok_admin", token: { id: "ut1", kind: "user" } });
        await expectEvents(mid, [
          { type: "auth.device_approved", actor: "admin:tok_admin", target: "device:dv1" },
          { type: "token.created", actor: "user:tok_admin", target: "token:ut1" },
        ]);
        expect(await store.findToken(sha("secret-ut1"))).toMatchObject({ id: "ut1", kind: "user" });
        expect(await store.getTokenBinding("ut1")).toEqual({ user: "user:tok_admin", pairing_id: null });
        expect(await store.pollDeviceRequest(sha("device-dv1"), token("ut2", "user"))).toEqual({ status: "used" });
        expect(await store.findToken(sha("secret-ut2"))).toBeNull();
        expect((await store.getDeviceRequest("ABCDEFGH"))!.status).toBe("used");
      });

      test("device flow: denied, expired, unknown", async () => {
        await store.createDeviceRequest(device("dv1", "AAAABBBB"), "anonymous:x");
        const before = await mark();
        await store.decideDeviceRequest("AAAABBBB", { approve: false, user: "user:x" }, "viewer:v1");
        await expectEvents(before, [{ type: "auth.device_denied", actor: "viewer:v1", target: "device:dv1" }]);
        expect(await store.pollDeviceRequest(sha("device-dv1"), token("ut1", "user"))).toEqual({ status: "denied" });

        await store.createDeviceRequest(device("dv2", "CCCCDDDD"), "anonymous:x");
        clock.advance(10 * 60_000);
        expect((await store.getDeviceRequest("CCCCDDDD"))!.status).toBe("expired");
        expect(await store.pollDeviceRequest(sha("device-dv2"), token("ut1", "user"))).toEqual({ status: "expired" });
        const after = await mark();
        await expectCode(store.decideDeviceRequest("CCCCDDDD", { approve: true, user: "user:x" }, "admin:x"), "expired");
        await expectCode(store.decideDeviceRequest("ZZZZZZZZ", { approve: true, user: "user:x" }, "admin:x"), "not_found");
        await expectNoEvents(after);
        expect(await store.getDeviceRequest("ZZZZZZZZ")).toBeNull();
        // an expired code no longer blocks a new request drawing the same code
        await store.createDeviceRequest(device("dv3", "CCCCDDDD"), "anonymous:x");
        expect((await store.getDeviceRequest("CCCCDDDD"))!.id).toBe("dv3");
      });

      test("pairing: created, claimed once with an approver token bound to it, listed", async () => {
        await enrolled();
        const before = await mark();
        const created = await store.createPairing(
          { id: "pr1", client_id: "c1", user: "user:alice", label: "laptop", daemon: daemonKeys, code_hash: sha("code-pr1"), code_expires_at: inMinutes(5) },
          "user:alice",
        );
        expect(created).toEqual({
          id: "pr1",
          status: "pending",
          client_id: "c1",
          user: "user:alice",
          label: "laptop",
          approver_label: null,
          daemon: daemonKeys,
          approver: null,
          created_at: clock.iso(),
          paired_at: null,
          removed_at: null,
        });
        const claimed = await store.claimPairing(sha("code-pr1"), { approver: approverKeys, label: "phone" }, token("ap1", "approver"));
        expect(claimed.pairing).toMatchObject({ status: "paired", approver: approverKeys, approver_label: "phone", paired_at: clock.iso() });
        expect(claimed.token).toMatchObject({ id: "ap1", kind: "approver", created_by: "approver:pr1" });
        await expectEvents(before, [
          { type: "pairing.created", actor: "user:alice", target: "pairing:pr1" },
          { type: "pairing.claimed", actor: "approver:pr1", target: "pairing:pr1" },
        ]);
        expect(await store.getTokenBinding("ap1")).toEqual({ user: null, pairing_id: "pr1" });
        const after = await mark();
        await expectCode(store.claimPairing(sha("code-pr1"), { approver: approverKeys, label: null }, token("ap2", "approver")), "not_found");
        await expectNoEvents(after);
        expect(await store.findToken(sha("secret-ap2"))).toBeNull();
        expect((await store.listPairings({ user: "user:alice" })).map((p) => p.id)).toEqual(["pr1"]);
        expect(await store.listPairings({ user: "user:bob" })).toEqual([]);
        expect((await store.listPairings({ status: "paired", client_id: "c1" })).map((p) => p.id)).toEqual(["pr1"]);
      });

      test("pairing: an expired code, an unknown client, a revoked client", async () => {
        await enrolled();
        await store.createPairing({ id: "pr1", client_id: "c1", user: "user:a", label: null, daemon: daemonKeys, code_hash: sha("code"), code_expires_at: inMinutes(5) }, "user:a");
        clock.advance(5 * 60_000);
        const before = await mark();
        await expectCode(store.claimPairing(sha("code"), { approver: approverKeys, label: null }, token("ap1", "approver")), "expired");
        await expectCode(store.createPairing({ id: "pr2", client_id: "ghost", user: "user:a", label: null, daemon: daemonKeys, code_hash: sha("c2"), code_expires_at: inMinutes(5) }, "user:a"), "not_found");
        await expectNoEvents(before);
        expect((await store.getPairing("pr1"))!.status).toBe("pending");
        await store.revokeClient("c1", "admin:root");
        await expectCode(store.createPairing({ id: "pr3", client_id: "c1", user: "user:a", label: null, daemon: daemonKeys, code_hash: sha("c3"), code_expires_at: inMinutes(5) }, "user:a"), "conflict");
      });

      test("approvals: requested (ciphertext only), decided once with the signed decision kept verbatim, verified", async () => {
        await enrolled();
        await paired();
        const before = await mark();
        const a = await store.createApproval(approval("ap-1", { session_id: "s1" }), "client:c1");
        expect(a).toEqual({
          id: "ap-1",
          pairing_id: "pr1",
          client_id: "c1",
          session_id: "s1",
          status: "pending",
          created_at: clock.iso(),
          expires_at: inMinutes(2),
          decided_at: null,
          envelope: envelope("ap-1"),
          decision: null,
          verification: null,
        });
        expect(await store.createApproval(approval("ap-1", { session_id: "s1" }), "client:c1")).toEqual(a); // a retry
        await expectCode(store.createApproval(approval("ap-1", { envelope: envelope("other") }), "client:c1"), "conflict");
        const signed = { payload: '{"decision":"approve"}', sig: "g".repeat(86) };
        clock.advance(1000);
        const decided = await store.decideApproval("ap-1", { ...signed, decision: "approve" }, "approver:pr1");
        expect(decided).toMatchObject({ status: "approved", decided_at: clock.iso(), decision: signed });
        await expectCode(store.decideApproval("ap-1", { ...signed, decision: "deny" }, "approver:pr1"), "conflict");
        const verified = await store.recordVerification("ap-1", { ok: true, reason: "ok", verify_ms: 0.4, total_ms: 120 }, "client:c1");
        expect(verified.verification).toEqual({ ok: true, reason: "ok", verify_ms: 0.4, total_ms: 120, at: clock.iso() });
        await expectCode(store.recordVerification("ap-1", { ok: true, reason: "ok", verify_ms: 1, total_ms: 1 }, "client:c1"), "conflict");
        const events = await eventsSince(before);
        expect(events.map((e) => [e.type, e.actor, e.target])).toEqual([
          ["approval.requested", "client:c1", "approval:ap-1"],
          ["approval.approved", "approver:pr1", "approval:ap-1"],
          ["approval.verified", "client:c1", "approval:ap-1"],
        ]);
        expect(events[2]!.details).toMatchObject({ reason: "ok", verify_ms: 0.4, total_ms: 120 });

        await store.createApproval(approval("ap-2"), "client:c1");
        await store.decideApproval("ap-2", { ...signed, decision: "deny" }, "approver:pr1");
        const rejected = await store.recordVerification("ap-2", { ok: false, reason: "bad_signature", verify_ms: 0.2, total_ms: 50 }, "client:c1");
        expect(rejected).toMatchObject({ status: "denied", verification: { ok: false, reason: "bad_signature" } });
        expect((await eventsSince(before)).map((e) => e.type).slice(-2)).toEqual(["approval.denied", "approval.rejected"]);
        expect(await store.approvalCounts()).toEqual({ pending: 0, approved: 1, denied: 1, expired: 0 });
      });

      test("approvals: only for a paired pairing of the same client; unknown ids", async () => {
        await enrolled("c1");
        await enrolled("c2");
        await store.createPairing({ id: "pr1", client_id: "c1", user: "user:a", label: null, daemon: daemonKeys, code_hash: sha("code"), code_expires_at: inMinutes(5) }, "user:a");
        const before = await mark();
        await expectCode(store.createApproval(approval("ap-1"), "client:c1"), "conflict"); // pending, not paired
        await expectCode(store.createApproval(approval("ap-1", { pairing_id: "ghost" }), "client:c1"), "not_found");
        await store.claimPairing(sha("code"), { approver: approverKeys, label: null }, token("ap1", "approver"));
        const mid = await mark();
        await expectCode(store.createApproval(approval("ap-1", { client_id: "c2" }), "client:c2"), "conflict");
        await expectCode(store.decideApproval("nope", { payload: "{}", sig: "x", decision: "approve" }, "approver:pr1"), "not_found");
        await expectCode(store.recordVerification("nope", { ok: true, reason: "ok", verify_ms: 1, total_ms: 1 }, "client:c1"), "not_found");
        expect(mid - before).toBe(1); // only the claim
        await expectNoEvents(mid);
      });

      test("approvals: expire after expires_at (audited once), cannot be decided then", async () => {
        await enrolled();
        await paired();
        await store.createApproval(approval("ap-1", { expires_at: inMinutes(1) }), "client:c1");
        await store.createApproval(approval("ap-2", { expires_at: inMinutes(3) }), "client:c1");
        expect(await store.expireApprovals()).toEqual([]);
        clock.advance(60_000);
        await expectCode(store.decideApproval("ap-1", { payload: "{}", sig: "x", decision: "approve" }, "approver:pr1"), "expired");
        const before = await mark();
        const expired = await store.expireApprovals();
        expect(expired.map((a) => [a.id, a.status])).toEqual([["ap-1", "expired"]]);
        await expectEvents(before, [{ type: "approval.expired", actor: "system", target: "approval:ap-1" }]);
        expect(await store.expireApprovals()).toEqual([]);
        await expectCode(store.decideApproval("ap-1", { payload: "{}", sig: "x", decision: "approve" }, "approver:pr1"), "expired");
        expect((await store.listApprovals({ status: "pending" }, { limit: 10 })).items.map((a) => a.id)).toEqual(["ap-2"]);
      });

      test("approvals list newest first, filtered, keyset-paginated", async () => {
        await enrolled();
        await paired();
        for (const id of ["a1", "a2", "a3"]) {
          await store.createApproval(approval(id), "client:c1");
          clock.advance(1000);
        }
        const first = await store.listApprovals({ pairing_id: "pr1" }, { limit: 2 });
        expect(first.items.map((a) => a.id)).toEqual(["a3", "a2"]);
        const second = await store.listApprovals({ pairing_id: "pr1" }, { limit: 2, cursor: first.next_cursor! });
        expect(second).toMatchObject({ items: [{ id: "a1" }], next_cursor: null });
        expect((await store.listApprovals({ pairing_id: "other" }, { limit: 2 })).items).toEqual([]);
        await expectCode(store.listApprovals({}, { limit: 2, cursor: "not a cursor!" }), "invalid_input");
      });

      test("unpairing revokes the approver token and expires pending approvals, in one audited change", async () => {
        await enrolled();
        await paired();
        await store.createApproval(approval("ap-1"), "client:c1");
        const before = await mark();
        const removed = await store.removePairing("pr1", "user:alice");
        expect(removed).toMatchObject({ pairing: { status: "removed", removed_at: clock.iso() }, tokens_revoked: ["ap-pr1"], approvals_expired: ["ap-1"] });
        await expectEvents(before, [
          { type: "approval.expired", actor: "user:alice", target: "approval:ap-1" },
          { type: "pairing.removed", actor: "user:alice", target: "pairing:pr1" },
        ]);
        expect(await store.findToken(sha("secret-ap-pr1"))).toBeNull();
        expect((await store.getApproval("ap-1"))!.status).toBe("expired");
        await expectCode(store.removePairing("pr1", "user:alice"), "conflict");
        await expectCode(store.removePairing("nope", "user:alice"), "not_found");
        await expectCode(store.createApproval(approval("ap-2"), "client:c1"), "conflict");
      });
    });

    // ------------------------------------------------------------ counts

    test("counts reflects sessions, decisions, policies, roles, clients and events", async () => {
      await store.createPolicy(policyDoc("p1"), "admin:a");
      await store.createPolicy(policyDoc("p2"), "admin:a");
      await store.createRole(roleDoc("r1", ["p1"]), "admin:a");
      await store.createToken(token("e1", "enrollment"), "admin:a");
      await store.enrollClient(sha("secret-e1"), client("c1"), token("ct", "client"));
      await store.createSession(session("s1"), "system");
      await store.createSession(session("s2"), "system");
      await store.createSession(session("s3"), "system");
      await store.transitionSession("s2", "running", "system");
      await store.transitionSession("s3", "revoked", "admin:a");
      await store.ingestDecisions(null, [decision("d1"), decision("d2", { verdict: "block" }), decision("d3", { verdict: "block" })], "admin:a");
      await store.ingestDecisions(null, [decision("d1")], "admin:a");
      expect(await store.counts()).toEqual({
        sessions_by_status: { ready: 1, running: 1, exited: 0, revoked: 1 },
        decisions_by_verdict: { allow: 1, require_approval: 0, block: 2 },
        policies: 2,
        roles: 1,
        clients: 1,
        audit_events: (await store.auditHead())!.seq,
      });
      expect((await store.counts()).audit_events).toBe(13);
    });
  });
}
