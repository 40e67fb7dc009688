/** The daemon's side of the hooks: /v1/check-tool, and agent sessions (caller kind agent_session). */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { startTestDaemon } from "./_harness";

function outbox(path: string): { kind: string; payload: any }[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT kind, payload FROM outbox ORDER BY seq").all() as { kind: string; payload: string }[]).map((r) => ({ kind: r.kind, payload: JSON.parse(r.payload) }));
  } finally {
    db.close();
  }
}

const agentSession = (id: string, extra: Record<string, unknown> = {}) => ({ kind: "agent_session", agent: "claude", agent_session_id: id, ...extra });

describe("POST /v1/check-tool", () => {
  test("a write to .env is blocked by the seed file-guard; the decision is recorded as the hook's", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const r = await d.call("POST", "/v1/check-tool", { caller: { kind: "session", session_id: s.id, token: s.token }, tool: "Write", path: "/work/app/.env", cwd: "/work", source: "claude" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ verdict: "block", session_id: s.id, role: "default-agent", policy: "file-guard", rule: "rules[0]", command: "Write /work/app/.env" });
    expect(r.body.reason).toContain("dotenv files hold secrets");
    const decision = outbox(d.paths.daemonDb).find((row) => row.kind === "decision")!.payload;
    expect(decision).toMatchObject({ id: r.body.decision_id, tool: "Write", command: "Write /work/app/.env", normalized: ["Write /work/app/.env"], verdict: "block", policy: "file-guard", source: "hook", pattern: 'tool "Write|Edit|MultiEdit|NotebookEdit|Delete" path "**/.env"' });
  });

  test("a call no tool rule names is allowed; a relative path is matched against the cwd", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    expect((await d.call("POST", "/v1/check-tool", { caller, tool: "Edit", path: "src/main.ts", cwd: "/work" })).body).toMatchObject({ verdict: "allow", policy: null });
    expect((await d.call("POST", "/v1/check-tool", { caller, tool: "mcp__github__create_issue", cwd: "/work" })).body.verdict).toBe("allow");
    expect((await d.call("POST", "/v1/check-tool", { caller, tool: "Edit", path: "services/.env", cwd: "/work" })).body.verdict).toBe("block");
  });

  test("a wrong token or a revoked session is a block, never an error page", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const wrong = await d.call("POST", "/v1/check-tool", { caller: { kind: "session", session_id: s.id, token: "nope" }, tool: "Edit", path: "a.ts", cwd: "/work" });
    expect(wrong.body).toMatchObject({ verdict: "block", reason: "invalid session credentials" });
    d.running.daemon.db.setSessionStatus(s.id, "revoked");
    const revoked = await d.call("POST", "/v1/check-tool", { caller: { kind: "session", session_id: s.id, token: s.token }, tool: "Edit", path: "a.ts", cwd: "/work" });
    expect(revoked.body.verdict).toBe("block");
    expect(revoked.body.reason).toContain("revoked");
  });

  test("a bad body is a 400 naming the field; GET is 405", async () => {
    await using d = await startTestDaemon();
    const r = await d.call("POST", "/v1/check-tool", { caller: agentSession("s"), tool: "", cwd: "/work" });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([{ path: "body.tool", message: "must not be empty" }]);
    const extra = await d.call("POST", "/v1/check-tool", { caller: agentSession("s"), tool: "Write", cwd: "/work", paths: "x" });
    expect(extra.status).toBe(400);
    expect((await d.call("GET", "/v1/check-tool")).status).toBe(405);
  });
});

