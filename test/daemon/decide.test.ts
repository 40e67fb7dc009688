/** The check path over a real socket: callers, verdicts, fail-closed blocks, the outbox transaction. */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import type { ShellAnalyzer } from "../../src/shell/types";
import { eventually, startTestDaemon } from "./_harness";

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function outbox(path: string): { seq: number; kind: string; payload: any }[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT seq, kind, payload FROM outbox ORDER BY seq").all() as { seq: number; kind: string; payload: string }[]).map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
  } finally {
    db.close();
  }
}

describe("a session created over the socket", () => {
  test("blocks terraform apply and allows terraform plan, naming policy, rule and role", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    expect(s.id).toMatch(/^ses_[0-9a-f]{32}$/);
    expect(s.token).toMatch(/^al_d_[A-Za-z0-9_-]{43}$/);
    const caller = { kind: "session", session_id: s.id, token: s.token };

    const apply = await d.check(caller, ["terraform", "apply"]);
    expect(apply).toMatchObject({ verdict: "block", session_id: s.id, role: "default-agent", policy: "infra-mutation-block", command: "terraform apply" });
    expect(apply.decision_id).toMatch(UUIDV7);

    const plan = await d.check(caller, ["terraform", "-chdir=infra", "plan", "-out=tfplan"]);
    expect(plan.verdict).toBe("allow");
    expect(plan.decision_id).toMatch(UUIDV7);
    expect(plan.decision_id > apply.decision_id).toBe(true); // time-ordered ids

    const rows = outbox(d.paths.daemonDb);
    expect(rows.map((r) => r.kind)).toEqual(["session.create", "decision", "decision"]);
    expect(rows[0]!.payload).toEqual({ id: s.id, agent: "claude", role: "default-agent", user: "dev", host: "laptop.local", cwd: "/work", pid: null });
    expect(rows[1]!.payload).toMatchObject({ id: apply.decision_id, session_id: s.id, agent: "claude", tool: "terraform", command: "terraform apply", verdict: "block", source: "shim", cwd: "/work" });
    expect(rows[2]!.payload).toMatchObject({ id: plan.decision_id, verdict: "allow", normalized: ["terraform plan -out=tfplan"] });
  });

  test("a wrong token is a block with the reason 'invalid session credentials', recorded without the session", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const r = await d.check({ kind: "session", session_id: s.id, token: `${s.token.slice(0, -1)}x` }, ["terraform", "plan"]);
    expect(r).toMatchObject({ verdict: "block", reason: "invalid session credentials", session_id: null, role: null, policy: null });
    const unknown = await d.check({ kind: "session", session_id: "ses_nope", token: s.token }, ["terraform", "plan"]);
    expect(unknown).toMatchObject({ verdict: "block", reason: "invalid session credentials", session_id: null });
    const decisions = outbox(d.paths.daemonDb).filter((row) => row.kind === "decision");
    expect(decisions.map((row) => [row.payload.id, row.payload.session_id, row.payload.verdict])).toEqual([
      [r.decision_id, null, "block"],
      [unknown.decision_id, null, "block"],
    ]);
  });

  test("a revoked session is blocked, and so is an exited one", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    d.running.daemon.db.setSessionStatus(s.id, "revoked");
    const r = await d.check({ kind: "session", session_id: s.id, token: s.token }, ["ls"]);
    expect(r).toMatchObject({ verdict: "block", session_id: s.id, role: "default-agent" });
    expect(r.reason).toBe(`session ${s.id} is revoked; every check of it is blocked`);

    const e = await d.session();
    expect((await d.call("POST", `/v1/sessions/${e.id}/status`, { token: e.token, status: "running", pid: 4242 })).status).toBe(200);
    const exited = await d.call("POST", `/v1/sessions/${e.id}/status`, { token: e.token, status: "exited", exit_code: 0 });
    expect(exited.body).toMatchObject({ id: e.id, status: "exited", pid: 4242 });
    const after = await d.check({ kind: "session", session_id: e.id, token: e.token }, ["terraform", "plan"]);
    expect(after.verdict).toBe("block");
    expect(after.reason).toContain("is exited");
  });

  test("check-command analyzes the whole shell string; the strictest command wins", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    const caller = { kind: "session", session_id: s.id, token: s.token };
    const ask = async (command: string) => (await d.call("POST", "/v1/check-command", { caller, command, cwd: "/work", source: "claude" })).body;
    expect(await ask("cd infra && terraform apply -auto-approve")).toMatchObject({ verdict: "block", command: "terraform apply -auto-approve" });
    expect(await ask("terraform plan && echo done")).toMatchObject({ verdict: "allow" });
    expect(await ask("bash -c 'sudo kubectl delete ns prod'")).toMatchObject({ verdict: "block", command: "kubectl delete ns prod" });
    expect((await ask("$T apply")).verdict).not.toBe("allow");
    const last = outbox(d.paths.daemonDb).at(-1)!.payload;
    expect(last.source).toBe("hook");
    expect(last.command).toBe("$T apply");
  });
});

