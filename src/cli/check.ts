/**
 * `airlock check`: the offline verdict, from the same engine as every other path.
 *   airlock check [--role R | --policy FILE...] [--policies DIR] [--json] -- <argv...>
 *   airlock check [...] --command "<shell string>"
 *   airlock check [...] --tool Write [--path config/.env]   (a hook's tool call, against tool rules)
 * Exit 0 allow, 126 block, 3 needs approval, 2 usage or invalid policies.
 */
import { defineCommand } from "citty";
import { join } from "node:path";
import { readConfigFile, DEFAULT_ROLE } from "../config/file";
import { readEnv } from "../config/env";
import { airlockPaths } from "../config/paths";
import { compilePolicySet, displayToolCall, displayWords, evaluateAnalysis, evaluateTool, type Verdict } from "../policy/engine";
import { resolveRole } from "../policy/load";
import type { VerdictKind } from "../policy/schema";
import { AirlockError } from "../protocol/errors";
import { assertNoErrors, loadAnalyzer, loadPolicyFiles, loadPolicyFolder, paint } from "./_policies";
import { out } from "../config/stdio";

export const VERDICT_EXIT: Record<VerdictKind, number> = { allow: 0, block: 126, require_approval: 3 };

interface Parsed {
  role: string | undefined;
  policyFiles: string[];
  policiesDir: string | undefined;
  command: string | undefined;
  argv: string[] | undefined;
  /** a tool call (docs/policies.md, Tool rules) */
  tool: string | undefined;
  path: string | undefined;
  json: boolean;
}

/** citty keeps only the last of a repeated option, so the few list-shaped ones are read here. */
export function parseCheckArgs(rawArgs: readonly string[]): Parsed {
  const out: Parsed = { role: undefined, policyFiles: [], policiesDir: undefined, command: undefined, argv: undefined, tool: undefined, path: undefined, json: false };
  const loose: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") {
      out.argv = rawArgs.slice(i + 1);
      break;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = () => (eq === -1 ? rawArgs[++i]! : arg.slice(eq + 1));
    switch (name) {
      case "--json":
        out.json = true;
        break;
      case "--role":
      case "-r":
        out.role = value();
        break;
      case "--policy":
      case "-p":
        out.policyFiles.push(value());
        break;
      case "--policies":
        out.policiesDir = value();
        break;
      case "--command":
      case "-c":
        out.command = value();
        break;
      case "--tool":
        out.tool = value();
        break;
      case "--path":
        out.path = value();
        break;
      default:
        loose.push(arg);
    }
  }
  if (loose.length > 0) {
    if (out.policyFiles.length > 0) out.policyFiles.push(...loose);
    else {
      throw new AirlockError(
        "usage",
        `unexpected argument ${JSON.stringify(loose[0])}: put the command after --, e.g. airlock check -- ${displayWords(loose)}`,
      );
    }
  }
  if (out.role !== undefined && out.policyFiles.length > 0) throw new AirlockError("usage", "give --role or --policy, not both");
  if (out.policiesDir !== undefined && out.policyFiles.length > 0) throw new AirlockError("usage", "--policies reads a folder of roles; --policy evaluates files alone: give one of them");
  if (out.command !== undefined && out.argv !== undefined) throw new AirlockError("usage", "give the command either after -- or with --command, not both");
  if (out.path !== undefined && out.tool === undefined) throw new AirlockError("usage", "--path belongs to a tool call: airlock check --tool Write --path config/.env");
  if (out.tool !== undefined) {
    if (out.command !== undefined || out.argv !== undefined) throw new AirlockError("usage", "give a command or a tool call (--tool), not both");
    if (!/^[A-Za-z0-9_.:@/-]+$/.test(out.tool)) throw new AirlockError("usage", `--tool must be a tool name such as Write or mcp__github__create_issue, got ${JSON.stringify(out.tool)}`);
    if (out.path !== undefined && out.path === "") throw new AirlockError("usage", "--path is empty");
    return out;
  }
  if (out.command === undefined && (out.argv === undefined || out.argv.length === 0)) {
    throw new AirlockError("usage", "no command to check: airlock check -- terraform apply, or airlock check --command 'cd infra && terraform apply'");
  }
  if (out.command !== undefined && out.command.trim() === "") throw new AirlockError("usage", "--command is empty");
  return out;
}

const LABEL: Record<VerdictKind, string> = { allow: "ALLOW", block: "BLOCK", require_approval: "NEEDS APPROVAL" };

function colorFor(kind: VerdictKind): (s: string) => string {
  return kind === "allow" ? paint.green : kind === "block" ? paint.red : paint.yellow;
}

