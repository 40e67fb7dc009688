/** The gateway API's behaviour through app.request(), on a real SQLite file. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decisionFor, testGateway, type TestGateway } from "../support/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
});
afterAll(async () => {
  await gw[Symbol.asyncDispose]();
});

const decision = (id: string, over: Record<string, unknown> = {}) => decisionFor(gw.sessionId, id, over);

describe("health", () => {
  test("/healthz, /readyz and /metrics answer without a credential", async () => {
    expect((await gw.json("GET", "/healthz", { as: "none" })).body).toEqual({ status: "ok", version: "test" });
    expect((await gw.json("GET", "/readyz", { as: "none" })).body).toEqual({ status: "ready", store: "sqlite" });
    const metrics = await (await gw.req("GET", "/metrics", { as: "none" })).text();
    expect(metrics).toContain("# TYPE airlock_http_requests_total counter");
    expect(metrics).toMatch(/airlock_sessions\{state="ready"\} \d+/);
    expect(metrics).toMatch(/airlock_decisions\{verdict="block"\} \d+/);
  });
});

describe("policies", () => {
  test("the seed is loaded on first start", async () => {
    const { body } = await gw.json("GET", "/api/v1/policies");
    expect(body.items.map((p: { id: string }) => p.id)).toContain("infra-mutation-block");
    const role = await gw.json("GET", "/api/v1/roles/default-agent");
    expect(role.body.document.policies).toContain("infra-mutation-block");
  });

  test("create, update (version bump), conditional update, delete", async () => {
    const doc = { id: "make-guard", name: "Make guard", status: "active", blocked_commands: ["make deploy"], tests: { block: ["make deploy prod"], allow: ["make test"] } };
    const created = await gw.json("POST", "/api/v1/policies", { body: doc });
    expect(created.status).toBe(201);
    expect(created.body.version).toBe(1);
    expect((await gw.json("POST", "/api/v1/policies", { body: doc })).status).toBe(409);
    const updated = await gw.json("PUT", "/api/v1/policies/make-guard", { body: { ...doc, status: "disabled" } });
    expect(updated.body.version).toBe(2);
    expect(updated.body.document.status).toBe("disabled");
    const stale = await gw.req("PUT", "/api/v1/policies/make-guard", { body: doc, headers: { "if-match": '"1"' } });
    expect(stale.status).toBe(409);
    expect((await gw.req("DELETE", "/api/v1/policies/make-guard")).status).toBe(204);
    expect((await gw.json("GET", "/api/v1/policies/make-guard")).status).toBe(404);
  });

  test("a policy is validated like airlock policy lint: fields named, store unchanged", async () => {
    const before = (await gw.json("GET", "/api/v1/audit?limit=1")).body.items[0].seq;
    const bad = await gw.json("POST", "/api/v1/policies", {
      body: { id: "bad", name: "Bad", status: "on", blocked_commands: ["terraform $(x)"], tests: { block: ["ls"] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_policy");
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(["body.status", "body.blocked_commands[0]"]));
    const failingExample = await gw.json("POST", "/api/v1/policies", { body: { id: "bad", name: "Bad", status: "active", blocked_commands: ["make deploy"], tests: { block: ["make test"] } } });
    expect(failingExample.status).toBe(400);
    expect(failingExample.body.details[0].path).toBe("body.tests.block[0]");
    expect((await gw.json("GET", "/api/v1/policies/bad")).status).toBe(404);
    expect((await gw.json("GET", "/api/v1/audit?limit=1")).body.items[0].seq).toBe(before);
  });

  test("deleting a policy still attached to a role is refused with 409", async () => {
    const res = await gw.json("DELETE", "/api/v1/policies/infra-mutation-block");
    expect(res.status).toBe(409);
    expect(res.body.message).toContain("default-agent");
  });

  test("the URL id and the body id must agree", async () => {
    const res = await gw.json("PUT", "/api/v1/policies/git-guard", { body: { id: "other", name: "x", status: "active" } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe("body.id");
  });
});

describe("roles and bundles", () => {
  test("a role attaching an unknown policy is refused", async () => {
    const res = await gw.json("POST", "/api/v1/roles", { body: { id: "r1", name: "R", policies: ["nope"], default_action: "allow" } });
    expect(res.status).toBe(409);
  });

  test("bundle: ETag, 304 on If-None-Match, new ETag after a policy change", async () => {
    const first = await gw.req("GET", "/api/v1/roles/terraform-restricted-agent/bundle", { as: "client" });
    const etag = first.headers.get("etag")!;
    const bundle = await first.json();
    // the bundle carries the role's policies in the role's order
    const role = (await gw.json("GET", "/api/v1/roles/terraform-restricted-agent")).body.document;
    expect(bundle.policies.map((p: { id: string }) => p.id)).toEqual(role.policies);
    expect(role.policies.slice(0, 2)).toEqual(["terraform-restricted", "infra-mutation-block"]);
    const again = await gw.req("GET", "/api/v1/roles/terraform-restricted-agent/bundle", { as: "client", headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    const policy = (await gw.json("GET", "/api/v1/policies/infra-mutation-block")).body.document;
    await gw.json("PUT", "/api/v1/policies/infra-mutation-block", { body: { ...policy, description: "changed" } });
    const changed = await gw.req("GET", "/api/v1/roles/terraform-restricted-agent/bundle", { as: "client", headers: { "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
  });
});

describe("sessions", () => {
  const create = async () => (await gw.json("POST", "/api/v1/sessions", { as: "client", body: { agent: "codex", role: "default-agent", user: "dev", host: "h", cwd: "/w" } })).body;

  test("ready → running → exited; illegal transitions are 409", async () => {
    const { session } = await create();
    expect(session.status).toBe("ready");
    const to = (status: string, extra = {}) => gw.json("POST", `/api/v1/sessions/${session.id}/status`, { as: "client", body: { status, ...extra } });
    expect((await to("running")).body.status).toBe("running");
    expect((await to("running")).status).toBe(409);
    const exited = await to("exited", { exit_code: 3 });
    expect(exited.body).toMatchObject({ status: "exited", exit_code: 3 });
    expect((await to("revoked")).status).toBe(409);
  });

  test("revoke from the API; the session's own check is then blocked", async () => {
    const { session, token } = await create();
    const check = async () => (await gw.req("POST", "/api/v1/check", { as: "none", headers: { authorization: `Bearer ${token}` }, body: { argv: ["terraform", "plan"] } })).json();
    expect((await check()).verdict).toBe("allow");
    expect((await gw.json("POST", `/api/v1/sessions/${session.id}/revoke`)).body.status).toBe("revoked");
    const after = await check();
    expect(after.verdict).toBe("block");
    expect(after.reason).toContain("revoked");
  });

  test("an unknown role is a 400 naming the field", async () => {
    const res = await gw.json("POST", "/api/v1/sessions", { as: "client", body: { agent: "a", role: "nope", user: "u", host: "h", cwd: "/" } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe("body.role");
  });

  test("list filters and keyset pagination", async () => {
    for (let i = 0; i < 5; i++) await create();
    const page1 = await gw.json("GET", "/api/v1/sessions?agent=codex&limit=2");
    expect(page1.body.items).toHaveLength(2);
    const page2 = await gw.json("GET", `/api/v1/sessions?agent=codex&limit=2&cursor=${page1.body.next_cursor}`);
    const ids = [...page1.body.items, ...page2.body.items].map((s: { id: string }) => s.id);
    expect(new Set(ids).size).toBe(4);
    expect(page1.body.items.every((s: { agent: string }) => s.agent === "codex")).toBe(true);
  });
});

describe("decisions", () => {
  test("batch ingest is idempotent by decision id", async () => {
    const batch = { decisions: [decision("d-1"), decision("d-2", { verdict: "allow", command: "terraform plan", policy: null, rule: null, pattern: null })] };
    expect((await gw.json("POST", "/api/v1/decisions", { as: "client", body: batch })).body).toEqual({ accepted: 2, duplicates: 0 });
    expect((await gw.json("POST", "/api/v1/decisions", { as: "client", body: batch })).body).toEqual({ accepted: 0, duplicates: 2 });
    const listed = await gw.json("GET", "/api/v1/decisions?verdict=block&q=APPLY");
    expect(listed.body.items.map((d: { id: string }) => d.id)).toContain("d-1");
    expect(listed.body.items.map((d: { id: string }) => d.id)).not.toContain("d-2");
    expect((await gw.json("GET", "/api/v1/decisions/d-2")).body.verdict).toBe("allow");
  });

  test("stats: decisions per minute by verdict and the most blocked commands of the window", async () => {
    const now = new Date().toISOString();
    await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [
      decision("st-1", { command: "kubectl delete ns stats", decided_at: now }),
      decision("st-2", { command: "kubectl delete ns stats", decided_at: now }),
      decision("st-3", { verdict: "allow", command: "kubectl get pods", policy: null, rule: null, pattern: null, decided_at: now }),
    ] } });
    const res = await gw.json("GET", "/api/v1/decisions/stats?minutes=5&top=50");
    expect(res.status).toBe(200);
    expect(res.body.minutes).toBe(5);
    const minute = res.body.per_minute.find((m: { minute: string }) => m.minute === now.slice(0, 16));
    expect(minute.block).toBeGreaterThanOrEqual(2);
    expect(minute.allow).toBeGreaterThanOrEqual(1);
    expect(res.body.top_blocked).toContainEqual({ command: "kubectl delete ns stats", count: 2, last_at: now });
    const bad = await gw.json("GET", "/api/v1/decisions/stats?minutes=0");
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].path).toBe("query.minutes");
  });

  test("a decision naming another client's session is refused, and nothing is stored", async () => {
    const res = await gw.json("POST", "/api/v1/decisions", { as: "other_client", body: { decisions: [decision("d-x")] } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe("body.decisions[0].session_id");
    expect((await gw.json("GET", "/api/v1/decisions/d-x")).status).toBe(404);
  });

  test("each new decision is in the audit trail", async () => {
    await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("d-audit")] } });
    const events = await gw.json("GET", "/api/v1/audit?type=decision.&limit=500");
    const event = events.body.items.find((e: { target: string }) => e.target === "decision:d-audit");
    expect(event).toMatchObject({ type: "decision.blocked", code: "AL0602", actor: `client:${gw.clientId}` });
    expect(event.details).toMatchObject({ verdict: "block", command: "terraform apply", session_id: gw.sessionId });
  });
});

describe("audit", () => {
  test("keyset pages newest first, filter by type prefix, export JSONL, verify", async () => {
    const page = await gw.json("GET", "/api/v1/audit?limit=3");
    expect(page.body.items).toHaveLength(3);
    expect(page.body.items[0].seq).toBeGreaterThan(page.body.items[1].seq);
    const next = await gw.json("GET", `/api/v1/audit?limit=3&cursor=${page.body.next_cursor}`);
    expect(next.body.items[0].seq).toBe(page.body.items[2].seq - 1);
    const sessions = await gw.json("GET", "/api/v1/audit?type=session.");
    expect(sessions.body.items.every((e: { type: string }) => e.type.startsWith("session."))).toBe(true);
    const exported = await (await gw.req("GET", "/api/v1/audit/export")).text();
    const lines = exported.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0].seq).toBe(1);
    expect(lines[0].type).toBe("store.initialized");
    expect((await gw.json("GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true, checked: lines.length });
  });
});

describe("check", () => {
  test("a dry verdict from the same engine, against a role", async () => {
    const res = await gw.json("POST", "/api/v1/check", { body: { command: "cd infra && terraform -chdir=x apply", role: "default-agent" } });
    expect(res.body).toMatchObject({ verdict: "block", policy: "infra-mutation-block", rule: "blocked_commands[0]", normalized: ["cd infra", "terraform apply"] });
    const allowed = await gw.json("POST", "/api/v1/check", { as: "viewer", body: { argv: ["terraform", "plan"] } });
    expect(allowed.body.verdict).toBe("allow");
  });
  test("a session credential cannot check under another role", async () => {
    const res = await gw.req("POST", "/api/v1/check", { as: "session", body: { command: "ls", role: "approval-required-agent" } });
    expect(res.status).toBe(403);
  });
});

describe("change feed", () => {
  test("long-poll wakes on a policy change", async () => {
    const head = (await gw.json("GET", "/api/v1/changes?after=0", { as: "client" })).body.next;
    const waiting = gw.json("GET", `/api/v1/changes?after=${head}&wait=5`, { as: "client" });
    await Bun.sleep(50);
    const policy = (await gw.json("GET", "/api/v1/policies/git-guard")).body.document;
    const started = performance.now();
    await gw.json("PUT", "/api/v1/policies/git-guard", { body: { ...policy, description: "poked" } });
    const { body } = await waiting;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(body.events.map((e: { type: string }) => e.type)).toContain("policy.updated");
  });
});

describe("live events (SSE)", () => {
  test("a decision posted by a client reaches the stream", async () => {
    const res = await gw.req("GET", "/api/v1/events", { as: "viewer" });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const readUntil = async (needle: string) => {
      while (!seen.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value);
      }
    };
    await readUntil("event: hello");
    await gw.json("POST", "/api/v1/decisions", { as: "client", body: { decisions: [decision("d-live")] } });
    await readUntil("d-live");
    expect(seen).toContain("event: decision");
    await reader.cancel();
  });
});

describe("bad input: 400 naming the field, store unchanged", () => {
  const cases: [string, string, string, { raw?: string; body?: unknown; headers?: Record<string, string> }, string][] = [
    ["malformed JSON", "POST", "/api/v1/policies", { raw: "{nope" }, "body"],
    ["not JSON", "POST", "/api/v1/policies", { raw: "x", headers: { "content-type": "text/plain" } }, "body"],
    ["wrong type", "POST", "/api/v1/tokens", { body: { kind: "viewer", name: 5 } }, "body.name"],
    ["unknown enum", "POST", "/api/v1/tokens", { body: { kind: "root", name: "x" } }, "body.kind"],
    ["unknown field", "POST", "/api/v1/tokens", { body: { kind: "viewer", name: "x", admin: true } }, "body.admin"],
    ["bad limit", "GET", "/api/v1/audit?limit=0", {}, "query.limit"],
    ["limit too big", "GET", "/api/v1/decisions?limit=100000", {}, "query.limit"],
    ["bad cursor", "GET", "/api/v1/audit?cursor=%%%", {}, "cursor"],
    ["bad time", "GET", "/api/v1/decisions?since=yesterday", {}, "query.since"],
    ["bad verdict filter", "GET", "/api/v1/decisions?verdict=maybe", {}, "query.verdict"],
    ["unknown query field", "GET", "/api/v1/sessions?colour=red", {}, "query.colour"],
    ["bad id", "GET", "/api/v1/policies/Not%20An%20Id", {}, "param.id"],
    ["check with both forms", "POST", "/api/v1/check", { body: { command: "ls", argv: ["ls"] } }, "body"],
    ["oversized body", "POST", "/api/v1/policies", { raw: JSON.stringify({ id: "big", name: "x".repeat(2 * 1024 * 1024) }) }, "body"],
    ["sign-in start: unknown field", "POST", "/api/v1/auth/device", { body: { client_name: "x", admin: true } }, "body.admin"],
    ["sign-in poll: no device_code", "POST", "/api/v1/auth/device/token", { body: {} }, "body.device_code"],
    ["user code with look-alikes", "GET", "/api/v1/auth/device/0OIL-0OIL", {}, "param.user_code"],
    ["approve without a decision", "POST", "/api/v1/auth/device/approve", { body: { user_code: "ABCD-EFGH" } }, "body.approve"],
    ["pairing code too short", "POST", "/api/v1/pairings/claim", { body: { code: "ABC", approver: { sign_key: "A".repeat(43), box_key: "A".repeat(43) } } }, "body.code"],
    ["public key of the wrong size", "POST", "/api/v1/pairings/claim", { body: { code: "ABCDEF", approver: { sign_key: "A".repeat(42), box_key: "A".repeat(43) } } }, "body.approver.sign_key"],
    ["pairing status filter", "GET", "/api/v1/pairings?status=maybe", {}, "query.status"],
    ["approval status filter", "GET", "/api/v1/approvals?status=maybe", {}, "query.status"],
    ["long poll too long", "GET", "/api/v1/approvals/apr-1?wait=99", {}, "query.wait"],
  ];
  for (const [name, method, path, opts, field] of cases) {
    test(name, async () => {
      const before = (await gw.json("GET", "/api/v1/status")).body.counts;
      const res = await gw.req(method, path, opts);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.code).toMatch(/^invalid_/);
      expect(JSON.stringify(body.details)).toContain(field);
      expect((await gw.json("GET", "/api/v1/status")).body.counts).toEqual(before);
    });
  }

  test("an unknown route is a 404 in the error shape", async () => {
    const res = await gw.json("GET", "/api/v1/nope");
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
  });
});
