/**
 * The daemon's API on its Unix socket (`$AIRLOCK_HOME/run/daemon.sock`, mode 0600), version v1.
 * Callers: the shim (check), hooks (check-command, check-tool), `airlock run` (sessions), the CLI
 * (status). Every body is validated; a wrong session token is a block verdict, never an error page.
 *
 *   POST /v1/check                 CheckRequest → CheckResponse: an exec'd argv (the shim)
 *   POST /v1/check-command         CheckCommandRequest → CheckResponse: a whole shell string (hooks)
 *   POST /v1/check-tool            CheckToolRequest → CheckResponse: a hook's tool call (file edit,
 *                                  MCP call) against the role's tool rules
 *   POST /v1/sessions              CreateSessionRequest → 201 { session, token }
 *   POST /v1/sessions/:id/status   SessionUpdateRequest → DaemonSession
 *   GET  /v1/sessions[?status=S]   { items: DaemonSession[] }
 *   GET  /v1/sessions/:id          DaemonSession
 *   GET  /v1/status                DaemonStatus
 *   GET  /v1/identity              DaemonIdentity: the daemon's public keys (created once) and client id
 *   GET  /v1/pairing               DaemonPairing, or 404 not_found when there is none
 *   POST /v1/pairing               StorePairingRequest → DaemonPairing (409 conflict: the fingerprint
 *                                  is not the one the keys give)
 *   DELETE /v1/pairing             { removed: true }, or 404 not_found when there was none
 *   POST /v1/approvals/:id/wait    WaitRequest → WaitAnswer (docs/approvals.md, Daemon socket API)
 *   POST /v1/agent-sessions/end    AgentSessionEndRequest → AgentSessionEndResponse: a hook saw the
 *                                  agent's session end (Claude Code/Gemini CLI `SessionEnd`)
 */
import * as v from "valibot";

const Text = (max: number) => v.pipe(v.string("must be a string"), v.maxLength(max, `must be at most ${max} characters`));
const NonEmpty = (max: number) => v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"), v.maxLength(max, `must be at most ${max} characters`));
const Pid = v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(1, "must be a process id"));

/**
 * Who is asking:
 * - `session`: an explicit session (the env of an agent started by `airlock run`);
 * - `ancestry`: a shim that found an agent process among its ancestors;
 * - `agent_session`: a hook, naming the agent (`claude`, `codex`, `cursor`, `gemini`) and the
 *   agent's own session id. The daemon maps it to an Airlock session, created on first sight
 *   with the default role. `pid` (optional) is the asking hook process: on first sight the daemon
 *   walks its ancestry once, so the hook's decisions and the shims' (found by ancestry under the
 *   same agent process) land in the same session.
 */
export const CallerSchema = v.union([
  v.strictObject({ kind: v.literal("session"), session_id: NonEmpty(128), token: NonEmpty(256) }),
  v.strictObject({ kind: v.literal("ancestry"), agent: NonEmpty(128), agent_pid: Pid }),
  v.strictObject({ kind: v.literal("agent_session"), agent: NonEmpty(128), agent_session_id: NonEmpty(256), pid: v.optional(Pid) }),
]);
export type Caller = v.InferOutput<typeof CallerSchema>;

export const CheckRequest = v.strictObject({
  caller: CallerSchema,
  argv: v.pipe(v.array(Text(65536), "must be a list of strings"), v.minLength(1, "must not be empty"), v.maxLength(4096, "too many arguments")),
  cwd: NonEmpty(4096),
});
export type CheckRequest = v.InferOutput<typeof CheckRequest>;

export const CheckCommandRequest = v.strictObject({
  caller: CallerSchema,
  command: NonEmpty(65536),
  cwd: NonEmpty(4096),
  /** which integration asks: shim, claude, codex, cursor, gemini */
  source: v.optional(NonEmpty(32), "hook"),
});
export type CheckCommandRequest = v.InferOutput<typeof CheckCommandRequest>;

/**
 * A hook's tool call, checked against the tool rules of the caller's role (docs/policies.md,
 * Tool rules). `tool` is in Airlock's vocabulary (`Write`, `Edit`, `mcp__github__create_issue`);
 * `path` is the file a file tool touches, absolute or relative to `cwd`.
 */
export const CheckToolRequest = v.strictObject({
  caller: CallerSchema,
  tool: NonEmpty(256),
  path: v.optional(NonEmpty(4096)),
  cwd: NonEmpty(4096),
  /** which integration asks: claude, codex, cursor, gemini */
  source: v.optional(NonEmpty(32), "hook"),
});
export type CheckToolRequest = v.InferOutput<typeof CheckToolRequest>;

