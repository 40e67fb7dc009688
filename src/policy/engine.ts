/**
 * The policy engine: pure, deterministic, shared by gateway, daemon, shim, hooks and CLI.
 *
 * A compiled policy set is the effective policy of a role (its active policies combined), or of
 * a list of policy files. A verdict is a value that explains itself: role, policy, rule, pattern,
 * the normalized commands, and why.
 */
import type { ShellAnalysis, ShellWord } from "../shell/types";
import { createTrie, insertPattern, matchWords, normalizeWords, type RuleRef, type Trie } from "./matcher";
import type { CompiledProfile } from "./profiles";
import type { Action, Policy, Role, VerdictKind } from "./schema";
import { compilePathGlob, compileToolPattern, globMatches, pathForms, type CompiledGlob } from "./tools";

export type VerdictSource = "rule" | "default" | "unknown" | "auto_approve";

export interface CommandVerdict {
  verdict: VerdictKind;
  source: VerdictSource;
  /** the normalized command: basename, global options removed */
  command: string;
  /** how the shell analysis reached it (`sudo`, `bash -c`, ...) */
  via: string[];
  policy: string | null;
  rule: string | null;
  pattern: string | null;
  reason: string;
}

export interface Verdict {
  verdict: VerdictKind;
  source: VerdictSource;
  role: string | null;
  policy: string | null;
  rule: string | null;
  pattern: string | null;
  /** the one sentence a human reads */
  reason: string;
  /** every normalized command that was checked */
  normalized: string[];
  /** the deciding command (normalized), if any */
  command: string | null;
  commands: CommandVerdict[];
}

/** A tool rule of an active policy, compiled (docs/policies.md, Tool rules). */
export interface ToolRuleRef {
  policy: string;
  /** JSON path of the rule inside its policy: `rules[2]` */
  rule: string;
  /** the tool pattern as written */
  tool: string;
  /** the path glob as written, or null for any call of the tool */
  path: string | null;
  action: Action;
  reason?: string;
  /** lower wins among equals (policy order, then rule order) */
  order: number;
  toolRe: RegExp;
  glob: CompiledGlob | null;
}

/** A tool call as a hook reports it. */
export interface ToolCall {
  /** the tool's name, in the vocabulary of docs/policies.md (`Write`, `Edit`, `mcp__github__create_issue`) */
  tool: string;
  /** the file a file tool touches, absolute or relative to `root` */
  path?: string | null;
  /** the session's working folder: relative globs are matched against the path relative to it */
  root?: string | null;
}

export interface CompiledPolicySet {
  role: string | null;
  defaultAction: "allow" | "require_approval";
  /** whether anything in this set can ask a human: unknowns become require_approval instead of block */
  hasApprovals: boolean;
  policies: readonly string[];
  trie: Trie;
  /** rules that name a tool, in precedence order */
  toolRules: readonly ToolRuleRef[];
  autoApprove: Trie | null;
  profiles: ReadonlyMap<string, CompiledProfile>;
}

export interface PolicySetInput {
  /** the role, or null to evaluate `policies` alone with default action allow (`check --policy`) */
  role: Role | null;
  /** the policies to combine; only active ones take part */
  policies: readonly Policy[];
  profiles: ReadonlyMap<string, CompiledProfile>;
  /** local auto-approve patterns: they turn a role's default require_approval into allow, never a rule's verdict */
  autoApprove?: readonly string[];
}

