/**
 * What every agent hook shares (DESIGN 5, issue 5): read the agent's JSON from stdin, let the
 * adapter turn it into checks, ask the daemon (whole shell strings through `/v1/check-command`,
 * where the parser is warm; tool calls through `/v1/check-tool`), and let the adapter answer in
 * the agent's own protocol. Lean: no Hono, no store; valibot only in the adapters' payload schemas
 * (measured: ~0.5 ms in the compiled binary).
 *
 * A hook is always a governed context. Malformed or empty input, a missing required field, an
 * unreachable daemon, an answer that is not a verdict, an internal error and the deadline (well
 * inside the agent's hook timeout) are failures: the agent's deny, unless config.json sets fail
 * mode `open` (then no opinion, with a warning on stderr). A verdict the daemon gives is never a
 * failure: a parser `unknown` on a role without approvals is a block by policy and stays a deny.
 * Nothing here throws to the caller, and nothing is written to stdout but the answer.
 *
 * Approvals (docs/approvals.md): a `require_approval` answer carries the request the daemon sent to
 * the paired approver. An adapter that can wait (`waitsForApproval`: Claude Code, Cursor, Gemini
 * CLI) waits for the daemon's verified answer within its own budget (the agent's hook timeout less
 * 5 s, at most AIRLOCK_APPROVAL_TIMEOUT); one that cannot (Codex) answers at once. Approved →
 * allow; still pending → a deny telling the agent to have the user approve, then retry (the retry
 * consumes the approval, once); denied or a rejected signature → deny.
 *
 * Session end (docs/hooks.md, "Session end"): an adapter whose agent has a session-end event (`end`:
 * Claude Code and Gemini CLI `SessionEnd`, Cursor `sessionEnd`) recognises it by its event name and
 * tells the daemon (`POST /v1/agent-sessions/end`), which moves the mapped Airlock session to
 * exited. Nothing is governed at that point, so this path never fails closed: a malformed end
 * payload, an unreachable daemon, an internal error or the deadline all give the agent's plain
 * "nothing to say" answer (exit 0), never a deny. Every other event keeps the fail-closed path.
 */
import * as v from "valibot";
import { createDaemonClient, DaemonUnavailable, isCheckResponse } from "../client/daemon";
import { failModeOf, leanEnv, type LeanEnv } from "../config/lean";
import { err, out } from "../config/stdio";
import { blockMessage } from "../protocol/block";
import type { AgentSessionEndRequest, Caller, CheckApproval, CheckResponse, WaitAnswer } from "../protocol/daemon";

export type HookAgent = "claude" | "codex" | "cursor" | "gemini";

/** One thing to judge: a whole shell string, or a tool call against the tool rules. */
export type Check = { kind: "command"; command: string } | { kind: "tool"; tool: string; path?: string };

/** A payload, understood. */
export interface HookCall {
  /** the agent's event (`PreToolUse`, `beforeShellExecution`, `BeforeTool`) */
  event: string;
  /** the agent's own session (conversation) id */
  sessionId: string;
  cwd: string;
  /** the agent's tool name as it sent it */
  toolName: string;
  /** nothing to check → no opinion */
  checks: Check[];
}

/** A payload the adapter cannot read: the message says which field and why. */
export class HookInputError extends Error {
  override readonly name = "HookInputError";
}

/** What the hook concluded, before the adapter puts it in the agent's words. */
export interface Outcome {
  verdict: "allow" | "require_approval" | "block";
  /** what was judged, as the agent wrote it: the shell string, or `Write /repo/.env` */
  subject: string;
  reason: string;
  policy: string | null;
  rule: string | null;
  role: string | null;
  session: string | null;
  decision: string | null;
  /** Airlock could not judge (input, daemon, internal error, deadline): the fail mode applies */
  failure: boolean;
  /** require_approval: the request with the paired approver (still pending while the verdict is require_approval) */
  approval?: CheckApproval | null;
  /** allow: a human approved this exact call on the paired approver and the daemon verified the signature */
  approved?: boolean;
}

export interface Answer {
  /** the whole of stdout ("" prints nothing) */
  stdout: string;
  exitCode: number;
}

