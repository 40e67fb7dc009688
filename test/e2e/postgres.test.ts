/**
 * The compiled gateway on PostgreSQL (`airlock serve` with AIRLOCK_DATABASE_URL): two replicas on
 * one database take writes at the same time, both are restarted, the data is still there, and the
 * audit chain verifies through the API.
 */
import { expect, test } from "bun:test";
import { describeWithPostgres } from "../support/postgres";
import { apiCall as api, spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";
import { tempDir } from "../support/tmp";

const ADMIN = "e2e-pg-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";

function serve(home: string, databaseUrl: string): Promise<SpawnedGateway> {
  return spawnGateway(["serve", "--listen", "127.0.0.1:0"], { home, env: { AIRLOCK_DATABASE_URL: databaseUrl, AIRLOCK_ADMIN_TOKEN: ADMIN, AIRLOCK_LOG: "warn" } });
}

const decision = (id: string, sessionId: string, verdict: "allow" | "block") => ({
  id,
  session_id: sessionId,
  role: "default-agent",
  agent: "claude",
  tool: "terraform",
  command: verdict === "block" ? "terraform destroy" : `terraform plan -out ${id}`,
  normalized: ["terraform plan"],
  verdict,
  policy: verdict === "block" ? "e2e-pg" : null,
  rule: verdict === "block" ? "blocked_commands[0]" : null,
  pattern: null,
  reason: verdict === "block" ? "blocked" : "no rule matched",
  source: "shim",
  cwd: "/work",
  decided_at: new Date().toISOString(),
});

describeWithPostgres("airlock serve on PostgreSQL", (server) => {
  test("two replicas share one store; after a restart the data is there and the audit chain verifies", async () => {
    await using home = await tempDir("airlock-e2e-pg-");
    const db = await server.createDatabase();
    const password = "not-a-real-password";
    const url = db.url.replace("airlock@", `airlock:${password}@`); // trust auth ignores it: it must still never be printed
    const replicas = await Promise.all([serve(home.path, url), serve(home.path, url)]);
    try {
      const [a, b] = replicas as [SpawnedGateway, SpawnedGateway];
      // exactly one replica seeded the store
      expect(replicas.filter((r) => r.stdout().includes("First start: seeded")).length).toBe(1);
      for (const r of replicas) {
        expect(r.stdout()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(store: postgres postgres:\/\/airlock:\*\*\*@127\.0\.0\.1:\d+\/airlock_\w+\)/);
        expect(r.stdout() + r.stderr()).not.toContain(password);
        expect(await api(r.url, "GET", "/readyz", null)).toEqual({ status: 200, body: { status: "ready", store: "postgres" } });
      }

      // a policy created on one replica is seen by the other
      const doc = { id: "e2e-pg", name: "E2E on PostgreSQL", status: "active", description: "created through replica a", blocked_commands: ["terraform destroy"], rules: [] };
      expect((await api(a.url, "POST", "/api/v1/policies", ADMIN, doc)).status).toBe(201);
      expect((await api(b.url, "GET", "/api/v1/policies/e2e-pg", ADMIN)).body).toMatchObject({ id: "e2e-pg", version: 1 });

      // a daemon enrolled through b, its session created through a
      const enr = await api(b.url, "POST", "/api/v1/clients/enrollment-tokens", ADMIN, { name: "laptop" });
      expect(enr.status).toBe(201);
      const enrolled = await api(a.url, "POST", "/api/v1/clients/enroll", enr.body.token, { name: "laptop", hostname: "laptop.local", user: "dev", version: "e2e" });
      expect(enrolled.status).toBe(201);
      const clientToken = enrolled.body.token as string;
      const session = await api(b.url, "POST", "/api/v1/sessions", clientToken, { agent: "claude", role: "default-agent", user: "dev", host: "laptop.local", cwd: "/work", pid: 4242 });
      expect(session.status).toBe(201);
      const sessionId = session.body.session.id as string;

      // the same 200 decisions shipped to both replicas at once, in batches of 20: stored once each
      const all = Array.from({ length: 200 }, (_, i) => decision(`e2e-d${String(i).padStart(3, "0")}`, sessionId, i % 4 === 0 ? "block" : "allow"));
      const posts: Promise<{ status: number; body: any }>[] = [];
      for (let i = 0; i < all.length; i += 20) {
        for (const r of replicas) posts.push(api(r.url, "POST", "/api/v1/decisions", clientToken, { decisions: all.slice(i, i + 20) }));
      }
      const results = await Promise.all(posts);
      for (const r of results) expect(r.status).toBe(200);
      expect(results.reduce((n, r) => n + r.body.accepted, 0)).toBe(200);
      expect(results.reduce((n, r) => n + r.body.duplicates, 0)).toBe(200);
      for (const r of replicas) {
        const verified = await api(r.url, "GET", "/api/v1/audit/verify", ADMIN);
        expect(verified.status).toBe(200);
        expect(verified.body).toMatchObject({ ok: true });
      }
    } finally {
      for (const r of replicas) expect(await r.stop()).toBe(0);
    }

    // restart: one replica, the same database
    const again = await serve(home.path, url);
    try {
      expect(again.stdout()).not.toContain("First start");
      expect((await api(again.url, "GET", "/api/v1/policies/e2e-pg", ADMIN)).body).toMatchObject({ id: "e2e-pg", version: 1 });
      const listed = await api(again.url, "GET", "/api/v1/decisions?limit=500", ADMIN);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(200);
      expect((await api(again.url, "GET", "/api/v1/decisions?verdict=block&limit=500", ADMIN)).body.items).toHaveLength(50);
      const verified = await api(again.url, "GET", "/api/v1/audit/verify", ADMIN);
      // seed + policy + enrollment token + enrolled + session + 200 decisions
      expect(verified.body).toMatchObject({ ok: true, checked: 205 });
      const status = await api(again.url, "GET", "/api/v1/status", ADMIN);
      expect(status.body).toMatchObject({ store: "postgres", counts: { decisions_by_verdict: { allow: 150, block: 50, require_approval: 0 }, clients: 1 } });
    } finally {
      expect(await again.stop()).toBe(0);
      await db.drop();
    }
  }, 90_000);
});
