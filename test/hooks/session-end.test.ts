/**
 * The agents' session-end events (Claude Code and Gemini CLI `SessionEnd`, Cursor `sessionEnd`):
 * recognised by event name, told to the daemon (`POST /v1/agent-sessions/end`), answered with the
 * agent's plain "nothing to say", and never a deny whatever fails. A malformed tool call keeps
 * failing closed.
 */
import { describe, expect, test } from "bun:test";
import { DaemonUnavailable } from "../../src/client/daemon";
import { leanEnv } from "../../src/config/lean";
import { claude } from "../../src/hooks/claude";
import { codex } from "../../src/hooks/codex";
import { END_DEADLINE_MS, hookAnswer, type Adapter, type HookDeps } from "../../src/hooks/core";
import { cursor } from "../../src/hooks/cursor";
import { gemini } from "../../src/hooks/gemini";
import { fakeDeps } from "./_deps";

const deps = fakeDeps;

/** Each agent's documented end payload. */
const PAYLOADS: Record<"claude" | "gemini" | "cursor", Record<string, unknown>> = {
  claude: {
    session_id: "7f3c2a1e-5b8d-4e2a-9c1f-0a6b3d2e1f00",
    transcript_path: "/home/dev/.claude/projects/-home-dev-project/7f3c2a1e.jsonl",
    cwd: "/home/dev/project",
    permission_mode: "default",
    hook_event_name: "SessionEnd",
    reason: "prompt_input_exit",
  },
  gemini: {
    session_id: "gemini-session-1",
    transcript_path: "/home/dev/.gemini/tmp/chats/session-1.json",
    cwd: "/home/dev/project",
    hook_event_name: "SessionEnd",
    timestamp: "2026-05-01T10:00:00.000Z",
    reason: "exit",
  },
  cursor: {
    hook_event_name: "sessionEnd",
    conversation_id: "cursor-conv-1",
    generation_id: "gen-1",
    workspace_roots: ["/home/dev/project"],
  },
};
const ADAPTERS = { claude, gemini, cursor } as const;
const QUIET = { claude: "", gemini: "{}", cursor: "{}" } as const;
const ENDED = { ended: true, session: { id: "ses_1", status: "exited" } };

describe("an end event tells the daemon and answers the agent's plain nothing", () => {
  for (const agent of ["claude", "gemini", "cursor"] as const) {
    test(agent, async () => {
      const { d, sent } = deps(JSON.stringify(PAYLOADS[agent]), () => ENDED);
      const r = await hookAnswer(ADAPTERS[agent], { timeoutSec: 120 }, d);
      const id = agent === "cursor" ? "cursor-conv-1" : (PAYLOADS[agent].session_id as string);
      const reason = agent === "cursor" ? null : (PAYLOADS[agent].reason as string);
      expect(sent).toEqual([{ path: "/v1/agent-sessions/end", body: { agent, agent_session_id: id, reason }, timeoutMs: expect.any(Number) }]);
      expect(sent[0]!.timeoutMs).toBeLessThanOrEqual(END_DEADLINE_MS);
      expect({ stdout: r.stdout, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ stdout: QUIET[agent], exitCode: 0, stderr: [] });
      expect(r.end).toEqual({ sessionId: id, reason, ended: true, note: "session ses_1 exited" });
    });
  }

  test("an unknown or already ended agent session is a no-op, the same answer", async () => {
    const unknown = await hookAnswer(claude, {}, deps(JSON.stringify(PAYLOADS.claude), () => ({ ended: false, session: null })).d);
    expect(unknown).toMatchObject({ stdout: "", exitCode: 0, stderr: [], end: { ended: false } });
    expect(unknown.end!.note).toContain("nothing to end");
    const again = await hookAnswer(gemini, {}, deps(JSON.stringify(PAYLOADS.gemini), () => ({ ended: false, session: { id: "ses_1", status: "exited" } })).d);
    expect(again).toMatchObject({ stdout: "{}", exitCode: 0, stderr: [], end: { ended: false, note: "session ses_1 is exited already: nothing to end" } });
  });

  test("under airlock run (explicit session) the daemon is not asked: airlock run ends its own session", async () => {
    const env = leanEnv({ HOME: "/h", AIRLOCK_SESSION_ID: "ses_run", AIRLOCK_SESSION_TOKEN: "al_d_tok" });
    const { d, sent } = deps(JSON.stringify(PAYLOADS.claude), () => ENDED, { env });
    const r = await hookAnswer(claude, {}, d);
    expect(sent).toEqual([]);
    expect(r).toMatchObject({ stdout: "", exitCode: 0, stderr: [], end: { ended: false } });
  });
});

