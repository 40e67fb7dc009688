/**
 * Policy test cases: the examples a policy carries inline (`tests.block|require_approval|allow`,
 * each checked against that policy alone) and the files under `policies/tests/` (against a role
 * or a list of policies). Like `opa test`: every case runs, every failure is reported.
 * A case is a shell string (as a hook sees it), an argv (as a shim sees it), or a tool call
 * `{ tool, path? }` (a hook's file edit or MCP call, checked against tool rules).
 */
import type { ShellAnalyzer } from "../shell/types";
import { compilePolicySet, displayToolCall, displayWords, evaluateAnalysis, evaluateTool, type CompiledPolicySet, type Verdict } from "./engine";
import { resolveRole, type LoadedPolicies } from "./load";
import type { ToolCallExample, VerdictKind } from "./schema";

export interface TestCaseResult {
  file: string;
  /** JSON path of the case: `tests.block[0]`, `cases[3]` */
  path: string;
  /** the shell string, or the tool call as displayed (`Write config/.env`) */
  command: string;
  /** set for a tool-call case */
  tool?: ToolCallExample;
  expect: VerdictKind;
  expectPolicy: string | null;
  verdict: Verdict;
  ok: boolean;
}

/** One example: a shell string through the analyzer, or a tool call against the tool rules. */
export function evaluateExample(set: CompiledPolicySet, analyzer: ShellAnalyzer, example: string | ToolCallExample): Verdict {
  return typeof example === "string" ? evaluateAnalysis(set, analyzer.analyze(example)) : evaluateTool(set, { tool: example.tool, path: example.path ?? null });
}

/** How an example is shown in results and problems. */
export function exampleText(example: string | ToolCallExample): string {
  return typeof example === "string" ? example : displayToolCall({ tool: example.tool, path: example.path ?? null });
}

export function runPolicyTests(loaded: LoadedPolicies, analyzer: ShellAnalyzer): TestCaseResult[] {
  const results: TestCaseResult[] = [];
  const run = (set: CompiledPolicySet, file: string, path: string, example: string | ToolCallExample, expect: VerdictKind, expectPolicy: string | null) => {
    const verdict = evaluateExample(set, analyzer, example);
    const ok = verdict.verdict === expect && (expectPolicy === null || verdict.policy === expectPolicy);
    results.push({ file, path, command: exampleText(example), ...(typeof example === "string" ? {} : { tool: example }), expect, expectPolicy, verdict, ok });
  };

  for (const { value: policy, file } of loaded.policies.values()) {
    if (!policy.tests) continue;
    // examples test the rules themselves, so a disabled policy is evaluated as if active
    const set = compilePolicySet({ role: null, policies: [{ ...policy, status: "active" }], profiles: loaded.profiles });
    for (const expect of ["block", "require_approval", "allow"] as const) {
      policy.tests[expect]?.forEach((example, i) => run(set, file, `tests.${expect}[${i}]`, example, expect, null));
    }
  }

  for (const { value: test, file } of loaded.tests) {
    let set: CompiledPolicySet;
    if (test.role !== undefined) {
      set = compilePolicySet({ ...resolveRole(loaded, test.role), profiles: loaded.profiles });
    } else {
      const policies = (test.policies ?? []).map((id) => loaded.policies.get(id)!.value);
      set = compilePolicySet({ role: null, policies, profiles: loaded.profiles });
    }
    test.cases.forEach((c, i) => {
      const example: string | ToolCallExample =
        c.tool !== undefined ? { tool: c.tool, ...(c.path === undefined ? {} : { path: c.path }) } : (c.command ?? displayWords(c.argv ?? []));
      run(set, file, `cases[${i}]`, example, c.expect, c.policy ?? null);
    });
  }
  return results;
}
