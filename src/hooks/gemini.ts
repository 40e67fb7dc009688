/**
 * Gemini CLI `BeforeTool` (geminicli.com/docs/hooks/reference).
 *
 * In:  { session_id, transcript_path, cwd, hook_event_name: "BeforeTool", timestamp, tool_name,
 *      tool_input, mcp_context? } — run_shell_command `tool_input.command`; write_file and replace
 *      `tool_input.file_path`; MCP tools `mcp__<server>__<tool>` (or `mcp_context.server_name`/`tool_name`).
 * Out: exit 0 and JSON on stdout, nothing else: deny → `{"decision":"deny","reason":"...","systemMessage":"..."}`
 *      (`reason` goes to the model as the tool error, `systemMessage` to the user); require_approval →
 *      `{"decision":"ask",...}` (forces Gemini CLI's confirmation prompt: google-gemini/gemini-cli#21146);
 *      allow → `{}` (no opinion: Gemini CLI's own confirmation rules still apply).
 *
 * `SessionEnd` (the same reference): the base fields plus `reason` ("exit" | "clear" | "logout" |
 * "prompt_input_exit" | "other"); best effort, Gemini CLI does not wait for it and ignores flow
 * control. Answer: exit 0 and `{}` (stdout must be JSON alone).
 */
import * as v from "valibot";
import { approvalPendingText, askText, denyText, endCallFrom, HookInputError, mcpName, Obj, parseWith, Str, userLine, type Adapter, type Check, type HookCall, type Outcome } from "./core";

const Payload = v.looseObject({ session_id: Str, cwd: Str, hook_event_name: Str, tool_name: Str, tool_input: Obj });

/** Gemini CLI's file tools → Airlock's vocabulary (docs/policies.md, Tool rules). */
const GEMINI_FILE_TOOLS: Readonly<Record<string, string>> = { write_file: "Write", replace: "Edit" };

function parse(input: unknown): HookCall {
  const p = parseWith(Payload, input) as v.InferOutput<typeof Payload> & Record<string, unknown>;
  if (p.hook_event_name !== "BeforeTool") throw new HookInputError(`hook_event_name: airlock hook gemini answers BeforeTool, not ${JSON.stringify(p.hook_event_name)}`);
  const ti = p.tool_input as Record<string, unknown>;
  let checks: Check[];
  const fileTool = GEMINI_FILE_TOOLS[p.tool_name];
  const mcp = p.mcp_context as { server_name?: unknown; tool_name?: unknown } | undefined;
  if (p.tool_name === "run_shell_command") {
    const { command } = parseWith(v.looseObject({ command: Str }), ti, "tool_input");
    checks = [{ kind: "command", command }];
  } else if (fileTool !== undefined) {
    const { file_path } = parseWith(v.looseObject({ file_path: Str }), ti, "tool_input");
    checks = [{ kind: "tool", tool: fileTool, path: file_path }];
  } else if (p.tool_name === "read_file") {
    const path = typeof ti.file_path === "string" ? ti.file_path : typeof ti.absolute_path === "string" ? ti.absolute_path : undefined;
    checks = [{ kind: "tool", tool: "Read", ...(path ? { path } : {}) }];
  } else if (!p.tool_name.startsWith("mcp__") && mcp && typeof mcp === "object" && typeof mcp.server_name === "string") {
    checks = [{ kind: "tool", tool: mcpName(mcp.server_name, typeof mcp.tool_name === "string" ? mcp.tool_name : p.tool_name) }];
  } else {
    checks = [{ kind: "tool", tool: p.tool_name }];
  }
  return { event: p.hook_event_name, sessionId: p.session_id, cwd: p.cwd, toolName: p.tool_name, checks };
}

export const gemini: Adapter = {
  agent: "gemini",
  label: "Gemini CLI",
  // hook timeout default: 60000 ms
  defaultTimeoutSec: 60,
  parse,
  waitsForApproval: true,
  end: { event: "SessionEnd", parse: (input) => endCallFrom(input, ["session_id"]), answer: { stdout: "{}", exitCode: 0 } },
  answer(o: Outcome) {
    if (o.verdict === "allow") return { stdout: "{}", exitCode: 0 };
    if (o.verdict === "require_approval" && o.approval) return { stdout: JSON.stringify({ decision: "deny", reason: approvalPendingText(o), systemMessage: userLine(o) }), exitCode: 0 };
    if (o.verdict === "require_approval") return { stdout: JSON.stringify({ decision: "ask", reason: askText(o), systemMessage: userLine(o) }), exitCode: 0 };
    return { stdout: JSON.stringify({ decision: "deny", reason: denyText(o), systemMessage: userLine(o) }), exitCode: 0 };
  },
};
