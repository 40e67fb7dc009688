/**
 * Cursor agent hooks (cursor.com/docs/agent/hooks): `beforeShellExecution`, `beforeMCPExecution`,
 * `beforeReadFile` and the generic `preToolUse` (the file tools: Write, Edit/StrReplace, Delete).
 *
 * In:  every event: { hook_event_name, conversation_id, generation_id, workspace_roots, ... };
 *      beforeShellExecution { command, cwd }; beforeMCPExecution { tool_name, tool_input, url | command }
 *      (no server name: the tool is checked as `mcp__<server_name|server|unknown>__<tool_name>`);
 *      beforeReadFile { file_path, content }; preToolUse { tool_name, tool_input }.
 * Out: exit 0 and `{"permission":"allow"|"deny"|"ask","user_message":"...","agent_message":"..."}`.
 *      Allow must be said (`{"permission":"allow"}`): with `failClosed: true`, a hook that prints
 *      nothing is refused. beforeReadFile has no ask: require_approval is a deny saying so.
 *
 * `sessionEnd`: the reference lists it among the agent hooks ("session lifecycle management") and
 * every event carries `conversation_id`; its own fields are not spelled out there, so Airlock reads
 * only the conversation (`conversation_id`, else `session_id`) and a `reason` string if one is
 * given, and answers `{}`. `install --agent cursor` does not register it (docs/agents.md).
 */
import * as v from "valibot";
import { approvalDenyText, approvalPendingText, askText, denyText, endCallFrom, HookInputError, mcpName, parseWith, Str, userLine, type Adapter, type Check, type HookCall, type Outcome } from "./core";

const Base = v.looseObject({ hook_event_name: Str, conversation_id: Str });

const CAN_ASK = new Set(["beforeShellExecution", "beforeMCPExecution", "preToolUse"]);

/** Cursor's preToolUse tool names → Airlock's vocabulary (docs/policies.md, Tool rules). */
const CURSOR_FILE_TOOLS: Readonly<Record<string, string>> = { Write: "Write", Edit: "Edit", StrReplace: "Edit", MultiEdit: "Edit", Delete: "Delete", Read: "Read" };

function filePath(input: Record<string, unknown>): string | undefined {
  for (const key of ["file_path", "path", "target_file"]) {
    const value = input[key];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

function cwdOf(p: Record<string, unknown>): string {
  if (typeof p.cwd === "string" && p.cwd !== "") return p.cwd;
  const roots = p.workspace_roots;
  if (Array.isArray(roots) && typeof roots[0] === "string" && roots[0] !== "") return roots[0];
  return process.cwd();
}

function parse(input: unknown): HookCall {
  const p = parseWith(Base, input) as v.InferOutput<typeof Base> & Record<string, unknown>;
  const event = p.hook_event_name;
  let toolName: string;
  let checks: Check[];
  switch (event) {
    case "beforeShellExecution": {
      const { command } = parseWith(v.looseObject({ command: Str }), p);
      toolName = "Shell";
      checks = [{ kind: "command", command }];
      break;
    }
    case "beforeMCPExecution": {
      const { tool_name } = parseWith(v.looseObject({ tool_name: Str }), p);
      const server = typeof p.server_name === "string" ? p.server_name : typeof p.server === "string" ? p.server : null;
      toolName = tool_name.startsWith("mcp__") ? tool_name : mcpName(server, tool_name);
      checks = [{ kind: "tool", tool: toolName }];
      break;
    }
    case "beforeReadFile": {
      const { file_path } = parseWith(v.looseObject({ file_path: Str }), p);
      toolName = "Read";
      checks = [{ kind: "tool", tool: "Read", path: file_path }];
      break;
    }
    case "preToolUse": {
      const t = parseWith(v.looseObject({ tool_name: Str, tool_input: v.optional(v.looseObject({}, "must be an object"), {}) }), p);
      toolName = t.tool_name;
      const ti = t.tool_input as Record<string, unknown>;
      if (toolName === "Shell") {
        const { command } = parseWith(v.looseObject({ command: Str }), ti, "tool_input");
        checks = [{ kind: "command", command }];
      } else if (CURSOR_FILE_TOOLS[toolName] !== undefined) {
        const path = filePath(ti);
        const tool = CURSOR_FILE_TOOLS[toolName]!;
        if (path === undefined && tool !== "Read") throw new HookInputError("missing required field tool_input.file_path");
        checks = [{ kind: "tool", tool, ...(path === undefined ? {} : { path }) }];
      } else if (toolName.startsWith("MCP:")) {
        checks = [{ kind: "tool", tool: mcpName(null, toolName.slice(4)) }];
      } else {
        checks = [{ kind: "tool", tool: toolName }];
      }
      break;
    }
    default:
      throw new HookInputError(`hook_event_name: airlock hook cursor answers beforeShellExecution, beforeMCPExecution, beforeReadFile and preToolUse, not ${JSON.stringify(event)}`);
  }
  return { event, sessionId: p.conversation_id, cwd: cwdOf(p), toolName, checks };
}

export const cursor: Adapter = {
  agent: "cursor",
  label: "Cursor",
  // Cursor's reference gives no default; the installed hook passes its own with --timeout
  defaultTimeoutSec: 30,
  parse,
  waitsForApproval: true,
  end: { event: "sessionEnd", parse: (input) => endCallFrom(input, ["conversation_id", "session_id"]), answer: { stdout: "{}", exitCode: 0 } },
  answer(o: Outcome, call: HookCall | null) {
    if (o.verdict === "allow") return { stdout: JSON.stringify({ permission: "allow" }), exitCode: 0 };
    if (o.verdict === "require_approval" && o.approval) {
      return { stdout: JSON.stringify({ permission: "deny", user_message: userLine(o), agent_message: approvalPendingText(o) }), exitCode: 0 };
    }
    if (o.verdict === "require_approval" && call !== null && CAN_ASK.has(call.event)) {
      return { stdout: JSON.stringify({ permission: "ask", user_message: userLine(o), agent_message: askText(o) }), exitCode: 0 };
    }
    const agentMessage = o.verdict === "require_approval" ? approvalDenyText(o, "Cursor") : denyText(o);
    return { stdout: JSON.stringify({ permission: "deny", user_message: userLine(o), agent_message: agentMessage }), exitCode: 0 };
  },
};