export function formatVerdict(v: Verdict, input: string, source: string): string {
  const lines = [`${colorFor(v.verdict)(paint.bold(LABEL[v.verdict]))}  ${input}`];
  const row = (k: string, val: string | null) => {
    if (val !== null) lines.push(`  ${paint.dim(k.padEnd(8))} ${val}`);
  };
  row("role", v.role ?? "(none: policies evaluated alone)");
  row("policy", v.policy);
  // a tool rule's pattern reads `tool "Write" path "**/.env"` already; a command pattern is quoted
  row("rule", v.rule === null ? null : `${v.rule} ${v.pattern?.startsWith("tool ") ? v.pattern : JSON.stringify(v.pattern)}`);
  row("reason", v.reason);
  row("source", source);
  if (v.commands.length > 0) {
    lines.push(`  ${paint.dim("commands")}`);
    const width = Math.min(60, Math.max(...v.commands.map((c) => c.command.length)));
    for (const c of v.commands) {
      const by = c.policy ? `${c.policy} ${c.rule}` : c.source === "unknown" ? "unknown" : c.source === "auto_approve" ? "auto-approve" : "default";
      const via = c.via.length ? `  via ${c.via.join(" → ")}` : "";
      lines.push(`    ${c.command.padEnd(width)}  ${colorFor(c.verdict)(c.verdict.padEnd(16))} ${paint.dim(by)}${via}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export const checkCommand = defineCommand({
  meta: {
    name: "check",
    description:
      "Offline verdict for a command, from the same engine the shims and hooks use. Exit 0 allow, 126 block, 3 needs approval, 2 usage error.\n\n" +
      "  airlock check -- terraform -chdir=infra apply\n" +
      "  airlock check --command 'cd infra && bash -c \"kubectl delete ns prod\"'\n" +
      "  airlock check --role terraform-restricted-agent --json -- terraform import aws_s3_bucket.b b\n" +
      "  airlock check --policy my-policy.json -- helm upgrade web ./chart\n" +
      "  airlock check --tool Write --path config/.env",
  },
  args: {
    role: { type: "string", alias: "r", description: "Role whose active policies decide (default: the role set with 'airlock use', else default-agent)" },
    policy: { type: "string", alias: "p", description: "Evaluate these policy files alone, default action allow (repeatable: --policy a.json --policy b.json)" },
    policies: { type: "string", description: "Folder holding policies/, roles/, tests/ (default: ./policies when present, else the embedded seed)" },
    command: { type: "string", alias: "c", description: "A whole shell string, analyzed like an agent hook sees it" },
    tool: { type: "string", description: "A tool call instead of a command, against the tool rules: --tool Write --path config/.env, --tool mcp__github__create_issue" },
    path: { type: "string", description: "The file of a --tool call (relative to the current folder, or absolute)" },
    json: { type: "boolean", description: "Print the verdict as JSON (policy, rule, normalized commands)" },
  },
  async run({ rawArgs }) {
    const args = parseCheckArgs(rawArgs);
    const analyzerReady = loadAnalyzer();
    let source;
    let set;
    if (args.policyFiles.length > 0) {
      source = loadPolicyFiles(args.policyFiles);
      assertNoErrors(source.loaded.problems, args.policyFiles.length === 1 ? "the policy file" : "the policy files");
      const policies = [...source.loaded.policies.values()].map((p) => p.value);
      set = compilePolicySet({ role: null, policies, profiles: source.loaded.profiles });
    } else {
      source = loadPolicyFolder(args.policiesDir);
      assertNoErrors(source.loaded.problems, `the policies in ${source.label}`);
      const roleId = args.role ?? readConfigFile(airlockPaths(readEnv()).config).default_role ?? DEFAULT_ROLE;
      set = compilePolicySet({ ...resolveRole(source.loaded, roleId), profiles: source.loaded.profiles });
    }
    let input: string;
    let verdict: Verdict;
    if (args.tool !== undefined) {
      // a hook's tool call: relative paths are relative to here, as a session's cwd
      const call = { tool: args.tool, path: args.path ?? null, root: process.cwd() };
      input = displayToolCall(call);
      verdict = evaluateTool(set, call);
    } else {
      // argv is checked as the exact command line it is: quoted, then analyzed like any shell string
      input = args.command ?? displayWords(args.argv ?? []);
      verdict = evaluateAnalysis(set, (await analyzerReady).analyze(input));
    }
    if (args.json) {
      out(`${JSON.stringify({ ...verdict, input, source: source.label, exit_code: VERDICT_EXIT[verdict.verdict] }, null, 2)}\n`);
    } else {
      out(formatVerdict(verdict, input, source.label));
    }
    return VERDICT_EXIT[verdict.verdict];
  },
});
