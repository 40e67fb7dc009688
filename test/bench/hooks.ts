/**
 * The agent hook as an agent pays it: the whole `airlock hook claude` process (compiled binary,
 * payload on stdin, answer through pipes) with a Bash payload, daemon warm (standalone). Issue 5
 * target: p50 ≤ 10 ms. For scale: a peer hook (cc-safety-net 2.4.5) measured 31 ms under bun on
 * the same kind of 2-core machine.
 * Run: bun run build.ts && bun run test/bench/hooks.ts
 */
import { disposeWorlds, startDaemon, world } from "../support/world";
import { report, summarize, type Summary } from "./_stats";

const payload = (command: string, session = "bench-session") =>
  new TextEncoder().encode(
    JSON.stringify({
      session_id: session,
      transcript_path: "/home/dev/.claude/projects/-home-dev-project/bench.jsonl",
      cwd: "/home/dev/project",
      permission_mode: "default",
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command, description: "bench" },
      tool_use_id: "toolu_bench",
    }),
  );

function time(argv: string[], env: Record<string, string>, stdin: Uint8Array | "ignore", runs: number): number[] {
  for (let i = 0; i < 5; i++) Bun.spawnSync(argv, { env, stdin, stdout: "pipe", stderr: "pipe" });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = Bun.spawnSync(argv, { env, stdin, stdout: "pipe", stderr: "pipe" });
    samples.push(performance.now() - t);
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  }
  return samples;
}

export async function benchHooks(runs = 100): Promise<{ allowed: Summary; blocked: Summary }> {
  const w = await world("airlock-bench-hooks-");
  try {
    await startDaemon(w);
    const env = { ...w.env, PATH: "/usr/bin:/bin" };
    const version = summarize(time([w.bin, "--version"], env, "ignore", runs));
    const allowed = summarize(time([w.bin, "hook", "claude"], env, payload("cd infra && terraform plan -out=tfplan | tee plan.log"), runs));
    const blocked = summarize(time([w.bin, "hook", "claude"], env, payload("cd infra && terraform apply -auto-approve"), runs));
    report("airlock --version (process floor of this binary)", version, "ms");
    report("airlock hook claude, Bash allowed (no output)", allowed, "ms", { p50: 10 });
    report("airlock hook claude, Bash blocked (deny JSON)", blocked, "ms", { p50: 10 });
    return { allowed, blocked };
  } finally {
    await disposeWorlds();
  }
}

if (import.meta.main) await benchHooks();
