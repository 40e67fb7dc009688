/**
 * Shell analyzer micro-benchmark: init time, then p50/p90/p99 of analyze() over typical agent
 * commands (20-200 chars) with a warm parser (target p50 ≤ 100 µs).
 * Run: bun run test/bench/shell.ts [--each]   (also part of `npm run bench`)
 */
import { createShellAnalyzer } from "../../src/shell/analyzer";
import { shellWasm } from "../support/shell";
import { report, summarize } from "./_stats";

const COMMANDS = [
  "git status --short --branch",
  "ls -la src/ test/ | head -40",
  "git diff --stat HEAD~1",
  "npm test -- --watch=false",
  "cd /work/main && git status && git diff --stat | head -50",
  "cd /work/main && node_modules/.bin/bun test test/shell 2>&1 | tail -20",
  "grep -rn 'createShellAnalyzer' src/ test/ --include='*.ts' | head -20",
  "find . -name '*.ts' -not -path './node_modules/*' | xargs wc -l | sort -n | tail",
  "terraform plan -out=plan.tfplan -var \"region=us-east-1\" && terraform show -json plan.tfplan | jq .resource_changes",
  "kubectl get pods -n prod -o json | jq -r '.items[] | select(.status.phase != \"Running\") | .metadata.name'",
  "for f in $(ls src/*.ts); do echo \"$f\"; wc -l \"$f\"; done",
  "git add -A && git commit -m \"fix: handle heredoc into bash (kubectl delete ns prod stays data)\"",
  "FOO=1 AWS_PROFILE=dev aws s3 ls s3://my-bucket/prefix/ --recursive | grep -v .tmp",
  "sudo -u deploy env PATH=/usr/local/bin:$PATH timeout 300 terraform apply -auto-approve",
  "bash -lc 'cd infra && terraform init -upgrade && terraform validate'",
  "cat <<'EOF' > /tmp/notes.md\n# Notes\nterraform apply is data here\nEOF",
  "python3 -c 'import sys; print(sys.version)' && pip list 2>/dev/null | grep -i requests",
  "docker run --rm -v \"$PWD\":/src -w /src node:20 npm ci && docker image prune -f",
  "if [ -f package.json ]; then npm run build; else echo 'no package.json'; fi",
  "curl -sSf https://example.com/health || echo \"health check failed: $?\" >&2",
  "cd infra/envs/staging && terraform init -input=false -backend-config=backend.hcl && terraform plan -input=false -lock-timeout=60s -var-file=staging.tfvars -out=plan.out 2>&1 | tee plan.log",
  "kubectl --context prod -n payments get deploy,sts,svc -o json | jq -r '.items[] | [.kind, .metadata.name, (.spec.replicas // 0 | tostring)] | @tsv' | sort | column -t > /tmp/prod-inventory.tsv",
];

export async function benchShell(rounds = 2_000, each = false): Promise<boolean> {
  const t0 = performance.now();
  const analyzer = await createShellAnalyzer(shellWasm());
  const initMs = performance.now() - t0;
  const t1 = performance.now();
  analyzer.analyze("echo warm");
  const firstMs = performance.now() - t1;

  for (let i = 0; i < 200; i++) for (const c of COMMANDS) analyzer.analyze(c); // warm the JIT

  const samples: number[] = [];
  const perCommand = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const c of COMMANDS) {
      const s = performance.now();
      analyzer.analyze(c);
      const us = (performance.now() - s) * 1000;
      samples.push(us);
      let l = perCommand.get(c);
      if (!l) perCommand.set(c, (l = []));
      l.push(us);
    }
  }
  const lens = COMMANDS.map((c) => c.length);
  console.log(`shell analyzer init (Parser.init + Language.load): ${initMs.toFixed(1)} ms; first analyze: ${firstMs.toFixed(2)} ms`);
  const ok = report(
    `analyze(), ${COMMANDS.length} agent commands (${Math.min(...lens)}-${Math.max(...lens)} chars), warm`,
    summarize(samples),
    "µs",
    { p50: 100 },
  );
  if (each) {
    for (const [c, xs] of perCommand) report(`  ${JSON.stringify(c).slice(0, 54)}`, summarize(xs), "µs");
  }
  return ok;
}

if (import.meta.main) {
  const n = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  await benchShell(n ? Number(n) : 2_000, process.argv.includes("--each"));
}
