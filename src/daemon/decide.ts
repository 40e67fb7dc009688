/**
 * The check path (DESIGN 5): resolve the caller, get the role's compiled policy set, evaluate with
 * the shared engine, write the decision to the outbox in the same transaction, answer.
 *
 * Fail closed, always: an unknown session, a wrong token ("invalid session credentials"), a
 * revoked or exited session, no trustworthy bundle (unknown role, stale while the gateway is
 * unreachable, revoked client) and every internal error are block verdicts with the reason, never
 * an error page. A decision that cannot be recorded is not allowed either.
 */
import { displayToolCall, displayWords, evaluateAnalysis, evaluateArgv, evaluateTool, type Verdict } from "../policy/engine";
import { basename } from "../policy/matcher";
import type { CheckCommandRequest, CheckRequest, CheckResponse, CheckToolRequest } from "../protocol/daemon";
import type { ShellAnalyzer } from "../shell/types";
import type { CompiledBundle } from "./bundles";
import type { DaemonDb, SessionRow } from "./db";
import type { GatewayDecision } from "./gateway-api";
import type { Logger } from "./log";
import { LIVE, tokenMatches, type AgentProcess, type Sessions } from "./sessions";
import { PolicyUnavailable } from "./sync";

export interface DeciderDeps {
  db: DaemonDb;
  sessions: Sessions;
  analyzer: ShellAnalyzer;
  /** the compiled set to decide `role` with; throws when there is none to trust */
  policy: (role: string) => CompiledBundle | Promise<CompiledBundle>;
  defaultRole: () => string;
  now: () => Date;
  log: Logger;
  /** new outbox rows */
  kick: () => void;
  /** the agent process among the ancestors of `pid` (a hook asking for an agent session), or null */
  findAgent?: (pid: number) => AgentProcess | null;
}

const INVALID_CREDENTIALS = "invalid session credentials";
const MAX_TEXT = 4096;

const clip = (text: string, max = MAX_TEXT) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const nonEmpty = (text: string | null | undefined, max: number) => (text ? clip(text, max) : null);

interface Input {
  kind: "argv" | "command" | "tool";
  caller: CheckRequest["caller"];
  argv: readonly string[] | null;
  /** the shell string, or the tool call as displayed (`Write /repo/.env`) */
  command: string;
  /** kind tool: the tool and the file it touches */
  tool?: string;
  path?: string | null;
  cwd: string;
  source: GatewayDecision["source"];
}

/** Who asked, once resolved: a session (maybe one that must be blocked), or nobody we trust. */
type Resolved = { session: SessionRow; block: string | null } | { session: null; block: string };
/** A session to open (or adopt) inside the transaction; `link` is the agent process a hook runs under. */
type ToOpen = { implicit: true; role: string; link: AgentProcess | null };

export class Decider {
  private readonly deps: DeciderDeps;

  constructor(deps: DeciderDeps) {
    this.deps = deps;
  }

  /** `POST /v1/check`: an exec'd argv (the shim), matched word by word (fast path). */
  check(body: CheckRequest): Promise<CheckResponse> {
    return this.decide({ kind: "argv", caller: body.caller, argv: body.argv, command: displayWords(body.argv), cwd: body.cwd, source: "shim" });
  }

  /** `POST /v1/check-command`: a whole shell string (hooks), through the warm shell analyzer. */
  checkCommand(body: CheckCommandRequest): Promise<CheckResponse> {
    return this.decide({ kind: "command", caller: body.caller, argv: null, command: body.command, cwd: body.cwd, source: body.source === "shim" ? "shim" : "hook" });
  }

  /** `POST /v1/check-tool`: a hook's tool call (file edit, MCP call) against the role's tool rules. */
  checkTool(body: CheckToolRequest): Promise<CheckResponse> {
    const path = body.path ?? null;
    return this.decide({
      kind: "tool",
      caller: body.caller,
      argv: null,
      command: displayToolCall({ tool: body.tool, path }),
      tool: body.tool,
      path,
      cwd: body.cwd,
      source: "hook",
    });
  }

  private blockVerdict(role: string | null, reason: string): Verdict {
    return { verdict: "block", source: "default", role, policy: null, rule: null, pattern: null, reason, normalized: [], command: null, commands: [] };
  }

  /** Caller → session, before any policy work (read only; re-checked inside the transaction). */
  private resolve(caller: Input["caller"]): Resolved | ToOpen {
    if (caller.kind === "session") {
      const row = this.deps.db.session(caller.session_id);
      if (!row || !tokenMatches(row, caller.token)) return { session: null, block: INVALID_CREDENTIALS };
      return { session: row, block: this.liveness(row) };
    }
    if (caller.kind === "agent_session") {
      const row = this.deps.db.agentSession(caller.agent, caller.agent_session_id);
      if (row && row.status !== "exited") return { session: row, block: this.liveness(row) };
      // first sight: which agent process does the hook run under? (outside the transaction: it reads /proc or runs ps)
      const link = this.findAgent(caller.pid);
      // a shim session of that process the transaction will adopt (or a revoked one it will return) decides the role
      const shim = link === null ? null : this.deps.db.implicitSession(link.agent, link.pid);
      const adopt = shim !== null && (shim.status === "revoked" || (LIVE.has(shim.status) && shim.agent_session_id === null));
      return { implicit: true, role: adopt ? shim.role : this.deps.defaultRole(), link };
    }
    const row = this.deps.db.implicitSession(caller.agent, caller.agent_pid);
    if (row && row.status !== "exited") return { session: row, block: this.liveness(row) };
    return { implicit: true, role: this.deps.defaultRole(), link: null };
  }

