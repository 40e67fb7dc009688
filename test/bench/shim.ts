/**
 * The protected-command path as an agent pays it, compiled binary, daemon warm (standalone),
 * side by side in one run (issue targets: blocked verdict p50 ≤ 8 ms; allowed overhead p50 ≤ 8 ms).
 * Run: bun run build.ts && bun run test/bench/shim.ts
 */
import { join } from "node:path";
import { fakeTools } from "../support/fakes";
import { disposeWorlds, sock, startDaemon, world } from "../support/world";
import { report, summarize } from "./_stats";

function time(argv: string[], env: Record<string, string>, runs: number): number[] {
  for (let i = 0; i < 5; i++) Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    samples.push(performance.now() - t);
  }
  return samples;
}

export async function benchShim(runs = 100): Promise<void> {
  const w = await world("airlock-bench-shim-");
  try {
    await startDaemon(w);
    const tools = await fakeTools(w.dir, w.bin, ["terraform"]);
    const created = await sock(w, "POST", "/v1/sessions", { agent: "bench", cwd: w.dir });
    const env = {
      ...w.env,
      PATH: `${tools.shimBin}:${tools.realBin}:/usr/bin:/bin`,
      AIRLOCK_HOME: w.home,
      AIRLOCK_SESSION_ID: created.body.session.id,
      AIRLOCK_SESSION_TOKEN: created.body.token,
    };
    const shim = join(tools.shimBin, "terraform");
    const direct = summarize(time([join(tools.realBin, "terraform"), "version"], env, runs));
    const allowed = summarize(time([shim, "version"], env, runs));
    const blocked = summarize(time([shim, "apply", "-auto-approve"], env, runs));
    report("fake terraform version, run directly", direct, "ms");
    report("terraform version through the shim (allowed)", allowed, "ms");
    console.log(`${"  shim overhead (allowed, p50 difference)".padEnd(58)} ${(allowed.p50 - direct.p50).toFixed(2)} ms  target ≤ 8 ms: ${allowed.p50 - direct.p50 <= 8 ? "met" : "MISSED"}`);
    report("terraform apply through the shim (blocked, 126)", blocked, "ms", { p50: 8 });
  } finally {
    await disposeWorlds();
  }
}

if (import.meta.main) await benchShim();