/** An agent's session-end payload, understood. */
export interface EndCall {
  /** the agent's event (`SessionEnd`, `sessionEnd`) */
  event: string;
  /** the agent's own session (conversation) id that ended */
  sessionId: string;
  /** the agent's reason, as it sent it (`clear`, `logout`, `prompt_input_exit`, `exit`, ...) */
  reason: string | null;
}

/** What an adapter knows about its agent's session-end event. */
export interface EndEvent {
  /** the event's `hook_event_name` */
  event: string;
  /** the payload → the agent session that ended; throws HookInputError naming the missing field */
  parse(input: Record<string, unknown>): EndCall;
  /** what the agent expects back from an end hook (it cannot block anything) */
  answer: Answer;
}

export interface Adapter {
  agent: HookAgent;
  /** the agent's name for people: "Claude Code" */
  label: string;
  /** the agent's documented default hook timeout, seconds (used when --timeout is not given) */
  defaultTimeoutSec: number;
  /** the payload → checks; throws HookInputError naming the missing or wrong field */
  parse(input: unknown): HookCall;
  /** the outcome in the agent's protocol */
  answer(outcome: Outcome, call: HookCall | null): Answer;
  /** whether the hook may wait for a human's approval (the agent waits for the hook); else it answers at once */
  waitsForApproval: boolean;
  /** the agent's session-end event, when its docs give one (Codex has none: its Stop is per turn) */
  end?: EndEvent;
}

/** The longest a hook waits for a verdict: the daemon answers in milliseconds, so 10 s means it is hung. */
export const MAX_DEADLINE_MS = 10_000;

/** 80% of the agent's hook timeout, at most MAX_DEADLINE_MS: the deny must reach the agent before it gives up. */
export function deadlineMs(adapter: Pick<Adapter, "defaultTimeoutSec">, timeoutSec?: number): number {
  const timeout = timeoutSec !== undefined && Number.isFinite(timeoutSec) && timeoutSec > 0 ? timeoutSec : adapter.defaultTimeoutSec;
  return Math.max(50, Math.min(MAX_DEADLINE_MS, Math.floor(timeout * 1000 * 0.8)));
}

// ------------------------------------------------------------------ payload helpers

const NonEmpty = v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"));
export const Str = NonEmpty;
export const Obj = v.looseObject({}, "must be an object");

/** Parses a payload (or part of one) with a loose schema; unknown fields are kept and ignored. */
export function parseWith<S extends v.GenericSchema>(schema: S, value: unknown, prefix = ""): v.InferOutput<S> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HookInputError(`${prefix || "the input"} must be a JSON object`);
  }
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const path = [prefix, ...(issue.path ?? []).map((p) => String(p.key))].filter(Boolean).join(".");
    return issue.input === undefined ? `missing required field ${path}` : `${path || "the input"}: ${issue.message}`;
  });
  throw new HookInputError(problems.join("; "));
}

/**
 * A session-end payload: the agent session is the first of `idFields` that is a non-empty string;
 * `reason` is kept when it is a string. Nothing else is required: the end of a session is not
 * judged, only recorded.
 */
export function endCallFrom(input: Record<string, unknown>, idFields: readonly string[]): EndCall {
  const event = String(input.hook_event_name);
  for (const field of idFields) {
    const id = input[field];
    if (typeof id === "string" && id !== "") {
      const reason = typeof input.reason === "string" && input.reason !== "" ? input.reason : null;
      return { event, sessionId: id, reason };
    }
  }
  throw new HookInputError(`missing required field ${idFields[0]}`);
}

/** The longest an end hook waits for the daemon: the agent is shutting down and may not wait at all. */
export const END_DEADLINE_MS = 3000;

/** `mcp__server__tool`, the name every agent but Cursor already uses for MCP tools. */
export function mcpName(server: string | null | undefined, tool: string): string {
  return `mcp__${server || "unknown"}__${tool}`;
}

// ------------------------------------------------------------------ messages

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function details(o: Outcome): Record<string, string | null> {
  return { policy: o.policy, rule: o.rule, role: o.role, session: o.session, decision: o.decision };
}

/** The deny reason: the block lines of DESIGN 5, then why and who decided. */
export function denyText(o: Outcome): string {
  return blockMessage(clip(o.subject, 2000), { reason: o.reason, ...details(o) });
}

