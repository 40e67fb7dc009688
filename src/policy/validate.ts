/**
 * One policy or role document checked exactly as `airlock policy lint` checks a file: schema,
 * contradictions, and the policy's inline examples. Used by the gateway API before anything is stored.
 */
import * as v from "valibot";
import type { ShellAnalyzer } from "../shell/types";
import { compilePolicySet } from "./engine";
import { issuesToProblems, lintPolicy, type Problem } from "./load";
import { evaluateExample, exampleText } from "./policy-tests";
import type { CompiledProfile } from "./profiles";
import { Policy, Role, type Policy as PolicyT, type Role as RoleT } from "./schema";

export function validatePolicyDocument(
  doc: unknown,
  profiles: ReadonlyMap<string, CompiledProfile>,
  analyzer: ShellAnalyzer,
): { policy: PolicyT | null; problems: Problem[] } {
  const parsed = v.safeParse(Policy, doc);
  if (!parsed.success) return { policy: null, problems: issuesToProblems("body", parsed.issues) };
  const policy = parsed.output;
  const problems: Problem[] = [];
  lintPolicy(policy, "body", problems);
  if (policy.tests) {
    const set = compilePolicySet({ role: null, policies: [{ ...policy, status: "active" }], profiles });
    for (const expect of ["block", "require_approval", "allow"] as const) {
      policy.tests[expect]?.forEach((example, i) => {
        const verdict = evaluateExample(set, analyzer, example);
        if (verdict.verdict !== expect) {
          problems.push({ severity: "error", file: "body", path: `tests.${expect}[${i}]`, message: `${JSON.stringify(exampleText(example))}: expected ${expect}, got ${verdict.verdict} (${verdict.reason})` });
        }
      });
    }
  }
  return { policy, problems };
}

export function validateRoleDocument(doc: unknown): { role: RoleT | null; problems: Problem[] } {
  const parsed = v.safeParse(Role, doc);
  if (!parsed.success) return { role: null, problems: issuesToProblems("body", parsed.issues) };
  const seen = new Set<string>();
  const problems: Problem[] = [];
  parsed.output.policies.forEach((id, i) => {
    if (seen.has(id)) problems.push({ severity: "error", file: "body", path: `policies[${i}]`, message: `policy ${JSON.stringify(id)} is attached twice` });
    seen.add(id);
  });
  return { role: parsed.output, problems };
}
