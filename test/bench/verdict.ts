/**
 * Shell-string verdict with a warm parser: analyze + evaluate against the seed default-agent role
 * (issue target: p50 ≤ 100 µs for typical 20-200 char commands).
 * Run: bun run test/bench/verdict.ts
 */
import { seedPolicyFiles, shellWasm } from "../../src/config/assets";
import { compilePolicySet, evaluateAnalysis } from "../../src/policy/engine";
import { loadPolicySources, resolveRole } from "../../src/policy/load";
import { createShellAnalyzer } from "../../src/shell/analyzer";
import { report, summarize } from "./_stats";

const COMMANDS = [
  "terraform plan -out=tfplan",
  "cd infra && terraform -chdir=envs/prod apply -auto-approve",
  "kubectl --context prod -n payments get pods -o wide | grep -v Running",
  "git add -A && git commit -m 'fix: kubectl delete is not what we want' && git push origin feature/x",
  "npm test -- --runInBand 2>&1 | tail -n 50",
  "for f in $(ls charts); do helm lint charts/$f; done",
  "aws --profile staging --region eu-west-1 s3 ls s3://bucket/prefix/ --recursive | head",
  "bash -c 'sudo -E terraform destroy -target=module.db'",
  "find . -name '*.tf' -exec terraform fmt -check {} \\;",
  "docker build -t app:dev . && docker run --rm app:dev npm run migrate",
];

export async function benchVerdict(): Promise<boolean> {
  const loaded = loadPolicySources(seedPolicyFiles());
  const set = compilePolicySet({ ...resolveRole(loaded, "default-agent"), profiles: loaded.profiles });
  const analyzer = await createShellAnalyzer(await shellWasm());
  for (let i = 0; i < 5_000; i++) evaluateAnalysis(set, analyzer.analyze(COMMANDS[i % COMMANDS.length]!));
  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const command = COMMANDS[i % COMMANDS.length]!;
    const t = performance.now();
    evaluateAnalysis(set, analyzer.analyze(command));
    samples.push((performance.now() - t) * 1000);
  }
  return report("shell-string verdict (analyze + engine), default-agent", summarize(samples), "µs", { p50: 100 });
}

if (import.meta.main) await benchVerdict();
