/**
 * The protected-command shim (DESIGN 4, 5). Lean start-up: no Hono, store, valibot or UI code.
 *
 *   session env set            → governed: ask the daemon
 *   an AI agent among ancestors → governed under an implicit session for that agent
 *   neither                     → a human terminal: run the real tool directly
 *
 * Governed and anything goes wrong (daemon unreachable, bad answer, internal error) → blocked,
 * unless fail mode was set to `open` explicitly. Only main.ts exits: this returns the code.
 */
import { assetRoot } from "../config/asset-root";
import { failModeOf, leanEnv } from "../config/lean";
import { err } from "../config/stdio";
import { createDaemonClient, DaemonUnavailable, isCheckResponse } from "../client/daemon";
import type { Caller } from "../protocol/daemon";
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
