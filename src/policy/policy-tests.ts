/**
 * Policy test cases: the examples a policy carries inline (`tests.block|require_approval|allow`,
 * each checked against that policy alone) and the files under `policies/tests/` (against a role
 * or a list of policies). Like `opa test`: every case runs, every failure is reported.
 */
import type { ShellAnalyzer } from "../shell/types";
import { compilePolicySet, displayWords, evaluateAnalysis, type CompiledPolicySet, type Verdict } from "./engine";
import { resolveRole, type LoadedPolicies } from "./load";
import type { VerdictKind } from "./schema";

export interface TestCaseResult {
  file: string;
  /** JSON path of the case: `tests.block[0]`, `cases[3]` */
  path: string;
  command: string;
  expect: VerdictKind;
  expectPolicy: string | null;
  verdict: Verdict;
  ok: boolean;
}

export function runPolicyTests(loaded: LoadedPolicies, analyzer: ShellAnalyzer): TestCaseResult[] {
  const results: TestCaseResult[] = [];
  const run = (set: CompiledPolicySet, file: string, path: string, command: string, expect: VerdictKind, expectPolicy: string | null) => {
    const verdict = evaluateAnalysis(set, analyzer.analyze(command));
    const ok = verdict.verdict === expect && (expectPolicy === null || verdict.policy === expectPolicy);
    results.push({ file, path, command, expect, expectPolicy, verdict, ok });
  };

  for (const { value: policy, file } of loaded.policies.values()) {
    if (!policy.tests) continue;
    // examples test the rules themselves, so a disabled policy is evaluated as if active
    const set = compilePolicySet({ role: null, policies: [{ ...policy, status: "active" }], profiles: loaded.profiles });
    for (const expect of ["block", "require_approval", "allow"] as const) {
      policy.tests[expect]?.forEach((command, i) => run(set, file, `tests.${expect}[${i}]`, command, expect, null));
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
      const command = c.command ?? displayWords(c.argv ?? []);
      run(set, file, `cases[${i}]`, command, c.expect, c.policy ?? null);
    });
  }
  return results;
}
