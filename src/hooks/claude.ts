/**
 * Claude Code `PreToolUse` (code.claude.com/docs/en/hooks; BUN-NOTES "Hook protocols").
 *
 * In:  { session_id, transcript_path, cwd, permission_mode, hook_event_name: "PreToolUse",
 *        tool_name, tool_input, tool_use_id } — Bash `tool_input.command`; Write/Edit/MultiEdit
 *        `tool_input.file_path`; NotebookEdit `tool_input.notebook_path`; MCP tools `mcp__<server>__<tool>`.
 * Out: exit 0 and `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny"|"ask",
 *      "permissionDecisionReason":"..."}}`. Allow prints nothing: `permissionDecision: "allow"` would
 *      skip Claude Code's own permission prompt, and Airlock's allow only means no rule objects —
 *      except after a verified approval: the human approved this exact call already, so "allow".
 *      An approval still pending when the wait ends is a deny saying: approve it there, then retry.
 * Any other exit, a crash or a timeout lets the call through, so core.ts turns every failure into a deny.
 *
 * `SessionEnd` (the same hooks reference): { session_id, transcript_path, cwd, hook_event_name:
 * "SessionEnd", reason: "clear" | "resume" | "logout" | "prompt_input_exit" | "bypass_permissions_disabled"
 * | "other" }. It cannot block; Claude Code ignores its output. Answer: exit 0, nothing on stdout.
 */
import * as v from "valibot";
import { approvalPendingText, askText, denyText, endCallFrom, HookInputError, Obj, parseWith, Str, type Adapter, type Check, type HookCall, type Outcome } from "./core";

const Payload = v.looseObject({ session_id: Str, cwd: Str, hook_event_name: Str, tool_name: Str, tool_input: Obj });

/** Claude Code's file tools and the field holding the file. */
export const CLAUDE_FILE_TOOLS: Readonly<Record<string, "file_path" | "notebook_path">> = {
  Write: "file_path",
  Edit: "file_path",
  MultiEdit: "file_path",
  NotebookEdit: "notebook_path",
};

/** Claude Code's (and Codex's) tool call → checks. Shared with codex.ts. */
export function claudeStyleChecks(toolName: string, input: Record<string, unknown>): Check[] {
  if (toolName === "Bash") {
    const { command } = parseWith(v.looseObject({ command: Str }), input, "tool_input");
    return [{ kind: "command", command }];
  }
  const field = CLAUDE_FILE_TOOLS[toolName];
  if (field !== undefined) {
    const parsed = parseWith(v.looseObject({ [field]: Str }), input, "tool_input") as Record<string, string>;
    return [{ kind: "tool", tool: toolName, path: parsed[field]! }];
  }
  if (toolName === "Read" && typeof input.file_path === "string" && input.file_path !== "") {
    return [{ kind: "tool", tool: "Read", path: input.file_path }];
  }
  // MCP tools (mcp__server__tool) and any other tool the hook is registered for: tool rules
  return [{ kind: "tool", tool: toolName }];
}

function parse(input: unknown): HookCall {
  const p = parseWith(Payload, input);
  if (p.hook_event_name !== "PreToolUse") throw new HookInputError(`hook_event_name: airlock hook claude answers PreToolUse, not ${JSON.stringify(p.hook_event_name)}`);
  return { event: p.hook_event_name, sessionId: p.session_id, cwd: p.cwd, toolName: p.tool_name, checks: claudeStyleChecks(p.tool_name, p.tool_input) };
}

function decision(permissionDecision: "deny" | "ask" | "allow", reason: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision, permissionDecisionReason: reason } });
}

export const claude: Adapter = {
  agent: "claude",
  label: "Claude Code",
  // command hooks default to 600 s; the plugin's hooks.json sets its own (pass it as --timeout)
  defaultTimeoutSec: 600,
  parse,
  waitsForApproval: true,
  end: { event: "SessionEnd", parse: (input) => endCallFrom(input, ["session_id"]), answer: { stdout: "", exitCode: 0 } },
  answer(o: Outcome) {
    // a human approved this exact call on the paired approver: Claude Code's own prompt would ask twice
    if (o.verdict === "allow" && o.approved) return { stdout: decision("allow", `airlock: ${o.reason}`), exitCode: 0 };
    if (o.verdict === "allow") return { stdout: "", exitCode: 0 };
    if (o.verdict === "require_approval" && o.approval) return { stdout: decision("deny", approvalPendingText(o)), exitCode: 0 };
    if (o.verdict === "require_approval") return { stdout: decision("ask", askText(o)), exitCode: 0 };
    return { stdout: decision("deny", denyText(o)), exitCode: 0 };
  },
};
