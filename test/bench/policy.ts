/**
 * argv verdict against a role with 10,000 patterns (issue target: p50 ≤ 5 µs).
 * Run: bun run test/bench/policy.ts
 */
import { profileFiles } from "../../src/config/assets";
import { compilePolicySet, evaluateArgv } from "../../src/policy/engine";
import { loadPolicySources } from "../../src/policy/load";
import type { Policy } from "../../src/policy/schema";
import { report, summarize } from "./_stats";

export function benchPolicy(): boolean {
  const { profiles } = loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null });
  const tools = ["terraform", "kubectl", "aws", "helm", "pulumi", "gcloud", "az", "git", "docker", "tofu"];
  const blocked: string[] = [];
  const rules: Policy["rules"] = [];
  for (let i = 0; i < 10_000; i++) {
    const tool = tools[i % tools.length]!;
    const pattern = `${tool} sub${i % 997} verb${i}`;
    if (i % 3 === 0) rules.push({ command: pattern, action: i % 2 ? "require_approval" : "allow" });
    else blocked.push(pattern);
  }
  blocked.push("terraform apply", "kubectl delete", "aws iam create-role");
  const policy: Policy = { id: "bench", name: "Bench", status: "active", blocked_commands: blocked, rules };
  const built = performance.now();
  const set = compilePolicySet({ role: { id: "bench-role", name: "B", policies: ["bench"], default_action: "allow" }, policies: [policy], profiles });
  const compileMs = performance.now() - built;
  const argvs = [
    ["terraform", "-chdir=infra", "apply", "-auto-approve"],
    ["kubectl", "--context", "prod", "-n", "a", "delete", "ns", "b"],
    ["aws", "--profile", "p", "--region", "r", "iam", "create-role", "--role-name", "x"],
    ["terraform", "plan", "-out=tfplan"],
    ["kubectl", "get", "pods", "-o", "wide"],
    ["git", "status"],
    ["helm", "sub5", "verb5"],
    ["/usr/local/bin/docker", "sub3", "verb9978", "--rm"],
  ];
  for (let i = 0; i < 20_000; i++) evaluateArgv(set, argvs[i % argvs.length]!); // warm the JIT
  const samples: number[] = [];
  const batch = 100;
  for (let i = 0; i < 2_000; i++) {
    const argv = argvs[i % argvs.length]!;
    const t = performance.now();
    for (let j = 0; j < batch; j++) evaluateArgv(set, argv);
    samples.push(((performance.now() - t) * 1000) / batch);
  }
  console.log(`policy set: 10,003 patterns compiled in ${compileMs.toFixed(1)} ms`);
  return report("argv verdict, role with 10,000 patterns", summarize(samples), "µs", { p50: 5 });
}

if (import.meta.main) benchPolicy();