describe("an agent found by ancestry", () => {
  test("gets one implicit session per agent process, under config.json's default_role", async () => {
    await using d = await startTestDaemon({ config: { default_role: "terraform-restricted-agent" } });
    const caller = { kind: "ancestry", agent: "claude", agent_pid: process.pid };
    const first = await d.check(caller, ["terraform", "import", "a", "b"]);
    expect(first.session_id).toMatch(/^ses_/);
    expect(first.role).toBe("terraform-restricted-agent");
    const second = await d.check(caller, ["terraform", "plan"]);
    expect(second.session_id).toBe(first.session_id);
    const session = (await d.call("GET", `/v1/sessions/${first.session_id}`)).body;
    expect(session).toMatchObject({ agent: "claude", implicit: true, status: "running", pid: process.pid, role: "terraform-restricted-agent" });
    // the gateway learns it as created then running, before its first decision
    expect(outbox(d.paths.daemonDb).map((r) => r.kind)).toEqual(["session.create", "session.status", "decision", "decision"]);

    const other = await d.check({ kind: "ancestry", agent: "codex", agent_pid: process.pid }, ["ls"]);
    expect(other.session_id).not.toBe(first.session_id);
  });

  test("a revoked implicit session keeps blocking that agent process", async () => {
    await using d = await startTestDaemon();
    const caller = { kind: "ancestry", agent: "claude", agent_pid: process.pid };
    const first = await d.check(caller, ["ls"]);
    d.running.daemon.db.setSessionStatus(first.session_id, "revoked");
    const r = await d.check(caller, ["ls"]);
    expect(r).toMatchObject({ verdict: "block", session_id: first.session_id });
    expect(r.reason).toContain("revoked");
  });

  test("an agent process that is gone ends its implicit session; its pid then opens a new one", async () => {
    await using d = await startTestDaemon();
    const child = Bun.spawn(["sleep", "30"]);
    const caller = { kind: "ancestry", agent: "claude", agent_pid: child.pid };
    const first = await d.check(caller, ["ls"]);
    child.kill();
    await child.exited;
    await eventually(async () => (await d.call("GET", `/v1/sessions/${first.session_id}`)).body.status === "exited", 3000, "the reaper");
    expect(outbox(d.paths.daemonDb).at(-1)).toMatchObject({ kind: "session.status", payload: { id: first.session_id, status: "exited" } });
    const again = await d.check(caller, ["ls"]);
    expect(again.verdict).toBe("allow");
    expect(again.session_id).not.toBe(first.session_id);
  });
});

describe("fail closed", () => {
  test("an internal error in the analyzer is a block with the reason, never a 500", async () => {
    const broken: ShellAnalyzer = {
      analyze() {
        throw new Error("parser exploded");
      },
    };
    await using d = await startTestDaemon({ analyzer: broken });
    const s = await d.session();
    const r = await d.call("POST", "/v1/check-command", { caller: { kind: "session", session_id: s.id, token: s.token }, command: "ls", cwd: "/" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ verdict: "block", session_id: s.id, role: "default-agent" });
    expect(r.body.reason).toBe("internal error while checking: parser exploded");
  });

  test("a role the policies do not know is a block naming it", async () => {
    await using d = await startTestDaemon({ config: { default_role: "no-such-role" } });
    const r = await d.check({ kind: "ancestry", agent: "claude", agent_pid: process.pid }, ["ls"]);
    expect(r.verdict).toBe("block");
    expect(r.reason).toContain('unknown role "no-such-role"');
    expect((await d.call("POST", "/v1/sessions", { agent: "claude", cwd: "/", role: "nope" })).body).toMatchObject({
      code: "invalid_input",
      details: [{ path: "body.role", message: "no such role" }],
    });
  });

  test("the decision is written in the same transaction: when it cannot be recorded, nothing is and the check blocks", async () => {
    await using d = await startTestDaemon();
    const db = new Database(d.paths.daemonDb);
    db.run("CREATE TRIGGER refuse BEFORE INSERT ON outbox WHEN NEW.kind = 'decision' BEGIN SELECT RAISE(ABORT, 'disk is full'); END");
    db.close();
    const r = await d.check({ kind: "ancestry", agent: "claude", agent_pid: process.pid }, ["terraform", "plan"]);
    expect(r.verdict).toBe("block");
    expect(r.reason).toContain("disk is full");
    // the implicit session and its outbox rows were rolled back with the decision
    expect(outbox(d.paths.daemonDb)).toEqual([]);
    expect((await d.call("GET", "/v1/sessions")).body.items).toEqual([]);
  });

  test("the decision is in the outbox before the answer arrives", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    for (let i = 0; i < 20; i++) {
      const r = await d.check({ kind: "session", session_id: s.id, token: s.token }, ["kubectl", "get", "pods", String(i)]);
      // read by another connection right after the answer: committed, not merely queued in memory
      expect(outbox(d.paths.daemonDb).some((row) => row.payload.id === r.decision_id)).toBe(true);
    }
  });
});

