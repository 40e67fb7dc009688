/**
 * Codex `PreToolUse` (developers.openai.com/codex/hooks; BUN-NOTES "Hook protocols").
 *
 * In:  Claude Code's shape plus `turn_id` and `model`: { session_id, turn_id, transcript_path, cwd,
 *      hook_event_name: "PreToolUse", model, permission_mode, tool_name, tool_input, tool_use_id }.
 *      Shell calls are `Bash` with `tool_input.command` (a string; an argv list is accepted too);
 *      file edits are `apply_patch` with the patch text in `tool_input.command`; MCP tools
 *      `mcp__<server>__<tool>`.
 * Out: in PreToolUse Codex honours only deny (`allow`/`ask` are rejected and the call runs), so:
 *      deny → exit 0 and `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny",
 *      "permissionDecisionReason":"..."}}`; require_approval → the same deny, its reason saying approval
 *      is required and how it is requested; allow → nothing.
 *
 * No session-end event: Codex's hooks are SessionStart, PreToolUse, PermissionRequest, PostToolUse,
 * UserPromptSubmit and Stop, and Stop runs at turn scope (developers.openai.com/codex/hooks). A
 * Codex session linked to its agent process by ancestry ends when that process does (daemon reaper).
 */
import * as v from "valibot";
import { claudeStyleChecks } from "./claude";
import { approvalDenyText, approvalPendingText, denyText, HookInputError, Obj, parseWith, Str, type Adapter, type Check, type HookCall, type Outcome } from "./core";

const Payload = v.looseObject({ session_id: Str, cwd: Str, hook_event_name: Str, tool_name: Str, tool_input: Obj });

/** Quotes an argv for display, as a shell would read it back. */
function joinArgv(argv: readonly string[]): string {
  return argv.map((w) => (w !== "" && /^[A-Za-z0-9_@%+=:,./~^-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/**
 * The files an apply_patch touches: `*** Add File: p` → Write, `*** Update File: p` → Edit,
 * `*** Delete File: p` → Delete, `*** Move to: q` → Write q.
 */
export function patchChecks(patch: string): Check[] {
  const checks: Check[] = [];
  for (const raw of patch.split("\n")) {
    const line = raw.replace(/\r$/, "");
    const m = line.match(/^\*\*\* (Add|Update|Delete) File: (.+)$/);
    if (m) {
      checks.push({ kind: "tool", tool: m[1] === "Add" ? "Write" : m[1] === "Update" ? "Edit" : "Delete", path: m[2]!.trim() });
      continue;
    }
    const move = line.match(/^\*\*\* Move to: (.+)$/);
    if (move) checks.push({ kind: "tool", tool: "Write", path: move[1]!.trim() });
  }
  return checks;
}

function parse(input: unknown): HookCall {
  const p = parseWith(Payload, input);
  if (p.hook_event_name !== "PreToolUse") throw new HookInputError(`hook_event_name: airlock hook codex answers PreToolUse, not ${JSON.stringify(p.hook_event_name)}`);
  let checks: Check[];
  if (p.tool_name === "Bash" || p.tool_name === "apply_patch") {
    const command = p.tool_input.command;
    let text: string;
    if (typeof command === "string" && command !== "") text = command;
    else if (Array.isArray(command) && command.length > 0 && command.every((w) => typeof w === "string")) text = joinArgv(command as string[]);
    else throw new HookInputError(command === undefined ? "missing required field tool_input.command" : "tool_input.command: must be a string or a list of strings");
    if (p.tool_name === "Bash") checks = [{ kind: "command", command: text }];
    else {
      checks = patchChecks(text);
      if (checks.length === 0) throw new HookInputError("tool_input.command: the patch names no file (expected '*** Add File:', '*** Update File:' or '*** Delete File:' lines)");
    }
  } else {
    checks = claudeStyleChecks(p.tool_name, p.tool_input);
  }
  return { event: p.hook_event_name, sessionId: p.session_id, cwd: p.cwd, toolName: p.tool_name, checks };
}

function deny(reason: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } });
}

export const codex: Adapter = {
  agent: "codex",
  label: "Codex",
  defaultTimeoutSec: 600,
  parse,
  // Codex honours only deny: waiting would hold its turn without a way to say "approved"; the request
  // is with the approver already, and the retry after the human approved consumes it
  waitsForApproval: false,
  answer(o: Outcome) {
    if (o.verdict === "allow") return { stdout: "", exitCode: 0 };
    if (o.verdict === "require_approval" && o.approval) return { stdout: deny(approvalPendingText(o)), exitCode: 0 };
    if (o.verdict === "require_approval") return { stdout: deny(approvalDenyText(o, "Codex")), exitCode: 0 };
    return { stdout: deny(denyText(o)), exitCode: 0 };
  },
};
