/**
 * `airlock hook <claude|codex|cursor|gemini> [--timeout SECONDS]`: the agent hook handler
 * (DESIGN 1, 5). The agent's JSON comes on stdin; the answer goes to stdout in that agent's
 * protocol. Reached through the `direct` path (no citty, no valibot-heavy CLI code): a hook runs on
 * every tool call. It never throws: every failure is the agent's deny (src/hooks/core.ts).
 */
import type { CommandDef } from "citty";
import { err, out } from "../config/stdio";
import { ADAPTERS, runHook, type HookAgent } from "../hooks/index";

export const HOOK_HELP = `Usage: airlock hook <claude|codex|cursor|gemini> [--timeout SECONDS]

Agent hook handler: reads the agent's hook JSON on stdin and answers on stdout in that agent's
protocol (Claude Code PreToolUse, Codex PreToolUse, Cursor beforeShellExecution/beforeMCPExecution/
beforeReadFile/preToolUse, Gemini CLI BeforeTool). Shell commands are checked as whole strings by the
daemon; file edits and MCP calls against the role's tool rules (docs/policies.md, Tool rules).
A session-end event (Claude Code and Gemini CLI SessionEnd, Cursor sessionEnd) ends the Airlock
session the agent's session maps to, and never blocks.

  --timeout SECONDS   the timeout the agent's hook config gives this hook (installed: 120). A check
                      answers within 80% of it (at most 10 s); a command that needs approval waits
                      for the paired approver until 5 s before it (Codex: denies at once with the
                      reason; its retry after the approval goes through, docs/approvals.md).
                      Default: the agent's documented default.

Any failure (bad input, daemon down, internal error, deadline) is the agent's deny, unless
config.json sets "fail_mode": "open".
`;

function usage(message: string): number {
  // exit 2 blocks the call in all four agents, the reason on stderr
  err(`airlock: error: ${message}\n${HOOK_HELP}`);
  return 2;
}

export async function runHookCommand(args: readonly string[]): Promise<number> {
  const [agent, ...rest] = args;
  if (agent === "--help" || agent === "-h") {
    out(HOOK_HELP);
    return 0;
  }
  if (agent === undefined) return usage("airlock hook needs an agent: claude, codex, cursor or gemini");
  if (!Object.hasOwn(ADAPTERS, agent)) return usage(`unknown agent ${JSON.stringify(agent)}; use claude, codex, cursor or gemini`);
  let timeoutSec: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    let value: string | undefined;
    if (a === "--timeout") value = rest[++i];
    else if (a.startsWith("--timeout=")) value = a.slice("--timeout=".length);
    else return usage(`unknown option ${a} for airlock hook`);
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n <= 0) return usage("--timeout needs a number of seconds greater than 0");
    timeoutSec = n;
  }
  return runHook(ADAPTERS[agent as HookAgent], timeoutSec === undefined ? {} : { timeoutSec });
}

/** For `airlock hook` with no argument (citty prints the usage). A plain object: `defineCommand` is
 * the identity, and importing citty would cost the hook ~0.5 ms on every tool call. */
export const hookCommand: CommandDef = {
  meta: { name: "hook", description: "Agent hook handler: airlock hook <claude|codex|cursor|gemini> (the agent's JSON on stdin)" },
  args: { agent: { type: "positional", description: "claude, codex, cursor or gemini", required: true } },
  run: ({ rawArgs }) => runHookCommand(rawArgs),
};