describe("the socket API", () => {
  test("a bad body is a 400 naming each field", async () => {
    await using d = await startTestDaemon();
    const bad = await d.call("POST", "/v1/check", { caller: { kind: "session", session_id: "" }, argv: [], cwd: "/" });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_input");
    expect(bad.body.details).toEqual(
      expect.arrayContaining([
        { path: "body.caller.session_id", message: "must not be empty" },
        { path: "body.argv", message: "must not be empty" },
      ]),
    );
    const kind = await d.call("POST", "/v1/check", { caller: { kind: "robot" }, argv: ["ls"], cwd: "/" });
    expect(kind.body.details).toEqual([{ path: "body.caller.kind", message: 'must be "session" (with session_id and token), "ancestry" (with agent and agent_pid) or "agent_session" (with agent and agent_session_id)' }]);
    const notJson = await d.call("POST", "/v1/check", "{nope");
    expect(notJson).toMatchObject({ status: 400, body: { code: "invalid_input", details: [{ path: "body", message: "malformed JSON" }] } });
    const extra = await d.call("POST", "/v1/sessions", { agent: "claude", cwd: "/", colour: "red" });
    expect(extra.status).toBe(400);
    expect(extra.body.details[0].path).toBe("body.colour");
  });

  test("unknown routes are 404 and wrong methods 405", async () => {
    await using d = await startTestDaemon();
    expect((await d.call("GET", "/v1/nope")).status).toBe(404);
    expect((await d.call("GET", "/v1/check")).status).toBe(405);
    expect((await d.call("DELETE", "/v1/sessions")).status).toBe(405);
    expect((await d.call("GET", "/v1/sessions/ses_unknown")).status).toBe(404);
  });

  test("session status: authenticated by the token; ready → exited ships running then exited; no way back", async () => {
    await using d = await startTestDaemon();
    const s = await d.session();
    expect((await d.call("POST", `/v1/sessions/${s.id}/status`, { token: "al_d_wrong", status: "running" })).status).toBe(401);
    const exited = await d.call("POST", `/v1/sessions/${s.id}/status`, { token: s.token, status: "exited", exit_code: 3 });
    expect(exited).toMatchObject({ status: 200, body: { status: "exited" } });
    expect(outbox(d.paths.daemonDb).map((r) => [r.kind, r.payload.status ?? null])).toEqual([
      ["session.create", null],
      ["session.status", "running"],
      ["session.status", "exited"],
    ]);
    expect(outbox(d.paths.daemonDb).at(-1)!.payload.exit_code).toBe(3);
    expect((await d.call("POST", `/v1/sessions/${s.id}/status`, { token: s.token, status: "running" })).status).toBe(409);
    // a repeated report is harmless
    expect((await d.call("POST", `/v1/sessions/${s.id}/status`, { token: s.token, status: "exited" })).status).toBe(200);
    expect(outbox(d.paths.daemonDb)).toHaveLength(3);
  });

  test("lists sessions newest first, filtered by status", async () => {
    await using d = await startTestDaemon();
    const a = await d.session({ agent: "claude" });
    const b = await d.session({ agent: "codex", role: "approval-required-agent", user: "alice", pid: 77 });
    await d.call("POST", `/v1/sessions/${a.id}/status`, { token: a.token, status: "running" });
    const all = (await d.call("GET", "/v1/sessions")).body.items;
    expect(all.map((s: any) => s.id)).toEqual([b.id, a.id]);
    expect(all[0]).toMatchObject({ agent: "codex", role: "approval-required-agent", user: "alice", pid: 77, host: "laptop.local", status: "ready", implicit: false });
    expect((await d.call("GET", "/v1/sessions?status=running")).body.items.map((s: any) => s.id)).toEqual([a.id]);
    expect((await d.call("GET", "/v1/sessions?status=bogus")).status).toBe(400);
  });
});
