/**
* Whole-process figures of the compiled binary, stdout and stderr captured through pipes as an agent does (issue targets: `airlock --version` p50 ≤ 8 ms;
 * `airlock check --command ...` with a cold parser: reported).
 * Run: bun run build.ts && bun run test/bench/startup.ts
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { report, summarize } from "./_stats";

const BIN = resolve(import.meta.dir, "..", "..", "dist", "airlock");

function timeProcess(argv: string[], runs: number, cwd: string): number[] {
  const env = { PATH: "/usr/bin:/bin", HOME: cwd };
  for (let i = 0; i < 3; i++) Bun.spawnSync(argv, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    Bun.spawnSync(argv, { cwd, env, stdout: "pipe", stderr: "pipe" });
    samples.push(performance.now() - t);
  }
  return samples;
}

export function benchStartup(): boolean {
  const cwd = mkdtempSync(join(tmpdir(), "airlock-bench-"));
  const trueSamples = timeProcess(["/bin/true"], 100, cwd);
  report("/bin/true (spawn floor of this harness)", summarize(trueSamples), "ms");
  const ok = report("airlock --version", summarize(timeProcess([BIN, "--version"], 100, cwd)), "ms", { p50: 8 });
  report("airlock --help", summarize(timeProcess([BIN, "--help"], 50, cwd)), "ms");
  report("airlock check -- terraform apply (cold parser)", summarize(timeProcess([BIN, "check", "--", "terraform", "apply"], 30, cwd)), "ms");
  report(
    "airlock check --command '<80 chars>' (cold parser)",
    summarize(timeProcess([BIN, "check", "--command", "cd infra && terraform -chdir=envs/prod plan -out=tfplan | tee plan.log && echo ok"], 30, cwd)),
    "ms",
  );
  return ok;
}

if (import.meta.main) benchStartup();
