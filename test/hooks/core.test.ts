/** The shared hook run: callers, daemon routes, the strictest verdict, and every failure as the agent's deny. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonUnavailable } from "../../src/client/daemon";
import { leanEnv } from "../../src/config/lean";
import { claude } from "../../src/hooks/claude";
import { codex } from "../../src/hooks/codex";
import { deadlineMs, hookAnswer, MAX_DEADLINE_MS } from "../../src/hooks/core";
import { cursor } from "../../src/hooks/cursor";
import { gemini } from "../../src/hooks/gemini";
import { fakeDeps } from "./_deps";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "hooks");
const payload = (agent: string, name: string) => readFileSync(join(FIXTURES, agent, `${name}.json`), "utf8");

const deps = fakeDeps;

const answer = (verdict: string, extra: Record<string, unknown> = {}) => ({
  verdict,
  decision_id: "d-1",
  session_id: "ses_1",
  role: "default-agent",
  policy: verdict === "allow" ? null : "p",
  rule: verdict === "allow" ? null : "rules[0]",
  command: "x",
  reason: `${verdict} because`,
  ...extra,
});

const claudeDecision = (stdout: string) => JSON.parse(stdout).hookSpecificOutput;

describe("asking the daemon", () => {
  test("a shell command goes whole to /v1/check-command under the agent's own session", async () => {
    const { d, sent } = deps(payload("claude", "pretooluse-bash-terraform-apply"), () => answer("block"));
    const r = await hookAnswer(claude, {}, d);
    expect(sent).toEqual([
      {
        path: "/v1/check-command",
        body: {
          caller: { kind: "agent_session", agent: "claude", agent_session_id: "7f3c2a1e-5b8d-4e2a-9c1f-0a6b3d2e1f00", pid: 4242 },
          command: "cd infra && terraform apply -auto-approve",
          cwd: "/home/dev/project",
          source: "claude",
        },
        timeoutMs: expect.any(Number),
      },
    ]);
    expect(sent[0]!.timeoutMs).toBeLessThanOrEqual(MAX_DEADLINE_MS);
    expect(r.exitCode).toBe(0);
    expect(claudeDecision(r.stdout).permissionDecision).toBe("deny");
    expect(r.stderr).toEqual([]);
  });

  test("a file edit goes to /v1/check-tool with its path; the explicit session of airlock run wins over the agent's", async () => {
    const env = leanEnv({ HOME: "/h", AIRLOCK_SESSION_ID: "ses_run", AIRLOCK_SESSION_TOKEN: "al_d_tok" });
    const { d, sent } = deps(payload("gemini", "beforetool-write-file-pem"), () => answer("block"), { env });
    const r = await hookAnswer(gemini, {}, d);
    expect(sent[0]).toMatchObject({
      path: "/v1/check-tool",
      body: { caller: { kind: "session", session_id: "ses_run", token: "al_d_tok" }, tool: "Write", path: "/home/dev/project/tls/private.pem", cwd: "/home/dev/project", source: "gemini" },
    });
    expect(JSON.parse(r.stdout).decision).toBe("deny");
  });

  test("an apply_patch is checked file by file and the strictest verdict wins", async () => {
    const { d, sent } = deps(payload("codex", "pretooluse-apply-patch-env"), (_path, body) => (body.path === ".env" ? answer("block", { policy: "file-guard" }) : answer("allow")));
    const r = await hookAnswer(codex, {}, d);
    expect(sent.map((s) => [s.path, s.body.tool, s.body.path])).toEqual([
      ["/v1/check-tool", "Edit", "src/config.ts"],
      ["/v1/check-tool", "Write", ".env"],
    ]);
    const reason = claudeDecision(r.stdout).permissionDecisionReason;
    expect(reason).toContain("airlock: command=Write .env\n");
    expect(reason).toContain("airlock: policy=file-guard\n");
  });

  test("an allow from the daemon is each agent's no-objection answer", async () => {
    for (const [adapter, name, expected] of [
      [claude, "pretooluse-bash-terraform-plan", ""],
      [codex, "pretooluse-bash-terraform-plan", ""],
      [cursor, "before-shell-execution-ls", '{"permission":"allow"}'],
      [gemini, "beforetool-run-shell-git-status", "{}"],
    ] as const) {
      const { d } = deps(payload(adapter.agent, name), () => answer("allow"));
      expect(await hookAnswer(adapter, {}, d)).toMatchObject({ stdout: expected, exitCode: 0, stderr: [] });
    }
  });

  test("a tool the adapter does not check (Claude Code's Read with no path) needs no daemon", async () => {
    const input = JSON.stringify({ ...JSON.parse(payload("claude", "pretooluse-edit-source")), tool_name: "Read", tool_input: {} });
    const { d, sent } = deps(input, () => answer("block"));
    const r = await hookAnswer(claude, {}, d);
    expect(sent.map((s) => s.body.tool)).toEqual(["Read"]); // every other tool: tool rules
    expect(r.stdout).not.toBe("");
  });
});

describe("fail closed: every failure is the agent's deny", () => {
  const cases: [string, string, (p: string, b: any) => unknown, RegExp][] = [
    ["empty stdin", "", () => answer("allow"), /malformed Claude Code hook input: empty input/],
    ["whitespace stdin", "  \n", () => answer("allow"), /empty input/],
    ["garbage stdin", "not json {", () => answer("allow"), /the input is not JSON/],
    ["a JSON array", "[1]", () => answer("allow"), /must be a JSON object/],
    ["a missing field", JSON.stringify({ hook_event_name: "PreToolUse", cwd: "/w", tool_name: "Bash", tool_input: { command: "ls" } }), () => answer("allow"), /missing required field session_id/],
    [
      "the daemon down",
      payload("claude", "pretooluse-bash-terraform-plan"),
      () => {
        throw new DaemonUnavailable("the Airlock daemon is not reachable at /x.sock: ENOENT");
      },
      /the Airlock daemon is not reachable at \/x.sock: ENOENT \(fail mode closed\)/,
    ],
    ["an answer that is not a verdict", payload("claude", "pretooluse-bash-terraform-plan"), () => ({ ok: true }), /internal error while checking: the daemon's answer is not a verdict/],
  ];
  for (const [what, input, verdict, reason] of cases) {
    test(what, async () => {
      const { d } = deps(input, verdict);
      const r = await hookAnswer(claude, {}, d);
      expect(r.exitCode).toBe(0);
      const out = claudeDecision(r.stdout);
      expect(out.permissionDecision).toBe("deny");
      expect(out.permissionDecisionReason).toStartWith("airlock: POLICY BLOCK\n");
      expect(out.permissionDecisionReason).toMatch(reason);
      expect(r.outcome.failure).toBe(true);
    });
  }

  test("the injected internal exception (AIRLOCK_TEST_HOOK_FAULT=throw)", async () => {
    const env = leanEnv({ HOME: "/h", AIRLOCK_TEST_HOOK_FAULT: "throw" });
    const { d, sent } = deps(payload("cursor", "before-shell-execution-ls"), () => answer("allow"), { env });
    const r = await hookAnswer(cursor, {}, d);
    expect(sent).toEqual([]);
    const out = JSON.parse(r.stdout);
    expect(out.permission).toBe("deny");
    expect(out.agent_message).toContain("airlock: command=ls -la && git status\n");
    expect(out.agent_message).toContain("internal error while checking: injected internal error (AIRLOCK_TEST_HOOK_FAULT=throw) (fail mode closed)");
  });

  test("the deadline: a daemon that never answers is a deny within 80% of the hook timeout", async () => {
    const { d } = deps(payload("gemini", "beforetool-run-shell-git-status"), () => new Promise(() => {}));
    const started = performance.now();
    const r = await hookAnswer(gemini, { timeoutSec: 0.25 }, d);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
    const out = JSON.parse(r.stdout);
    expect(out.decision).toBe("deny");
    expect(out.reason).toContain("airlock: command=git status --short\n");
    expect(out.reason).toContain("no verdict within 200 ms (the deadline sits inside Gemini CLI's hook timeout) (fail mode closed)");
  });

  test("the deadline also covers stdin that never ends", async () => {
    const { d } = deps("", () => answer("allow"), { readInput: () => new Promise(() => {}) });
    const r = await hookAnswer(codex, { timeoutSec: 0.1 }, d);
    expect(claudeDecision(r.stdout).permissionDecisionReason).toContain("airlock: command=(hook input)\n");
  });

  test("a parser unknown on a role without approvals is the daemon's block: a deny even under fail mode open", async () => {
    const { d } = deps(payload("claude", "pretooluse-bash-parse-error"), () => answer("block", { reason: "cannot be judged statically (syntax error); it is blocked because this policy set has no approvals" }), { failMode: () => "open" });
    const r = await hookAnswer(claude, {}, d);
    expect(claudeDecision(r.stdout).permissionDecision).toBe("deny");
    expect(r.stderr).toEqual([]);
  });
});

describe("fail mode open (config.json) lets failures through, loudly", () => {
  test("daemon down: no opinion, a warning on stderr", async () => {
    const { d } = deps(
      payload("claude", "pretooluse-bash-terraform-apply"),
      () => {
        throw new DaemonUnavailable("the Airlock daemon is not reachable at /x.sock: ENOENT");
      },
      { failMode: () => "open" },
    );
    const r = await hookAnswer(claude, {}, d);
    expect(r).toMatchObject({ stdout: "", exitCode: 0 });
    expect(r.stderr).toEqual(["airlock: warning: the Airlock daemon is not reachable at /x.sock: ENOENT; fail mode is open, so Claude Code goes ahead unchecked"]);
  });

  test("garbage input under fail mode open is Cursor's allow", async () => {
    const { d } = deps("garbage", () => answer("block"), { failMode: () => "open" });
    const r = await hookAnswer(cursor, {}, d);
    expect(JSON.parse(r.stdout)).toEqual({ permission: "allow" });
    expect(r.stderr[0]).toContain("fail mode is open");
  });

  test("an unreadable config.json is fail mode closed", async () => {
    const { d } = deps("", () => answer("allow"), {
      failMode: () => {
        throw new Error("EACCES");
      },
    });
    expect(claudeDecision((await hookAnswer(claude, {}, d)).stdout).permissionDecision).toBe("deny");
  });
});

test("the deadline is 80% of the agent's hook timeout, at most 10 s", () => {
  expect(deadlineMs(claude)).toBe(MAX_DEADLINE_MS);
  expect(deadlineMs(claude, 5)).toBe(4000);
  expect(deadlineMs(gemini, 60)).toBe(MAX_DEADLINE_MS);
  expect(deadlineMs(cursor, 1)).toBe(800);
  expect(deadlineMs(cursor, Number.NaN)).toBe(MAX_DEADLINE_MS);
});