/** A require_approval an agent cannot ask about: a deny that says approval is needed and how to get it. */
export function approvalDenyText(o: Outcome, label: string): string {
  return blockMessage(clip(o.subject, 2000), {
    reason: `approval required: ${o.reason}`,
    approval: `${label}'s hook cannot ask a human, so Airlock denies it here. Stop and ask the user to approve it: they can run it themselves in their own terminal, or ask their platform team to change the role's policy.`,
    ...details(o),
  });
}

/**
 * A request is with the paired approver and not decided yet: not a block (nothing is wrong with the
 * command), so the lines say what the agent should do instead: tell the user, retry once approved.
 */
export function approvalPendingText(o: Outcome): string {
  const a = o.approval;
  const where = a ? `on the user's paired Airlock approver (fingerprint ${a.fingerprint})` : "on the user's paired Airlock approver";
  const lines = [
    "airlock: APPROVAL PENDING",
    `airlock: command=${clip(o.subject, 2000)}`,
    "airlock: result=not run yet; a human must approve it first.",
    `airlock: ai_instruction=Stop and tell the user that this command waits for their approval ${where}. Once they have approved it there, run this exact command again (the retry goes through once); do not change it or run it another way.`,
    `airlock: reason=approval pending on your paired device — approve it there, then retry (${o.reason})`,
  ];
  if (a) lines.push(`airlock: approval=${a.id}`, `airlock: expires_at=${a.expires_at}`);
  for (const [key, value] of Object.entries(details(o))) if (value) lines.push(`airlock: ${key}=${value}`);
  return `${lines.map((l) => l.replaceAll(/\r\n|\r|\n/g, " ")).join("\n")}\n`;
}

/** The reason shown with an `ask`: the human reads it in the agent's permission prompt. */
export function askText(o: Outcome): string {
  const lines = ["airlock: APPROVAL REQUIRED", `airlock: command=${clip(o.subject, 2000)}`, `airlock: reason=${o.reason}`];
  for (const [key, value] of Object.entries(details(o))) if (value) lines.push(`airlock: ${key}=${value}`);
  return lines.map((l) => l.replaceAll(/\r\n|\r|\n/g, " ")).join("\n");
}

/** One line for the human (Cursor's user_message, Gemini's systemMessage). */
export function userLine(o: Outcome): string {
  const what = clip(o.subject.replaceAll(/\s+/g, " "), 200);
  if (o.verdict === "block") return `Airlock blocked ${what}: ${clip(o.reason, 300)}`;
  if (o.verdict === "require_approval" && o.approval) return `Airlock: approve ${what} on your paired approver (${o.approval.fingerprint}), then retry`;
  if (o.verdict === "require_approval") return `Airlock: ${what} needs approval: ${clip(o.reason, 300)}`;
  if (o.approved) return `Airlock: ${what} approved on your paired approver`;
  return `Airlock allowed ${what}`;
}

// ------------------------------------------------------------------ the run

export interface HookDeps {
  env: LeanEnv;
  /** a daemon request with its own timeout (ms) */
  request: (path: string, body: unknown, timeoutMs: number) => Promise<unknown>;
  /** reads stdin to its end */
  readInput: () => Promise<string>;
  failMode: () => "open" | "closed";
  /** this process's pid (sent so the daemon can find the agent process above it) */
  pid: number;
  now: () => number;
}

export interface HookOptions {
  /** the timeout the agent gives this hook, seconds (`--timeout`); default: the agent's documented default */
  timeoutSec?: number;
}