export function compilePolicySet(input: PolicySetInput): CompiledPolicySet {
  const trie = createTrie();
  const toolRules: ToolRuleRef[] = [];
  const active = input.policies.filter((p) => p.status === "active");
  let approvalRules = false;
  for (const policy of active) {
    policy.blocked_commands.forEach((pattern, i) => {
      insertPattern(trie, { policy: policy.id, rule: `blocked_commands[${i}]`, pattern, action: "block" });
    });
    policy.rules.forEach((rule, i) => {
      if (rule.action === "require_approval") approvalRules = true;
      const reason = rule.reason === undefined ? {} : { reason: rule.reason };
      if (rule.command !== undefined) {
        insertPattern(trie, { policy: policy.id, rule: `rules[${i}]`, pattern: rule.command, action: rule.action, ...reason });
      }
      if (rule.tool !== undefined) {
        toolRules.push({
          policy: policy.id,
          rule: `rules[${i}]`,
          tool: rule.tool,
          path: rule.path ?? null,
          action: rule.action,
          ...reason,
          order: toolRules.length,
          toolRe: compileToolPattern(rule.tool),
          glob: rule.path === undefined ? null : compilePathGlob(rule.path),
        });
      }
    });
  }
  let autoApprove: Trie | null = null;
  if (input.autoApprove?.length) {
    autoApprove = createTrie();
    input.autoApprove.forEach((pattern, i) => {
      insertPattern(autoApprove!, { policy: "local", rule: `auto_approve[${i}]`, pattern, action: "allow" });
    });
  }
  const defaultAction = input.role?.default_action ?? "allow";
  return {
    role: input.role?.id ?? null,
    defaultAction,
    hasApprovals: defaultAction === "require_approval" || approvalRules,
    policies: active.map((p) => p.id),
    trie,
    toolRules,
    autoApprove,
    profiles: input.profiles,
  };
}

const RANK: Record<VerdictKind, number> = { allow: 0, require_approval: 1, block: 2 };

