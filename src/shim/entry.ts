/**
 * The protected-command shim (DESIGN 4, 5). Lean start-up: no Hono, store, valibot or UI code.
 *
 *   session env set            → governed: ask the daemon
 *   an AI agent among ancestors → governed under an implicit session for that agent
 *   neither                     → a human terminal: run the real tool directly
 *
 * Governed and anything goes wrong (daemon unreachable, bad answer, internal error) → blocked,
 * unless fail mode was set to `open` explicitly. Only main.ts exits: this returns the code.
 *
 * A `require_approval` answer carries the request the daemon sent to the paired approver: the shim
 * says so on stderr and waits (AIRLOCK_APPROVAL_TIMEOUT, default 120 s; Ctrl-C cancels). The
 * daemon verifies the signed decision and has the last word (`allow`): the real tool runs only then.
 */
import { assetRoot } from "../config/asset-root";
import { failModeOf, leanEnv } from "../config/lean";
import { err } from "../config/stdio";
import { createDaemonClient, DaemonUnavailable, isCheckResponse } from "../client/daemon";
import type { Caller, CheckResponse, WaitAnswer } from "../protocol/daemon";
import { blockMessage } from "../protocol/block";
import { findAgentAncestor, shippedAgentNames } from "./ancestry";
import { armSignals, runTool, signalExitCode, type SignalRelay } from "./exec";
import { findRealTool } from "./resolve";

export { BLOCK_INSTRUCTION, blockMessage } from "../protocol/block";

/** How long a governed shim waits for the daemon before failing closed. */
const CHECK_TIMEOUT_MS = 3000;

async function runReal(tool: string, args: readonly string[], env: ReturnType<typeof leanEnv>, relay: SignalRelay): Promise<number> {
  // a signal that arrived while we were checking: the caller gave up, so the tool does not start
  if (relay.pending) {
    relay.disarm();
    return signalExitCode(relay.pending);
  }
  const found = findRealTool(tool, process.env.PATH ?? "", { airlockBin: env.bin, self: process.execPath });
  if (!found.path) {
    const skipped = found.skipped.length ? ` (skipped Airlock's own ${found.skipped.join(", ")})` : "";
    err(`airlock: ${tool}: the real executable was not found on PATH${skipped}\n`);
    return 127;
  }
  return runTool(found.path, tool, args, process.env, { relay });
}

export async function runShim(tool: string, args: readonly string[]): Promise<number> {
  const relay = armSignals();
  try {
    return await decideAndRun(tool, args, relay);
  } finally {
    relay.disarm();
  }
}

async function decideAndRun(tool: string, args: readonly string[], relay: SignalRelay): Promise<number> {
  const command = [tool, ...args].join(" ");
  let env: ReturnType<typeof leanEnv>;
  let caller: Caller | null;
  try {
    env = leanEnv();
    if (env.sessionId && env.sessionToken) {
      caller = { kind: "session", session_id: env.sessionId, token: env.sessionToken };
    } else {
      const match = findAgentAncestor(env.knownAgents ?? shippedAgentNames(assetRoot()));
      caller = match ? { kind: "ancestry", agent: match.agent, agent_pid: match.pid } : null;
    }
  } catch (error) {
    // we cannot even tell whether an agent is asking: refuse rather than guess
    err(blockMessage(command, { reason: `internal error while checking: ${(error as Error).message}` }));
    return 126;
  }

  if (caller === null) return runReal(tool, args, env, relay); // a human terminal is never blocked by Airlock

  let reason: string;
  try {
    const answer = await createDaemonClient(env.socket).request<unknown>(
      "POST",
      "/v1/check",
      { caller, argv: [tool, ...args], cwd: process.cwd() },
      CHECK_TIMEOUT_MS,
    );
    if (!isCheckResponse(answer)) throw new Error("the daemon's answer is not a verdict");
    if (answer.verdict === "allow") return runReal(tool, args, env, relay);
    if (answer.verdict === "require_approval" && answer.approval) return await waitForApproval(tool, args, command, answer, env, relay);
    err(
      blockMessage(command, {
        reason: answer.verdict === "require_approval" ? `approval required: ${answer.reason}` : answer.reason,
        policy: answer.policy,
        rule: answer.rule,
        role: answer.role,
        session: answer.session_id,
        decision: answer.decision_id,
      }),
    );
    return 126;
  } catch (error) {
    reason = error instanceof DaemonUnavailable ? error.message : `internal error while checking: ${(error as Error).message}`;
  }
  if (failModeOf(env.config) === "open") {
    err(`airlock: warning: ${reason}; fail mode is open, so ${tool} runs unchecked\n`);
    return runReal(tool, args, env, relay);
  }
  err(blockMessage(command, { reason: `${reason} (fail mode closed)` }));
  return 126;
}

const WAIT_SLACK_MS = 5000;

/** The request is with the paired approver: wait for the daemon's verified answer, then run or block. */
async function waitForApproval(tool: string, args: readonly string[], command: string, check: CheckResponse, env: ReturnType<typeof leanEnv>, relay: SignalRelay): Promise<number> {
  const approval = check.approval!;
  const timeoutMs = env.approvalTimeoutMs;
  const shown = command.length > 200 ? `${command.slice(0, 199)}…` : command;
  const offline = approval.approver_online === false ? " (no approver is connected right now)" : "";
  err(`airlock: waiting for approval of ${JSON.stringify(shown)} on your paired approver (fingerprint ${approval.fingerprint})${offline}, up to ${Math.round(timeoutMs / 1000)}s — Ctrl-C to cancel\n`);
  const cancelled = new Promise<"signal">((resolve) => relay.onSignal(() => resolve("signal")));
  const waited = createDaemonClient(env.socket).request<WaitAnswer>("POST", `/v1/approvals/${encodeURIComponent(approval.id)}/wait`, { timeout_ms: timeoutMs, final: true }, timeoutMs + WAIT_SLACK_MS);
  waited.catch(() => {});
  const outcome = await Promise.race([waited, cancelled]);
  if (outcome === "signal") {
    err(`airlock: approval of ${JSON.stringify(shown)} cancelled; the real executable was not run\n`);
    relay.disarm();
    return signalExitCode(relay.pending ?? "SIGINT");
  }
  if (typeof outcome?.allow !== "boolean" || typeof outcome.reason !== "string") throw new Error("the daemon's answer to the wait is not an outcome");
  if (outcome.allow) {
    if (outcome.status !== "approved") err(`airlock: warning: ${outcome.reason}\n`);
    return runReal(tool, args, env, relay);
  }
  err(
    blockMessage(command, {
      reason: outcome.reason,
      approval: `${approval.id} (${outcome.status})`,
      policy: check.policy,
      rule: check.rule,
      role: check.role,
      session: check.session_id,
      decision: outcome.decision_id ?? check.decision_id,
    }),
  );
  return 126;
}
