/** Not enrolled: the embedded seed decides, everything waits in the outbox, status says so. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { startTestDaemon } from "./_harness";

describe("standalone mode", () => {
  test("decides from the embedded seed and keeps every decision in the outbox", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    for (let i = 0; i < 5; i++) await d.check(caller, ["kubectl", "delete", "ns", `n${i}`]);
    const status = (await d.call("GET", "/v1/status")).body;
    expect(status).toMatchObject({
      version: "test",
      pid: process.pid,
      socket: d.paths.socket,
      fail_mode: "closed",
      default_role: "default-agent",
      gateway: { url: null, enrolled: false, client_id: null, reachable: false, last_contact_at: null, last_error: null },
      outbox: { pending: 6, shipped_total: 0 },
      sessions: { ready: 1, running: 0, exited: 0, revoked: 0 },
    });
    expect(status.outbox.oldest_at).toMatch(/^\d{4}-/);
    expect(status.bundles).toHaveLength(1);
    expect(status.bundles[0]).toMatchObject({ role: "default-agent", stale: false, age_seconds: 0 });
    expect(status.bundles[0].etag).toMatch(/^seed-[0-9a-f]{32}$/);
  });

  test("a bundle from the seed never goes stale, whatever the clock says", async () => {
    await using d = await startTestDaemon({ config: { bundle_max_age_seconds: 10 } });
    const s = await d.session();
    d.clock.advance(24 * 3600 * 1000);
    const r = await d.check({ kind: "session", session_id: s.id, token: s.token }, ["terraform", "plan"]);
    expect(r.verdict).toBe("allow");
  });

  test("config.json is re-read when it changes: default role and auto-approve patterns", async () => {
    await using d = await startTestDaemon({ config: { default_role: "approval-required-agent" } });
    const caller = { kind: "ancestry", agent: "claude", agent_pid: process.pid };
    const before = await d.check(caller, ["make", "build"]);
    // the role's default is require_approval; standalone and unpaired, approval cannot be asked: blocked
    expect(before).toMatchObject({ verdict: "block", role: "approval-required-agent" });
    expect(before.reason).toContain("approval required, but no approver is paired");

    writeFileSync(d.paths.config, JSON.stringify({ default_role: "approval-required-agent", auto_approve: ["make build"] }));
    const after = await d.check(caller, ["make", "build"]);
    expect(after.verdict).toBe("allow");
    expect(after.reason).toContain("auto-approve");
    // auto-approve never overrides a block
    expect((await d.check(caller, ["terraform", "apply"])).verdict).toBe("block");
  });
});
