/**
 * `airlock policy lint [DIR]`: every problem of a policies folder, with file and JSON path, plus
 * the inline examples each policy carries. `airlock policy test [DIR]`: the inline examples and the
 * test files under `tests/`, like `opa test`. Exit 0 clean, 1 a test failed, 2 invalid files.
 */
import { defineCommand } from "citty";
import { errorCount, formatProblem, type Problem } from "../policy/load";
import { runPolicyTests, type TestCaseResult } from "../policy/policy-tests";
import { AirlockError } from "../protocol/errors";
import { loadAnalyzer, loadPolicyFolder, paint } from "./_policies";
import { out } from "../config/stdio";

const folderArgs = {
  dir: { type: "positional", required: false, description: "Policies folder (default: ./policies when present, else the embedded seed)" },
  policies: { type: "string", description: "Same as DIR" },
  json: { type: "boolean", description: "Print the result as JSON" },
} as const;

function folderOf(args: { dir?: string; policies?: string; _: string[] }): string | undefined {
  if (args._.length > 1) throw new AirlockError("usage", `expected at most one folder, got ${args._.length}: ${args._.join(" ")}`);
  if (args.dir !== undefined && args.policies !== undefined) throw new AirlockError("usage", "give the folder once: as DIR or with --policies");
  return args.dir ?? args.policies;
}

function failureToProblem(r: TestCaseResult): Problem {
  const wanted = r.expectPolicy ? `${r.expect} by ${r.expectPolicy}` : r.expect;
  const got = r.verdict.policy ? `${r.verdict.verdict} by ${r.verdict.policy}` : r.verdict.verdict;
  return { severity: "error", file: r.file, path: r.path, message: `${JSON.stringify(r.command)}: expected ${wanted}, got ${got} (${r.verdict.reason})` };
}

const lint = defineCommand({
  meta: { name: "lint", description: "Validate a policies folder: schemas, ids, references, contradictions, and each policy's inline examples" },
  args: folderArgs,
  async run({ args }) {
    const source = loadPolicyFolder(folderOf(args));
    const { loaded } = source;
    const problems = [...loaded.problems];
    let examples = 0;
    if (errorCount(problems) === 0) {
      const results = runPolicyTests({ ...loaded, tests: [] }, await loadAnalyzer());
      examples = results.length;
      problems.push(...results.filter((r) => !r.ok).map(failureToProblem));
    }
    const errors = errorCount(problems);
    const counts = { policies: loaded.policies.size, roles: loaded.roles.size, test_files: loaded.tests.length, tool_profiles: loaded.profiles.size, inline_examples: examples };
    if (args.json) {
      out(`${JSON.stringify({ ok: errors === 0, source: source.label, counts, problems }, null, 2)}\n`);
    } else {
      for (const p of problems) out(`${p.severity === "error" ? paint.red("error") : paint.yellow("warning")} ${formatProblem(p)}\n`);
      const summary = `${counts.policies} policies, ${counts.roles} roles, ${counts.test_files} test files, ${counts.tool_profiles} tool profiles, ${examples} inline examples in ${source.label}`;
      const warnings = problems.length - errors;
      out(
        errors === 0
          ? `${paint.green("ok")} ${summary}${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}\n`
          : `${paint.red("invalid")} ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}: ${summary}\n`,
      );
    }
    return errors === 0 ? 0 : 2;
  },
});

const test = defineCommand({
  meta: { name: "test", description: "Run the policies' inline examples and the test files under tests/; prints failures and 'N passed, M failed'" },
  args: { ...folderArgs, verbose: { type: "boolean", alias: "v", description: "List every case, not only failures" } },
  async run({ args }) {
    const source = loadPolicyFolder(folderOf(args));
    const { loaded } = source;
    if (errorCount(loaded.problems) > 0) {
      const problems = loaded.problems.filter((p) => p.severity === "error");
      if (args.json) {
        out(`${JSON.stringify({ ok: false, source: source.label, problems }, null, 2)}\n`);
        return 2;
      }
      throw new AirlockError("invalid_policy", `cannot run tests: the policies in ${source.label} are invalid (run 'airlock policy lint')`, problems.map((p) => ({ message: formatProblem(p) })));
    }
    const results = runPolicyTests(loaded, await loadAnalyzer());
    const failed = results.filter((r) => !r.ok);
    if (args.json) {
      out(
        `${JSON.stringify(
          {
            ok: failed.length === 0,
            source: source.label,
            passed: results.length - failed.length,
            failed: failed.length,
            results: results.map((r) => ({ file: r.file, path: r.path, command: r.command, expect: r.expect, expect_policy: r.expectPolicy, ok: r.ok, verdict: r.verdict.verdict, policy: r.verdict.policy, rule: r.verdict.rule, reason: r.verdict.reason })),
          },
          null,
          2,
        )}\n`,
      );
    } else {
      for (const r of results) {
        if (r.ok && !args.verbose) continue;
        const mark = r.ok ? paint.green("PASS") : paint.red("FAIL");
        out(`${mark} ${r.file}: ${r.path}: ${r.command}\n`);
        if (!r.ok) out(`     ${failureToProblem(r).message.slice(JSON.stringify(r.command).length + 2)}\n`);
      }
      out(`${results.length - failed.length} passed, ${failed.length} failed\n`);
    }
    return failed.length === 0 ? 0 : 1;
  },
});

export const policyCommand = defineCommand({
  meta: { name: "policy", description: "Work with policy files: lint validates them, test runs their test cases" },
  subCommands: { lint, test },
});