describe("nothing on the end path fails closed", () => {
  const cases: [string, string, (path: string, body: any) => unknown, Partial<HookDeps>][] = [
    [
      "daemon unreachable: silent",
      JSON.stringify(PAYLOADS.claude),
      () => {
        throw new DaemonUnavailable("the Airlock daemon is not reachable at /x.sock: ENOENT");
      },
      {},
    ],
    ["an answer that is not an end result", JSON.stringify(PAYLOADS.claude), () => ({ verdict: "block" }), {}],
    [
      "an internal error (AIRLOCK_TEST_HOOK_FAULT=throw)",
      JSON.stringify(PAYLOADS.claude),
      () => ENDED,
      { env: leanEnv({ HOME: "/nonexistent", AIRLOCK_HOME: "/nonexistent/.airlock", AIRLOCK_TEST_HOOK_FAULT: "throw" }) },
    ],
    ["a daemon that never answers", JSON.stringify(PAYLOADS.claude), () => new Promise(() => {}), {}],
  ];
  for (const [what, input, reply, over] of cases) {
    test(what, async () => {
      const started = performance.now();
      const r = await hookAnswer(claude, { timeoutSec: 1 }, deps(input, reply, over).d);
      expect(performance.now() - started).toBeLessThan(2000);
      expect({ stdout: r.stdout, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ stdout: "", exitCode: 0, stderr: [] });
      expect(r.end).toMatchObject({ sessionId: PAYLOADS.claude.session_id, ended: null });
      expect(r.outcome.failure).toBe(false);
    });
  }

  test("an end payload without the session id: the plain answer and a warning on stderr, no request", async () => {
    const { session_id: _, ...rest } = PAYLOADS.claude;
    const { d, sent } = deps(JSON.stringify(rest), () => ENDED);
    const r = await hookAnswer(claude, {}, d);
    expect(sent).toEqual([]);
    expect(r.stdout).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toEqual(["airlock: warning: malformed Claude Code SessionEnd input: missing required field session_id; the Airlock session (if any) ends when its agent process does"]);
    const cursorNoId = await hookAnswer(cursor, {}, deps(JSON.stringify({ hook_event_name: "sessionEnd" }), () => ENDED).d);
    expect(cursorNoId).toMatchObject({ stdout: "{}", exitCode: 0 });
    expect(cursorNoId.stderr[0]).toContain("missing required field conversation_id");
  });

  test("under fail mode open or closed alike: the answer does not depend on the fail mode", async () => {
    for (const mode of ["open", "closed"] as const) {
      const r = await hookAnswer(gemini, {}, deps(JSON.stringify(PAYLOADS.gemini), () => Promise.reject(new DaemonUnavailable("down")), { failMode: () => mode }).d);
      expect({ stdout: r.stdout, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ stdout: "{}", exitCode: 0, stderr: [] });
    }
  });
});

describe("only the end event leaves the fail-closed path", () => {
  const claudeDecision = (stdout: string) => JSON.parse(stdout).hookSpecificOutput;

  test("a malformed PreToolUse is still a deny, and the daemon being down for one is still a deny", async () => {
    const malformed = await hookAnswer(claude, {}, deps(JSON.stringify({ session_id: "s", cwd: "/w", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: {} }), () => ENDED).d);
    expect(claudeDecision(malformed.stdout)).toMatchObject({ permissionDecision: "deny" });
    expect(malformed.outcome.failure).toBe(true);
    const down = await hookAnswer(
      claude,
      {},
      deps(JSON.stringify({ session_id: "s", cwd: "/w", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "ls" } }), () => {
        throw new DaemonUnavailable("down");
      }).d,
    );
    expect(claudeDecision(down.stdout).permissionDecision).toBe("deny");
    expect(down.end).toBeUndefined();
  });

  test("the end event's name must match exactly, per agent; another agent's end name is that agent's deny", async () => {
    // Cursor's name sent to Claude Code's hook, and a lower-cased SessionEnd: not end events
    for (const event of ["sessionEnd", "sessionend", "Stop"]) {
      const r = await hookAnswer(claude, {}, deps(JSON.stringify({ ...PAYLOADS.claude, hook_event_name: event }), () => ENDED).d);
      expect(claudeDecision(r.stdout).permissionDecision).toBe("deny");
      expect(r.end).toBeUndefined();
    }
    const cursorWrong = await hookAnswer(cursor, {}, deps(JSON.stringify({ ...PAYLOADS.cursor, hook_event_name: "SessionEnd" }), () => ENDED).d);
    expect(JSON.parse(cursorWrong.stdout).permission).toBe("deny");
  });

  test("Codex has no session-end event: its Stop is a turn, not a session, and stays a deny", async () => {
    expect((codex as Adapter).end).toBeUndefined();
    const r = await hookAnswer(codex, {}, deps(JSON.stringify({ session_id: "c", turn_id: "t", cwd: "/w", hook_event_name: "Stop" }), () => ENDED).d);
    expect(claudeDecision(r.stdout).permissionDecision).toBe("deny");
  });

  test("the deadline still covers reading stdin on the end path's way in", async () => {
    const started = performance.now();
    const r = await hookAnswer(claude, { timeoutSec: 0.2 }, deps("", () => ENDED, { readInput: () => new Promise(() => {}) }).d);
    expect(performance.now() - started).toBeLessThan(1000);
    // nothing was read, so nothing says it was an end event: the fail-closed deny
    expect(claudeDecision(r.stdout).permissionDecision).toBe("deny");
  });
});