/** The approval request a `require_approval` answer carries (docs/approvals.md). */
export interface CheckApproval {
  id: string;
  expires_at: string;
  /** whether an approver socket of the pairing was connected when the request was posted; null when an earlier pending request of the same action was reused */
  approver_online: boolean | null;
  /** the pairing's fingerprint, for the "waiting for approval" line */
  fingerprint: string;
  /** an earlier pending request of the same action (nothing new was sent to the approver) */
  reused: boolean;
}

/**
 * `POST /v1/approvals/:id/wait`: docs/approvals.md's `{timeout_ms}` plus `final` (default false):
 * the caller gives up at the end of this wait (the shim), so a timeout is the outcome and the fail
 * mode decides it; a hook that will see the agent retry waits with `final: false` and gets `pending`.
 */
export const WaitRequest = v.strictObject({
  timeout_ms: v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(0, "must not be negative"), v.maxValue(600_000, "must be at most 600000")),
  final: v.optional(v.boolean("must be true or false"), false),
});

/**
 * The wait's answer: docs/approvals.md's `{status, reason}` plus `allow`, the daemon's final say
 * (approved and verified, or an availability failure under fail mode open), and the id of the
 * decision recorded for it, if one was.
 */
export interface WaitAnswer {
  status: "approved" | "denied" | "pending" | "expired" | "rejected" | "unavailable";
  reason: string;
  allow: boolean;
  decision_id: string | null;
}

export interface CheckResponse {
  verdict: "allow" | "require_approval" | "block";
  /** the id the decision is recorded (and shipped to the gateway) under */
  decision_id: string;
  session_id: string | null;
  role: string | null;
  policy: string | null;
  rule: string | null;
  /** the deciding command, normalized */
  command: string | null;
  reason: string;
  /** with `require_approval`: the request the caller can wait for (`POST /v1/approvals/:id/wait`) */
  approval?: CheckApproval;
}

export const CreateSessionRequest = v.strictObject({
  agent: NonEmpty(128),
  role: v.optional(NonEmpty(64)),
  cwd: NonEmpty(4096),
  pid: v.optional(Pid),
  user: v.optional(NonEmpty(128)),
});
export type CreateSessionRequest = v.InferOutput<typeof CreateSessionRequest>;

export interface DaemonSession {
  id: string;
  agent: string;
  role: string;
  cwd: string;
  pid: number | null;
  user: string;
  host: string;
  status: "ready" | "running" | "exited" | "revoked";
  implicit: boolean;
  /** for a session a hook opened: the agent's own session id (additive; null otherwise) */
  agent_session_id: string | null;
  created_at: string;
  updated_at: string;
}

export const SessionUpdateRequest = v.strictObject({
  token: NonEmpty(256),
  status: v.picklist(["running", "exited"], "must be running or exited"),
  exit_code: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(255)))),
  pid: v.optional(Pid),
});

export interface DaemonStatus {
  version: string;
  pid: number;
  started_at: string;
  socket: string;
  fail_mode: "open" | "closed";
  default_role: string;
  gateway: { url: string | null; enrolled: boolean; client_id: string | null; reachable: boolean; last_contact_at: string | null; last_error: string | null };
  bundles: { role: string; etag: string; fetched_at: string; age_seconds: number; stale: boolean }[];
  outbox: { pending: number; oldest_at: string | null; shipped_total: number };
  sessions: Record<"ready" | "running" | "exited" | "revoked", number>;
}

/** `GET /v1/sessions?status=S&limit=N`: newest first. */
export const SessionListQuery = v.strictObject({
  status: v.optional(v.picklist(["ready", "running", "exited", "revoked"], "must be one of ready, running, exited, revoked")),
  limit: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,4}$/, "must be a whole number"), v.transform(Number), v.minValue(1, "must be at least 1"), v.maxValue(1000, "must be at most 1000")),
    "200",
  ),
});

/**
 * `POST /v1/agent-sessions/end`: the agent's own session ended (a hook got the agent's end event:
 * Claude Code `SessionEnd`, Gemini CLI `SessionEnd`, Cursor `sessionEnd`). The Airlock session that
 * agent session maps to (caller kind `agent_session`) becomes `exited`, here and at the gateway. An
 * agent session the daemon never saw, or one already exited or revoked, is left as it is: a revoked
 * session stays revoked (its agent process keeps being blocked). `reason` is the agent's own word
 * (`clear`, `logout`, `prompt_input_exit`, `exit`, ...), kept for the daemon's log.
 */
export const AgentSessionEndRequest = v.strictObject({
  agent: NonEmpty(128),
  agent_session_id: NonEmpty(256),
  reason: v.optional(v.nullable(Text(256))),
});
export type AgentSessionEndRequest = v.InferOutput<typeof AgentSessionEndRequest>;

export interface AgentSessionEndResponse {
  /** true when this call moved the session to exited */
  ended: boolean;
  /** the session the agent session maps to (its state after the call), or null when there is none */
  session: DaemonSession | null;
}
