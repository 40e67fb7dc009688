/**
 * The check path (DESIGN 5): resolve the caller, get the role's compiled policy set, evaluate with
 * the shared engine, write the decision to the outbox in the same transaction, answer.
 *
 * Fail closed, always: an unknown session, a wrong token ("invalid session credentials"), a
 * revoked or exited session, no trustworthy bundle (unknown role, stale while the gateway is
 * unreachable, revoked client) and every internal error are block verdicts with the reason, never
 * an error page. A decision that cannot be recorded is not allowed either.
 */
import type { ConfigFile } from "../config/file";
import { displayToolCall, displayWords, evaluateAnalysis, evaluateArgv, evaluateTool, type CommandVerdict, type CompiledPolicySet, type Verdict } from "../policy/engine";
import { basename, matchWords } from "../policy/matcher";
import { splitWords } from "../shell/words";
import type { CheckCommandRequest, CheckRequest, CheckResponse, CheckToolRequest } from "../protocol/daemon";
import type { ShellAnalysis, ShellAnalyzer } from "../shell/types";
import type { Approvals } from "./approvals";
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
  /** config.json (`auto`: approval mode); default: auto on */
  config?: () => ConfigFile;
  /** the approvals half: without it a require_approval is answered as is */
  approvals?: Approvals;
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

/**
 * The `airlock` subcommands that change the approval guardrails or who approves (docs/approvals.md,
 * Modes): a shell string a hook hands over that runs one of them is blocked whatever the role's
 * policies say. `pair` and `approver` are here too: an agent that pairs its own headless approver
 * could approve its own requests.
 */
export const GUARDRAIL_SUBCOMMANDS: ReadonlySet<string> = new Set(["auto-on", "auto-off", "approve", "disapprove", "fail-mode", "unpair", "sign-out", "pair", "approver"]);