const MAX_INPUT_BYTES = 32 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Bun.stdin.stream()) {
    size += chunk.byteLength;
    if (size > MAX_INPUT_BYTES) throw new HookInputError(`the input is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function defaultDeps(env: LeanEnv): HookDeps {
  const client = createDaemonClient(env.socket);
  return {
    env,
    request: (path, body, timeoutMs) => client.request("POST", path, body, timeoutMs),
    readInput: readStdin,
    failMode: () => failModeOf(env.config),
    pid: process.pid,
    now: () => performance.now(),
  };
}

/** The longest a hook waits for a human, whatever the agent's timeout. */
export const MAX_APPROVAL_WAIT_MS = 300_000;

/** How long a hook may wait for an approval: the agent's hook timeout less 5 s, at most AIRLOCK_APPROVAL_TIMEOUT and MAX_APPROVAL_WAIT_MS. */
export function approvalWaitMs(adapter: Pick<Adapter, "defaultTimeoutSec">, env: Pick<LeanEnv, "approvalTimeoutMs">, timeoutSec?: number): number {
  const timeout = timeoutSec !== undefined && Number.isFinite(timeoutSec) && timeoutSec > 0 ? timeoutSec : adapter.defaultTimeoutSec;
  return Math.max(0, Math.min(MAX_APPROVAL_WAIT_MS, env.approvalTimeoutMs, Math.floor(timeout * 1000) - 5000));
}

/** Waits for the daemon's verified answer to the outcome's approval request, within `leftMs`. */
async function awaitApproval(outcome: Outcome, d: HookDeps, leftMs: number): Promise<Outcome> {
  const approval = outcome.approval!;
  if (leftMs < 500) return outcome;
  let w: WaitAnswer;
  try {
    w = (await d.request(`/v1/approvals/${encodeURIComponent(approval.id)}/wait`, { timeout_ms: Math.floor(leftMs), final: false }, Math.floor(leftMs) + 2000)) as WaitAnswer;
    if (typeof w?.allow !== "boolean" || typeof w.reason !== "string" || typeof w.status !== "string") throw new Error("the daemon's answer to the wait is not an outcome");
  } catch (error) {
    const why = error instanceof DaemonUnavailable ? error.message : `internal error while waiting for approval: ${error instanceof Error ? error.message : String(error)}`;
    return { ...outcome, verdict: "block", reason: why, failure: true };
  }
  const decision = w.decision_id ?? outcome.decision;
  if (w.allow) return { ...outcome, verdict: "allow", reason: w.reason, decision, approved: w.status === "approved" };
  if (w.status === "pending") return { ...outcome, reason: w.reason };
  return { ...outcome, verdict: "block", reason: w.reason, decision, approval: null };
}

function failure(subject: string, reason: string): Outcome {
  return { verdict: "block", subject, reason, policy: null, rule: null, role: null, session: null, decision: null, failure: true };
}

const RANK = { allow: 0, require_approval: 1, block: 2 } as const;

function displayCheck(check: Check): string {
  return check.kind === "command" ? check.command : check.path ? `${check.tool} ${check.path}` : check.tool;
}

function fromResponse(check: Check, r: CheckResponse): Outcome {
  return {
    verdict: r.verdict,
    subject: displayCheck(check),
    reason: r.reason,
    policy: r.policy,
    rule: r.rule,
    role: r.role,
    session: r.session_id,
    decision: r.decision_id,
    failure: false,
    approval: r.approval ?? null,
  };
}

/** `airlock hook <agent>`: answers on stdout (and warnings on stderr); returns the exit code. */
export async function runHook(adapter: Adapter, options: HookOptions = {}, inject?: Partial<HookDeps>): Promise<number> {
  const result = await hookAnswer(adapter, options, inject);
  for (const line of result.stderr) err(line);
  if (result.stdout !== "") out(result.stdout);
  return result.exitCode;
}

export interface HookResult extends Answer {
  /** lines for stderr (warnings); never the protocol */
  stderr: string[];
  /** the outcome the answer renders (for tests and diagnostics) */
  outcome: Outcome;
  /** for an agent's session-end event: what was told to the daemon and what came of it */
  end?: EndResult;
}

export interface EndResult {
  /** the agent session that ended; null when the payload did not say */
  sessionId: string | null;
  reason: string | null;
  /** true: the mapped session was moved to exited; false: nothing to end (unknown, already exited, revoked, or an explicit session); null: the daemon was not told (malformed input, daemon unreachable, internal error, deadline) */
  ended: boolean | null;
  /** why, for diagnostics */
  note: string;
}

/**
 * Reads, checks and answers, without printing. Every failure becomes the agent's deny (or, under
 * fail mode open, no opinion); the deadline answers even if stdin or the daemon hang.
 */
export async function hookAnswer(adapter: Adapter, options: HookOptions = {}, inject?: Partial<HookDeps>): Promise<HookResult> {
  let deps: HookDeps | null = null;
  let call: HookCall | null = null;
  /** set once the input is the agent's session-end event: from then on nothing fails closed */
  let ending: EndResult | null = null;
  const budget = deadlineMs(adapter, options.timeoutSec);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let outcome: Outcome;
  try {
    const env = inject?.env ?? leanEnv();
    deps = { ...defaultDeps(env), ...inject };
    const d = deps;
    const started = d.now();
    const deadline = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => {
        if (ending) return resolve(endOutcome({ ...ending, ended: null, note: `the daemon did not answer within ${budget} ms` }));
        resolve(failure(call ? call.checks.map(displayCheck).join("; ") || call.toolName : "(hook input)", `no verdict within ${budget} ms (the deadline sits inside ${adapter.label}'s hook timeout)`));
      }, budget);
    });
    const work = (async (): Promise<Outcome> => {
      const text = await d.readInput();
      if (text.trim() === "") throw new HookInputError(`empty input: expected ${adapter.label}'s hook JSON on stdin`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new HookInputError(`the input is not JSON: ${(error as Error).message}`);
      }
      const end = adapter.end;
      if (end && json !== null && typeof json === "object" && !Array.isArray(json) && (json as Record<string, unknown>).hook_event_name === end.event) {
        ending = { sessionId: null, reason: null, ended: null, note: "" };
        return endOutcome(await endSession(adapter, end, json as Record<string, unknown>, d, ending, Math.min(END_DEADLINE_MS, Math.max(1, Math.floor(budget - (d.now() - started))))));
      }
      call = adapter.parse(json);
      if (d.env.hookFault === "throw") throw new Error("injected internal error (AIRLOCK_TEST_HOOK_FAULT=throw)");
      const c = call;
      if (c.checks.length === 0) {
        return { verdict: "allow", subject: c.toolName, reason: `${c.toolName} is not a tool Airlock checks`, policy: null, rule: null, role: null, session: null, decision: null, failure: false };
      }
      const caller: Caller =
        d.env.sessionId && d.env.sessionToken
          ? { kind: "session", session_id: d.env.sessionId, token: d.env.sessionToken }
          : { kind: "agent_session", agent: adapter.agent, agent_session_id: c.sessionId, pid: d.pid };
      const answers = await Promise.all(
        c.checks.map(async (check) => {
          const left = Math.max(1, Math.floor(budget - (d.now() - started)));
          const body =
            check.kind === "command"
              ? { caller, command: check.command, cwd: c.cwd, source: adapter.agent }
              : { caller, tool: check.tool, ...(check.path ? { path: check.path } : {}), cwd: c.cwd, source: adapter.agent };
          const answer = await d.request(check.kind === "command" ? "/v1/check-command" : "/v1/check-tool", body, left);
          if (!isCheckResponse(answer)) throw new Error("the daemon's answer is not a verdict");
          return fromResponse(check, answer);
        }),
      );
      // the strictest verdict wins; among equals, the first check
      return answers.reduce((a, b) => (RANK[b.verdict] > RANK[a.verdict] ? b : a));
    })().catch((error: unknown): Outcome => {
      if (ending) return endOutcome({ ...ending, ended: null, note: `internal error: ${error instanceof Error ? error.message : String(error)}` });
      const subject = call ? call.checks.map(displayCheck).join("; ") || call.toolName : "(hook input)";
      if (error instanceof HookInputError) return failure(subject, `malformed ${adapter.label} hook input: ${error.message}`);
      if (error instanceof DaemonUnavailable) return failure(subject, error.message);
      return failure(subject, `internal error while checking: ${error instanceof Error ? error.message : String(error)}`);
    });
    outcome = await Promise.race([work, deadline]);
    if (timer !== undefined) clearTimeout(timer);
    if (ending) return endAnswer(adapter, outcome);
    if (outcome.verdict === "require_approval" && outcome.approval && adapter.waitsForApproval) {
      outcome = await awaitApproval(outcome, d, approvalWaitMs(adapter, d.env, options.timeoutSec) - (d.now() - started));
    }
  } catch (error) {
    if (ending) return endAnswer(adapter, endOutcome({ ...(ending as EndResult), ended: null, note: `internal error: ${error instanceof Error ? error.message : String(error)}` }));
    outcome = failure("(hook input)", `internal error while checking: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
  return answerWith(adapter, outcome, call, deps);
}

// ------------------------------------------------------------------ session end

type EndOutcome = Outcome & { end: EndResult };

function endOutcome(r: EndResult): EndOutcome {
  return { verdict: "allow", subject: "(session end)", reason: r.note, policy: null, rule: null, role: null, session: null, decision: null, failure: false, end: r };
}

/**
 * The agent's session ended: tell the daemon, within `timeoutMs`. Never throws. `state` is filled in
 * as the payload is understood, so a deadline that strikes mid-request still reports the session.
 */
async function endSession(adapter: Adapter, end: EndEvent, input: Record<string, unknown>, d: HookDeps, state: EndResult, timeoutMs: number): Promise<EndResult> {
  let e: EndCall;
  try {
    e = end.parse(input);
  } catch (error) {
    return { ...state, note: `malformed ${adapter.label} ${end.event} input: ${(error as Error).message}` };
  }
  state.sessionId = e.sessionId;
  state.reason = e.reason;
  if (d.env.sessionId && d.env.sessionToken) {
    // `airlock run` owns its explicit session: it ends when the command it started exits
    return { ...state, ended: false, note: `the explicit session ${d.env.sessionId} of airlock run ends when its command exits` };
  }
  try {
    if (d.env.hookFault === "throw") throw new Error("injected internal error (AIRLOCK_TEST_HOOK_FAULT=throw)");
    const body: AgentSessionEndRequest = { agent: adapter.agent, agent_session_id: e.sessionId, reason: e.reason };
    const answer = (await d.request("/v1/agent-sessions/end", body, timeoutMs)) as { ended?: unknown; session?: { id?: unknown; status?: unknown } | null } | null;
    if (typeof answer?.ended !== "boolean") return { ...state, note: "the daemon's answer is not an end result" };
    const s = answer.session;
    const note = answer.ended
      ? `session ${String(s?.id)} exited`
      : s
        ? `session ${String(s.id)} is ${String(s.status)} already: nothing to end`
        : `no Airlock session for ${adapter.label} session ${e.sessionId}: nothing to end`;
    return { ...state, ended: answer.ended, note };
  } catch (error) {
    return { ...state, note: error instanceof DaemonUnavailable ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The end event's answer: the agent's plain one whatever happened; only malformed input leaves a warning on stderr. */
function endAnswer(adapter: Adapter, outcome: Outcome): HookResult {
  const end = (outcome as Partial<EndOutcome>).end ?? { sessionId: null, reason: null, ended: null, note: outcome.reason };
  const stderr = end.note.startsWith("malformed ") ? [`airlock: warning: ${end.note}; the Airlock session (if any) ends when its agent process does`] : [];
  return { ...adapter.end!.answer, stderr, outcome, end };
}

function answerWith(adapter: Adapter, outcome: Outcome, call: HookCall | null, deps: HookDeps | null): HookResult {
  const stderr: string[] = [];
  let final = outcome;
  if (outcome.failure) {
    let mode: "open" | "closed" = "closed";
    try {
      mode = deps ? deps.failMode() : "closed";
    } catch {
      mode = "closed";
    }
    if (mode === "open") {
      stderr.push(`airlock: warning: ${outcome.reason}; fail mode is open, so ${adapter.label} goes ahead unchecked`);
      final = { ...outcome, verdict: "allow", reason: `${outcome.reason} (fail mode open)` };
    } else {
      final = { ...outcome, reason: `${outcome.reason} (fail mode closed)` };
    }
  }
  try {
    return { ...adapter.answer(final, call), stderr, outcome: final };
  } catch (error) {
    // the adapter itself failed: exit 2 blocks in all four agents, with the reason on stderr
    const broken = failure(final.subject, `internal error while answering: ${(error as Error).message}`);
    return { stdout: "", exitCode: 2, stderr: [...stderr, denyText(broken)], outcome: broken };
  }
}