  private findAgent(pid: number | undefined): AgentProcess | null {
    if (pid === undefined || !this.deps.findAgent) return null;
    try {
      return this.deps.findAgent(pid);
    } catch (error) {
      this.deps.log.warn(`cannot walk the ancestry of hook process ${pid}: ${(error as Error).message}`);
      return null;
    }
  }

  private liveness(row: SessionRow): string | null {
    return LIVE.has(row.status) ? null : `session ${row.id} is ${row.status}; every check of it is blocked`;
  }

  private async decide(input: Input): Promise<CheckResponse> {
    const id = Bun.randomUUIDv7();
    let role: string | null = null;
    let sessionId: string | null = null;
    try {
      const resolved = this.resolve(input.caller);
      const link = "implicit" in resolved ? resolved.link : null;
      if ("implicit" in resolved) role = resolved.role;
      else {
        role = resolved.session?.role ?? null;
        sessionId = resolved.session?.id ?? null;
      }
      let verdict: Verdict;
      if (!("implicit" in resolved) && resolved.block !== null) {
        verdict = this.blockVerdict(role, resolved.block);
      } else {
        verdict = await this.evaluate(input, role!);
      }
      return this.commit(id, input, verdict, link);
    } catch (error) {
      const reason = `internal error while checking: ${error instanceof Error ? error.message : String(error)}`;
      this.deps.log.error(reason);
      return { verdict: "block", decision_id: id, session_id: sessionId, role, policy: null, rule: null, command: null, reason };
    }
  }

  private async evaluate(input: Input, role: string): Promise<Verdict> {
    let bundle: CompiledBundle;
    try {
      bundle = await this.deps.policy(role);
    } catch (error) {
      if (error instanceof PolicyUnavailable) return this.blockVerdict(role, error.message);
      if (error instanceof Error && (error as { code?: string }).code === "not_found") return this.blockVerdict(role, error.message);
      throw error;
    }
    if (input.kind === "argv") return evaluateArgv(bundle.set, input.argv!);
    if (input.kind === "tool") return evaluateTool(bundle.set, { tool: input.tool!, path: input.path ?? null, root: input.cwd });
    return evaluateAnalysis(bundle.set, this.deps.analyzer.analyze(input.command));
  }

  /** One transaction: the session (re-checked, or the implicit one created) and the decision row. */
  private commit(id: string, input: Input, evaluated: Verdict, link: AgentProcess | null): CheckResponse {
    const at = this.deps.now().toISOString();
    const { db, sessions } = this.deps;
    const response = db.tx((): CheckResponse => {
      let verdict = evaluated;
      let session: SessionRow | null = null;
      const caller = input.caller;
      if (caller.kind === "session") {
        const row = db.session(caller.session_id);
        if (row && tokenMatches(row, caller.token)) {
          session = row;
          // revoked by the change feed while this check was being evaluated
          const block = this.liveness(row);
          if (block !== null && verdict.verdict !== "block") verdict = this.blockVerdict(row.role, block);
        } else {
          verdict = this.blockVerdict(null, INVALID_CREDENTIALS);
        }
      } else {
        session =
          caller.kind === "agent_session"
            ? sessions.agentSessionInTx(caller.agent, caller.agent_session_id, input.cwd, link)
            : sessions.implicitInTx(caller.agent, caller.agent_pid, input.cwd);
        const block = this.liveness(session);
        if (block !== null && verdict.verdict !== "block") verdict = this.blockVerdict(session.role, block);
      }
      const role = verdict.role ?? session?.role ?? null;
      const decision: GatewayDecision = {
        id,
        session_id: session?.id ?? null,
        role,
        agent: session?.agent ?? null,
        tool: nonEmpty(this.toolOf(input, verdict), 128),
        command: clip(input.command || "(empty)"),
        normalized: verdict.normalized.slice(0, 256).map((c) => clip(c)),
        verdict: verdict.verdict,
        policy: nonEmpty(verdict.policy, 128),
        rule: nonEmpty(verdict.rule, 128),
        pattern: nonEmpty(verdict.pattern, 1000),
        reason: clip(verdict.reason),
        source: input.source,
        cwd: clip(input.cwd),
        decided_at: at,
      };
      db.enqueue("decision", decision);
      return {
        verdict: verdict.verdict,
        decision_id: id,
        session_id: session?.id ?? null,
        role,
        policy: verdict.policy,
        rule: verdict.rule,
        command: verdict.command,
        reason: verdict.reason,
      };
    });
    this.deps.kick();
    return response;
  }

  private toolOf(input: Input, verdict: Verdict): string | null {
    if (input.kind === "argv") return input.argv![0] ? basename(input.argv![0]) : null;
    if (input.kind === "tool") return input.tool ?? null;
    // the deciding command's first word (displayWords form: quoted only when it has to be)
    const deciding = verdict.command ?? verdict.normalized[0];
    if (!deciding) return null;
    if (!deciding.startsWith("'")) return deciding.split(" ")[0] || null;
    const end = deciding.indexOf("'", 1);
    return deciding.slice(1, end === -1 ? undefined : end) || null;
  }
}