describe("agent sessions (a hook's own session id)", () => {
  test("are created on first sight with the default role, recording agent, cwd, user and host, then reused", async () => {
    await using d = await startTestDaemon({ config: { default_role: "terraform-restricted-agent" }, deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("claude-1", { pid: process.pid }), command: "terraform plan", cwd: "/repo", source: "claude" })).body;
    expect(first).toMatchObject({ verdict: "allow", role: "terraform-restricted-agent" });
    const again = (await d.call("POST", "/v1/check-tool", { caller: agentSession("claude-1"), tool: "Write", path: "/repo/.env", cwd: "/repo" })).body;
    expect(again).toMatchObject({ verdict: "block", session_id: first.session_id, policy: "file-guard" });
    const session = (await d.call("GET", `/v1/sessions/${first.session_id}`)).body;
    expect(session).toMatchObject({ agent: "claude", role: "terraform-restricted-agent", cwd: "/repo", user: "dev", host: "laptop.local", status: "running", implicit: true, agent_session_id: "claude-1", pid: null });
    // the gateway learns the session (created, running) before its decisions
    expect(outbox(d.paths.daemonDb).map((r) => r.kind)).toEqual(["session.create", "session.status", "decision", "decision"]);
    expect(outbox(d.paths.daemonDb)[0]!.payload).toEqual({ id: first.session_id, agent: "claude", role: "terraform-restricted-agent", user: "dev", host: "laptop.local", cwd: "/repo", pid: null });

    const other = (await d.call("POST", "/v1/check-command", { caller: agentSession("claude-2"), command: "ls", cwd: "/repo" })).body;
    expect(other.session_id).not.toBe(first.session_id);
    const codex = (await d.call("POST", "/v1/check-command", { caller: { kind: "agent_session", agent: "codex", agent_session_id: "claude-1" }, command: "ls", cwd: "/repo" })).body;
    expect(codex.session_id).not.toBe(first.session_id); // the same id from another agent is another session
  });

  test("join the shims' session of the same agent process, whichever comes first", async () => {
    const agentPid = process.pid;
    await using d = await startTestDaemon({ deps: { findAgent: (pid) => (pid === 4242 ? { agent: "claude", pid: agentPid } : null) } });
    // shim first (ancestry), then the hook: the hook adopts the shim's session
    const shim = await d.check({ kind: "ancestry", agent: "claude", agent_pid: agentPid }, ["terraform", "plan"]);
    const hook = (await d.call("POST", "/v1/check-command", { caller: agentSession("run-a", { pid: 4242 }), command: "terraform apply", cwd: "/work" })).body;
    expect(hook).toMatchObject({ verdict: "block", session_id: shim.session_id });
    expect((await d.call("GET", `/v1/sessions/${shim.session_id}`)).body.agent_session_id).toBe("run-a");

    // a new agent session in the same process (after /clear): a session of its own, which later shims join
    const next = (await d.call("POST", "/v1/check-tool", { caller: agentSession("run-b", { pid: 4242 }), tool: "Edit", path: "a.ts", cwd: "/work" })).body;
    expect(next.session_id).not.toBe(shim.session_id);
    const shimAfter = await d.check({ kind: "ancestry", agent: "claude", agent_pid: agentPid }, ["ls"]);
    expect(shimAfter.session_id).toBe(next.session_id);
    expect((await d.call("GET", `/v1/sessions/${next.session_id}`)).body).toMatchObject({ agent: "claude", pid: agentPid, agent_session_id: "run-b" });
  });

  test("an adopted shim session's role decides the hook's first check", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => ({ agent: "claude", pid: process.pid }) } });
    const shim = await d.check({ kind: "ancestry", agent: "claude", agent_pid: process.pid }, ["ls"]);
    const db = new Database(d.paths.daemonDb);
    db.run("UPDATE sessions SET role = 'approval-required-agent' WHERE id = ?", [shim.session_id]);
    db.close();
    const hook = (await d.call("POST", "/v1/check-command", { caller: agentSession("adopting", { pid: 7 }), command: "make deploy", cwd: "/w" })).body;
    // the role's default require_approval decides; standalone and unpaired, approval cannot be asked: blocked
    expect(hook).toMatchObject({ verdict: "block", session_id: shim.session_id, role: "approval-required-agent" });
    expect(hook.reason).toContain("approval required, but no approver is paired");
  });

  test("revoking the agent process's session is not undone by a new agent session id", async () => {
    const agentPid = process.pid;
    await using d = await startTestDaemon({ deps: { findAgent: () => ({ agent: "claude", pid: agentPid }) } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("before-clear", { pid: 7 }), command: "ls", cwd: "/w" })).body;
    d.running.daemon.db.setSessionStatus(first.session_id, "revoked");
    const after = (await d.call("POST", "/v1/check-command", { caller: agentSession("after-clear", { pid: 7 }), command: "ls", cwd: "/w" })).body;
    expect(after).toMatchObject({ verdict: "block", session_id: first.session_id });
    expect((await d.check({ kind: "ancestry", agent: "claude", agent_pid: agentPid }, ["ls"])).verdict).toBe("block");
  });

  test("the ancestry walk runs once per agent session, not per call", async () => {
    let walks = 0;
    await using d = await startTestDaemon({ deps: { findAgent: () => (walks++, null) } });
    for (let i = 0; i < 3; i++) await d.call("POST", "/v1/check-command", { caller: agentSession("once", { pid: 99 }), command: "ls", cwd: "/w" });
    expect(walks).toBe(1);
  });

  test("a revoked agent session keeps blocking that agent session", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("rv"), command: "ls", cwd: "/w" })).body;
    d.running.daemon.db.setSessionStatus(first.session_id, "revoked");
    const blocked = (await d.call("POST", "/v1/check-tool", { caller: agentSession("rv"), tool: "Edit", path: "a.ts", cwd: "/w" })).body;
    expect(blocked).toMatchObject({ verdict: "block", session_id: first.session_id });
    expect(blocked.reason).toContain("revoked");
  });

  test("an exited agent session (its agent process ended) is followed by a fresh one", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("resumed"), command: "ls", cwd: "/w" })).body;
    d.running.daemon.db.setSessionStatus(first.session_id, "exited");
    const second = (await d.call("POST", "/v1/check-command", { caller: agentSession("resumed"), command: "ls", cwd: "/w" })).body;
    expect(second.verdict).toBe("allow");
    expect(second.session_id).not.toBe(first.session_id);
  });

  test("a failing ancestry walk is logged and the session opens unlinked", async () => {
    await using d = await startTestDaemon({
      deps: {
        findAgent: () => {
          throw new Error("no /proc here");
        },
      },
    });
    const r = (await d.call("POST", "/v1/check-command", { caller: agentSession("w", { pid: 5 }), command: "terraform apply", cwd: "/w" })).body;
    expect(r).toMatchObject({ verdict: "block", policy: "infra-mutation-block" });
  });
});
