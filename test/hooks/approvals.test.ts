/** Hooks and approvals: who waits (Claude Code, Cursor, Gemini CLI) and for how long, who answers at once (Codex), and every outcome. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DaemonUnavailable } from "../../src/client/daemon";
import { claude } from "../../src/hooks/claude";
import { codex } from "../../src/hooks/codex";
import { approvalWaitMs, hookAnswer } from "../../src/hooks/core";
import { cursor } from "../../src/hooks/cursor";
import { gemini } from "../../src/hooks/gemini";
import { fakeDeps } from "./_deps";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "hooks");
const payload = (agent: string, name: string) => readFileSync(join(FIXTURES, agent, `${name}.json`), "utf8");
const APPROVAL = { id: "01a2-approval", expires_at: "2030-01-01T00:00:00.000Z", approver_online: true, fingerprint: "K7QM-3XWP-ABCD", reused: false };

const check = {
  verdict: "require_approval",
  decision_id: "d-1",
  session_id: "ses_1",
  role: "default-agent",
  policy: "helm-guard",
  rule: "rules[1]",
  command: "helm upgrade web ./chart -n prod",
  reason: "needs approval by policy helm-guard",
  approval: APPROVAL,
};

function deps(input: string, waitAnswer: unknown | (() => unknown), env: Record<string, string> = {}) {
  return fakeDeps(input, (path) => (path.endsWith("/wait") ? (typeof waitAnswer === "function" ? (waitAnswer as () => unknown)() : waitAnswer) : check), {}, env);
}

const claudeOut = (stdout: string) => JSON.parse(stdout).hookSpecificOutput;

describe("Claude Code waits within its hook timeout", () => {
  test("approved and verified: allow (the human approved this exact call), after waiting timeout - 5 s", async () => {
    const { d, sent } = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "approved", reason: "approved on your paired approver (approval 01a2-approval), signature verified", allow: true, decision_id: "d-2" });
    const r = await hookAnswer(claude, { timeoutSec: 120 }, d);
    expect(sent.map((s) => s.path)).toEqual(["/v1/check-command", "/v1/approvals/01a2-approval/wait"]);
    expect(sent[1]!.body.final).toBe(false);
    expect(sent[1]!.body.timeout_ms).toBeGreaterThan(110_000);
    expect(sent[1]!.body.timeout_ms).toBeLessThanOrEqual(115_000);
    expect(claudeOut(r.stdout)).toEqual({ hookEventName: "PreToolUse", permissionDecision: "allow", permissionDecisionReason: "airlock: approved on your paired approver (approval 01a2-approval), signature verified" });
  });

  test("still pending when the wait ends: deny saying approve it there, then retry", async () => {
    const { d } = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "pending", reason: "no decision yet", allow: false, decision_id: null });
    const out = claudeOut((await hookAnswer(claude, { timeoutSec: 120 }, d)).stdout);
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toStartWith("airlock: APPROVAL PENDING\nairlock: command=helm upgrade web ./chart -n prod\nairlock: result=not run yet; a human must approve it first.\n");
    expect(out.permissionDecisionReason).toContain("airlock: reason=approval pending on your paired device — approve it there, then retry");
    expect(out.permissionDecisionReason).toContain("(fingerprint K7QM-3XWP-ABCD)");
    expect(out.permissionDecisionReason).toContain("airlock: approval=01a2-approval\n");
  });

  test("denied: deny with the block lines, naming the approver", async () => {
    const { d } = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "denied", reason: "denied by phone (K7QM-3XWP-ABCD) (approval 01a2-approval), signature verified", allow: false, decision_id: "d-3" });
    const out = claudeOut((await hookAnswer(claude, { timeoutSec: 120 }, d)).stdout);
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toStartWith("airlock: POLICY BLOCK\n");
    expect(out.permissionDecisionReason).toContain("airlock: reason=denied by phone (K7QM-3XWP-ABCD)");
    expect(out.permissionDecisionReason).toContain("airlock: decision=d-3");
  });

  test("a rejected signature is a deny even under fail mode open; an unreachable daemon follows the fail mode", async () => {
    const { d } = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "rejected", reason: "approval x rejected: invalid signature [bad_signature]: ...", allow: false, decision_id: "d-4" });
    const rejected = await hookAnswer(claude, { timeoutSec: 120 }, { ...d, failMode: () => "open" });
    expect(claudeOut(rejected.stdout).permissionDecision).toBe("deny");
    expect(claudeOut(rejected.stdout).permissionDecisionReason).toContain("invalid signature");

    const gone = deps(payload("claude", "pretooluse-bash-helm-upgrade"), () => {
      throw new DaemonUnavailable("the Airlock daemon is not reachable at /x: gone");
    });
    expect(claudeOut((await hookAnswer(claude, { timeoutSec: 120 }, gone.d)).stdout).permissionDecision).toBe("deny");
    const open = await hookAnswer(claude, { timeoutSec: 120 }, { ...gone.d, failMode: () => "open" });
    expect(open.stdout).toBe("");
    expect(open.stderr[0]).toContain("fail mode is open");
  });

  test("the wait is bounded by AIRLOCK_APPROVAL_TIMEOUT, and no wait happens with under a second left", async () => {
    const { d, sent } = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "pending", reason: "no decision yet", allow: false, decision_id: null }, { AIRLOCK_APPROVAL_TIMEOUT: "2" });
    await hookAnswer(claude, { timeoutSec: 120 }, d);
    expect(sent[1]!.body.timeout_ms).toBeLessThanOrEqual(2000);
    const short = deps(payload("claude", "pretooluse-bash-helm-upgrade"), { status: "approved", reason: "x", allow: true, decision_id: null });
    const r = await hookAnswer(claude, { timeoutSec: 5 }, short.d);
    expect(short.sent.map((s) => s.path)).toEqual(["/v1/check-command"]);
    expect(claudeOut(r.stdout).permissionDecisionReason).toStartWith("airlock: APPROVAL PENDING");
    expect(approvalWaitMs(claude, { approvalTimeoutMs: 120_000 }, 30)).toBe(25_000);
    expect(approvalWaitMs(claude, { approvalTimeoutMs: 120_000 })).toBe(120_000);
    expect(approvalWaitMs(gemini, { approvalTimeoutMs: 120_000 })).toBe(55_000);
  });
});

describe("Codex answers at once", () => {
  test("the request is with the approver: deny with the pending reason, no wait (the retry consumes the approval)", async () => {
    const { d, sent } = deps(payload("codex", "pretooluse-bash-helm-upgrade"), () => {
      throw new Error("Codex must not wait");
    });
    const out = claudeOut((await hookAnswer(codex, {}, d)).stdout);
    expect(sent.map((s) => s.path)).toEqual(["/v1/check-command"]);
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toStartWith("airlock: APPROVAL PENDING\n");
    expect(out.permissionDecisionReason).toContain("Once they have approved it there, run this exact command again");
  });
});

describe("Cursor and Gemini CLI wait like Claude Code", () => {
  test("approved → allow; pending → deny with the pending lines", async () => {
    const approved = { status: "approved", reason: "approved", allow: true, decision_id: "d" };
    const pending = { status: "pending", reason: "no decision yet", allow: false, decision_id: null };
    expect(JSON.parse((await hookAnswer(cursor, { timeoutSec: 30 }, deps(payload("cursor", "before-shell-execution-helm-upgrade"), approved).d)).stdout)).toEqual({ permission: "allow" });
    const c = JSON.parse((await hookAnswer(cursor, { timeoutSec: 30 }, deps(payload("cursor", "before-shell-execution-helm-upgrade"), pending).d)).stdout);
    expect(c.permission).toBe("deny");
    expect(c.agent_message).toStartWith("airlock: APPROVAL PENDING");
    expect(c.user_message).toContain("on your paired approver (K7QM-3XWP-ABCD), then retry");
    expect(JSON.parse((await hookAnswer(gemini, {}, deps(payload("gemini", "beforetool-run-shell-kubectl-apply"), approved).d)).stdout)).toEqual({});
    const g = JSON.parse((await hookAnswer(gemini, {}, deps(payload("gemini", "beforetool-run-shell-kubectl-apply"), pending).d)).stdout);
    expect(g.decision).toBe("deny");
    expect(g.reason).toStartWith("airlock: APPROVAL PENDING");
  });
});