/** Shell-style display of words: quoted only where needed. */
export function displayWords(words: readonly string[]): string {
  return words.map((w) => (w !== "" && /^[A-Za-z0-9_@%+=:,./~^-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(" ");
}

function pick(rules: readonly RuleRef[], action: RuleRef["action"]): RuleRef | undefined {
  let best: RuleRef | undefined;
  for (const r of rules) if (r.action === action && (best === undefined || r.order < best.order)) best = r;
  return best;
}

function fromRule(set: CompiledPolicySet, command: string, via: string[], rule: RuleRef): CommandVerdict {
  const verb = rule.action === "block" ? "blocked" : rule.action === "require_approval" ? "needs approval" : "allowed";
  const why = rule.reason ? `: ${rule.reason}` : "";
  return {
    verdict: rule.action,
    source: "rule",
    command,
    via,
    policy: rule.policy,
    rule: rule.rule,
    pattern: rule.pattern,
    reason: `${verb} by policy ${rule.policy} (${rule.rule} ${JSON.stringify(rule.pattern)})${why}`,
  };
}

function unknownVerdict(set: CompiledPolicySet, command: string, via: string[], why: string): CommandVerdict {
  const verdict: VerdictKind = set.hasApprovals ? "require_approval" : "block";
  const then = set.hasApprovals ? "a human must approve it" : "it is blocked because this policy set has no approvals";
  return { verdict, source: "unknown", command, via, policy: null, rule: null, pattern: null, reason: `cannot be judged statically (${why}); ${then}` };
}

/** Verdict for one simple command (already split into words). */
export function evaluateWords(set: CompiledPolicySet, words: readonly ShellWord[], via: string[] = []): CommandVerdict {
  const command = displayWords(normalizeWords(words, set.profiles));
  const match = matchWords(set.trie, words, set.profiles);
  const block = pick(match.rules, "block");
  if (block) return fromRule(set, command, via, block);
  if (match.unknown !== null) return unknownVerdict(set, command, via, match.unknown);
  const approval = pick(match.rules, "require_approval");
  if (approval) return fromRule(set, command, via, approval);
  const allow = pick(match.rules, "allow");
  if (allow) return fromRule(set, command, via, allow);
  if (set.defaultAction === "require_approval" && set.autoApprove) {
    const auto = pick(matchWords(set.autoApprove, words, set.profiles).rules, "allow");
    if (auto) {
      return {
        verdict: "allow",
        source: "auto_approve",
        command,
        via,
        policy: null,
        rule: auto.rule,
        pattern: auto.pattern,
        reason: `allowed by the local auto-approve pattern ${JSON.stringify(auto.pattern)}`,
      };
    }
  }
  const who = set.role === null ? "no role (policies evaluated alone)" : `role ${set.role}`;
  return {
    verdict: set.defaultAction,
    source: "default",
    command,
    via,
    policy: null,
    rule: null,
    pattern: null,
    reason: `no rule matched; the default action of ${who} is ${set.defaultAction}`,
  };
}

function combine(set: CompiledPolicySet, commands: CommandVerdict[], emptyReason: string): Verdict {
  let decider: CommandVerdict | undefined;
  for (const c of commands) if (decider === undefined || RANK[c.verdict] > RANK[decider.verdict]) decider = c;
  if (decider === undefined) {
    return {
      verdict: "allow",
      source: "default",
      role: set.role,
      policy: null,
      rule: null,
      pattern: null,
      reason: emptyReason,
      normalized: [],
      command: null,
      commands,
    };
  }
  return {
    verdict: decider.verdict,
    source: decider.source,
    role: set.role,
    policy: decider.policy,
    rule: decider.rule,
    pattern: decider.pattern,
    reason: decider.via.length ? `${decider.reason} (reached via ${decider.via.join(" → ")})` : decider.reason,
    normalized: commands.map((c) => c.command),
    command: decider.command,
    commands,
  };
}

/** Verdict for an exec'd argv (the shim path): every word is literal. */
export function evaluateArgv(set: CompiledPolicySet, argv: readonly string[]): Verdict {
  const words = argv.map((value) => ({ value, dynamic: false }));
  return combine(set, argv.length ? [evaluateWords(set, words)] : [], "empty command");
}

/** Verdict for a whole shell string, from the shell analysis: the strictest command wins. */
export function evaluateAnalysis(set: CompiledPolicySet, analysis: ShellAnalysis): Verdict {
  const commands = analysis.commands.map((c) => evaluateWords(set, c.words, c.via));
  for (const u of analysis.unknowns) {
    commands.push(unknownVerdict(set, u.text || "(shell input)", [], u.message));
  }
  return combine(set, commands, "the command runs no program");
}

/** How a tool call is shown in verdicts and decisions: `Write /repo/.env`, `mcp__github__create_issue`. */
export function displayToolCall(call: ToolCall): string {
  return call.path ? `${call.tool} ${call.path}` : call.tool;
}

/** `tool "Write" path "**\/.env"`: a tool rule as verdicts and decisions name it. */
export function toolRulePattern(rule: Pick<ToolRuleRef, "tool" | "path">): string {
  return rule.path === null ? `tool ${JSON.stringify(rule.tool)}` : `tool ${JSON.stringify(rule.tool)} path ${JSON.stringify(rule.path)}`;
}

/**
 * Verdict for one tool call (a hook's file edit or MCP call) against the set's tool rules, with the
 * precedence of commands: block > require_approval > allow, the first matching rule deciding among
 * equals. A call no tool rule matches is allowed: agents keep editing code normally (DESIGN), and
 * a role's default_action governs shell commands. A rule with a path matches only calls with a path.
 */
export function evaluateTool(set: CompiledPolicySet, call: ToolCall): Verdict {
  const command = displayToolCall(call);
  const forms = call.path ? pathForms(call.path, call.root ?? null) : null;
  let best: ToolRuleRef | undefined;
  for (const rule of set.toolRules) {
    if (!rule.toolRe.test(call.tool)) continue;
    if (rule.glob !== null && (forms === null || !globMatches(rule.glob, forms))) continue;
    if (best === undefined || RANK[rule.action] > RANK[best.action] || (RANK[rule.action] === RANK[best.action] && rule.order < best.order)) best = rule;
  }
  let one: CommandVerdict;
  if (best !== undefined) {
    const verb = best.action === "block" ? "blocked" : best.action === "require_approval" ? "needs approval" : "allowed";
    const pattern = toolRulePattern(best);
    one = {
      verdict: best.action,
      source: "rule",
      command,
      via: [],
      policy: best.policy,
      rule: best.rule,
      pattern,
      reason: `${verb} by policy ${best.policy} (${best.rule} ${pattern})${best.reason ? `: ${best.reason}` : ""}`,
    };
  } else {
    one = {
      verdict: "allow",
      source: "default",
      command,
      via: [],
      policy: null,
      rule: null,
      pattern: null,
      reason: "no tool rule matched; a tool call no rule names is allowed (the role's default_action applies to shell commands)",
    };
  }
  return combine(set, [one], "no tool call");
}