/** A block when the analysis runs `airlock <guardrail subcommand>` anywhere (`bash -c`, `env`, `sudo`, a path to the binary...). */
export function guardrailVerdict(role: string | null, analysis: ShellAnalysis): Verdict | null {
  for (const c of analysis.commands) {
    const [name, ...rest] = c.words;
    if (!name || name.dynamic || basename(name.value) !== "airlock") continue;
    const sub = rest.find((w) => !w.value.startsWith("-"));
    if (!sub || sub.dynamic || !GUARDRAIL_SUBCOMMANDS.has(sub.value)) continue;
    const command = displayWords(["airlock", ...rest.map((w) => w.value)]);
    const reason = `an agent may not change its own approval guardrails: 'airlock ${sub.value}' is for the user to run in their own terminal (or through the /airlock: commands of the Claude Code plugin)`;
    const one: CommandVerdict = { verdict: "block", source: "rule", command, via: c.via, policy: null, rule: null, pattern: `airlock ${sub.value}`, reason };
    return { verdict: "block", source: "rule", role, policy: null, rule: null, pattern: one.pattern, reason, normalized: [command], command, commands: [one] };
  }
  return null;
}

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
      const committed = this.commit(id, input, verdict, link);
      if (committed.response.verdict === "require_approval" && this.deps.approvals) return await this.askApproval(input, verdict, committed);
      return committed.response;
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
    let verdict: Verdict;
    if (input.kind === "argv") verdict = evaluateArgv(bundle.set, input.argv!);
    else if (input.kind === "tool") verdict = evaluateTool(bundle.set, { tool: input.tool!, path: input.path ?? null, root: input.cwd });
    else {
      const analysis = this.deps.analyzer.analyze(input.command);
      verdict = guardrailVerdict(role, analysis) ?? evaluateAnalysis(bundle.set, analysis);
    }
    return this.approvalMode(bundle.set, input, verdict);
  }

  /**
   * `airlock auto-off` (config.json `auto: false`): what the policy allows still needs approval,
   * command by command, unless a local auto-approve pattern matches it. Patterns are matched with the
   * engine's own word-prefix matcher (DESIGN 3: `kubectl get` matches `kubectl --context x get pods`);
   * a trailing `*` word means the same prefix. Tool calls match as the words `[tool, path]`
   * (`airlock approve Write`); reads (`Read`) are never gated. Blocks and approvals stay as they are.
   */
  private approvalMode(set: CompiledPolicySet, input: Input, verdict: Verdict): Verdict {
    if (verdict.verdict !== "allow" || this.deps.config?.().auto !== false) return verdict;
    if (input.kind === "tool" && input.tool === "Read") return verdict;
    let first: CommandVerdict | null = null;
    const commands = verdict.commands.map((c): CommandVerdict => {
      if (c.verdict !== "allow" || c.source === "auto_approve") return c;
      let words: string[];
      if (input.kind === "tool") words = [input.tool!, ...(input.path ? [input.path] : [])];
      else {
        const split = splitWords(c.command);
        words = split.ok ? split.words : [];
      }
      const auto = set.autoApprove && words.length ? matchWords(set.autoApprove, words.map((value) => ({ value, dynamic: false })), set.profiles).rules[0] : undefined;
      if (auto) return { ...c, source: "auto_approve", rule: auto.rule, pattern: auto.pattern, reason: `allowed by the local auto-approve pattern ${JSON.stringify(auto.pattern)} (approval mode: airlock auto-off)` };
      const gated: CommandVerdict = {
        ...c,
        verdict: "require_approval",
        source: "default",
        policy: null,
        rule: null,
        pattern: null,
        reason: `approval mode is on (airlock auto-off): ${c.command} matches no local auto-approve pattern`,
      };
      first ??= gated;
      return gated;
    });
    if (first === null) {
      // nothing gated: say so when a pattern is what let the deciding command through
      const auto = commands.find((c, i) => c.source === "auto_approve" && verdict.commands[i]!.source !== "auto_approve" && c.command === verdict.command);
      return auto ? { ...verdict, source: "auto_approve", rule: auto.rule, pattern: auto.pattern, reason: auto.reason, commands } : verdict;
    }
    const g: CommandVerdict = first;
    return { ...verdict, verdict: "require_approval", source: "default", policy: null, rule: null, pattern: null, reason: g.reason, command: g.command, commands };
  }

  /** A recorded require_approval → the approvals half: a request to wait for, or the final verdict it came to. */
  private async askApproval(input: Input, verdict: Verdict, committed: { response: CheckResponse; decision: GatewayDecision }): Promise<CheckResponse> {
    const { response, decision } = committed;
    const started = await this.deps.approvals!.start({
      kind: input.kind,
      command: input.command,
      cwd: input.cwd,
      agent: decision.agent,
      sessionId: response.session_id,
      role: response.role,
      tool: decision.tool,
      policy: response.policy,
      rule: response.rule,
      reason: response.reason,
      normalized: response.command,
      commands: input.kind === "command" ? verdict.commands.filter((c) => c.verdict === "require_approval").map((c) => c.command) : [],
      decision,
    });
    if (started.kind === "submitted") return { ...response, approval: started.approval };
    return { ...response, verdict: started.verdict, reason: started.reason, decision_id: started.decision_id };
  }

  /** One transaction: the session (re-checked, or the implicit one created) and the decision row. */
  private commit(id: string, input: Input, evaluated: Verdict, link: AgentProcess | null): { response: CheckResponse; decision: GatewayDecision } {
    const at = this.deps.now().toISOString();
    const { db, sessions } = this.deps;
    const committed = db.tx((): { response: CheckResponse; decision: GatewayDecision } => {
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
      const response: CheckResponse = {
        verdict: verdict.verdict,
        decision_id: id,
        session_id: session?.id ?? null,
        role,
        policy: verdict.policy,
        rule: verdict.rule,
        command: verdict.command,
        reason: verdict.reason,
      };
      return { response, decision };
    });
    this.deps.kick();
    return committed;
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
