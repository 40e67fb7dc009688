/** `POST /v1/agent-sessions/end`: a hook saw the agent's session end; the mapped Airlock session exits. */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { eventually, startTestDaemon } from "./_harness";

function outbox(path: string): { kind: string; payload: any }[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT kind, payload FROM outbox ORDER BY seq").all() as { kind: string; payload: string }[]).map((r) => ({ kind: r.kind, payload: JSON.parse(r.payload) }));
  } finally {
    db.close();
  }
}

const agentSession = (id: string, extra: Record<string, unknown> = {}) => ({ kind: "agent_session", agent: "claude", agent_session_id: id, ...extra });
const end = (id: string, extra: Record<string, unknown> = {}) => ({ agent: "claude", agent_session_id: id, reason: "prompt_input_exit", ...extra });

describe("POST /v1/agent-sessions/end", () => {
  test("moves the mapped session to exited, queued for the gateway after its decisions; a second end is a no-op", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("cc-1"), command: "ls", cwd: "/repo" })).body;
    expect((await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status).toBe("running");

    const r = await d.call("POST", "/v1/agent-sessions/end", end("cc-1"));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ended: true, session: { id: first.session_id, status: "exited", agent_session_id: "cc-1" } });
    expect((await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status).toBe("exited");
    expect((await d.call("GET", "/v1/sessions?status=running")).body.items).toEqual([]);
    expect(outbox(d.paths.daemonDb).map((row) => [row.kind, row.payload.status ?? null])).toEqual([
      ["session.create", null],
      ["session.status", "running"],
      ["decision", null],
      ["session.status", "exited"],
    ]);
    expect(outbox(d.paths.daemonDb).at(-1)!.payload).toEqual({ id: first.session_id, status: "exited", exit_code: null });

    const again = await d.call("POST", "/v1/agent-sessions/end", end("cc-1"));
    expect(again.body).toMatchObject({ ended: false, session: { id: first.session_id, status: "exited" } });
    expect(outbox(d.paths.daemonDb)).toHaveLength(4); // nothing more for the gateway
  });

  test("an agent session the daemon never saw, or another agent's with the same id, is a no-op", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    expect((await d.call("POST", "/v1/agent-sessions/end", end("never-seen"))).body).toEqual({ ended: false, session: null });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("shared-id"), command: "ls", cwd: "/w" })).body;
    expect((await d.call("POST", "/v1/agent-sessions/end", end("shared-id", { agent: "gemini" }))).body).toEqual({ ended: false, session: null });
    expect((await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status).toBe("running");
  });

  test("a revoked session stays revoked and keeps blocking", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("rv"), command: "ls", cwd: "/w" })).body;
    d.running.daemon.db.setSessionStatus(first.session_id, "revoked");
    expect((await d.call("POST", "/v1/agent-sessions/end", end("rv"))).body).toMatchObject({ ended: false, session: { status: "revoked" } });
    const after = (await d.call("POST", "/v1/check-command", { caller: agentSession("rv"), command: "ls", cwd: "/w" })).body;
    expect(after).toMatchObject({ verdict: "block", session_id: first.session_id });
  });

  test("the same agent session id coming back (a resume) opens a fresh session with the default role", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("resumed"), command: "ls", cwd: "/w" })).body;
    await d.call("POST", "/v1/agent-sessions/end", end("resumed", { reason: "resume" }));
    const second = (await d.call("POST", "/v1/check-command", { caller: agentSession("resumed"), command: "ls", cwd: "/w" })).body;
    expect(second).toMatchObject({ verdict: "allow", role: "default-agent" });
    expect(second.session_id).not.toBe(first.session_id);
    // and that one ends on its own end event
    expect((await d.call("POST", "/v1/agent-sessions/end", end("resumed"))).body).toMatchObject({ ended: true, session: { id: second.session_id } });
    expect((await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status).toBe("exited");
  });

  test("a session shared with the shims of a live agent process (/clear): it exits, and the shims' next check opens a fresh one", async () => {
    const agentPid = process.pid; // alive: the reaper leaves it alone
    await using d = await startTestDaemon({ deps: { findAgent: () => ({ agent: "claude", pid: agentPid }) } });
    const shim = await d.check({ kind: "ancestry", agent: "claude", agent_pid: agentPid }, ["terraform", "plan"]);
    const hook = (await d.call("POST", "/v1/check-command", { caller: agentSession("before-clear", { pid: 7 }), command: "ls", cwd: "/w" })).body;
    expect(hook.session_id).toBe(shim.session_id);
    expect((await d.call("POST", "/v1/agent-sessions/end", end("before-clear", { reason: "clear" }))).body.ended).toBe(true);
    const shimAfter = await d.check({ kind: "ancestry", agent: "claude", agent_pid: agentPid }, ["ls"]);
    expect(shimAfter.verdict).toBe("allow");
    expect(shimAfter.session_id).not.toBe(shim.session_id);
    // the next agent session of that process joins the shims' fresh session
    const next = (await d.call("POST", "/v1/check-command", { caller: agentSession("after-clear", { pid: 7 }), command: "ls", cwd: "/w" })).body;
    expect(next.session_id).toBe(shimAfter.session_id);
  });

  test("a ready session (never reported running) reaches the gateway as running, then exited", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const first = (await d.call("POST", "/v1/check-command", { caller: agentSession("ready-one"), command: "ls", cwd: "/w" })).body;
    d.running.daemon.db.setSessionStatus(first.session_id, "ready");
    const before = outbox(d.paths.daemonDb).length;
    expect((await d.call("POST", "/v1/agent-sessions/end", end("ready-one"))).body.ended).toBe(true);
    expect(outbox(d.paths.daemonDb).slice(before).map((r) => r.payload.status)).toEqual(["running", "exited"]);
  });

  test("a bad body is a 400 naming the field; GET is 405; reason is optional", async () => {
    await using d = await startTestDaemon({ deps: { findAgent: () => null } });
    const bad = await d.call("POST", "/v1/agent-sessions/end", { agent: "claude", agent_session_id: "" });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ path: "body.agent_session_id", message: "must not be empty" }]);
    expect((await d.call("POST", "/v1/agent-sessions/end", { agent: "claude", agent_session_id: "x", extra: 1 })).status).toBe(400);
    expect((await d.call("GET", "/v1/agent-sessions/end")).status).toBe(405);
    expect((await d.call("POST", "/v1/agent-sessions/end", { agent: "claude", agent_session_id: "x" })).body).toEqual({ ended: false, session: null });
    expect((await d.call("POST", "/v1/agent-sessions/end", { agent: "claude", agent_session_id: "x", reason: null })).status).toBe(200);
  });
});

describe("the backstop: a hook's session whose agent process is gone", () => {
  test("is ended by the reaper (no end event needed); a later end event is a no-op", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    await using d = await startTestDaemon({ deps: { findAgent: () => ({ agent: "codex", pid: child.pid }) } });
    const first = (await d.call("POST", "/v1/check-command", { caller: { kind: "agent_session", agent: "codex", agent_session_id: "cx-1", pid: 7 }, command: "ls", cwd: "/w" })).body;
    expect((await d.call("GET", `/v1/sessions/${first.session_id}`)).body).toMatchObject({ status: "running", pid: child.pid });
    child.kill();
    await child.exited;
    await eventually(async () => (await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status === "exited", 3000, "the reaper");
    expect(outbox(d.paths.daemonDb).at(-1)).toMatchObject({ kind: "session.status", payload: { id: first.session_id, status: "exited" } });
    expect((await d.call("POST", "/v1/agent-sessions/end", { agent: "codex", agent_session_id: "cx-1" })).body).toMatchObject({ ended: false, session: { status: "exited" } });
  });
});
