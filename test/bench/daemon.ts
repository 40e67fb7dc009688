/**
 * The daemon's check round trip over its Unix socket (compiled binary, standalone, temp
 * AIRLOCK_HOME): each check is validated, decided, written to the outbox in its own transaction
 * and answered. Targets: p50 ≤ 0.3 ms and ≥ 5,000 sequential checks/s.
 * Run: bun run build.ts && bun run test/bench/daemon.ts [--checks 20000] [--enrolled]
 * (--enrolled: a second run enrolled with a local compiled gateway, the outbox shipping meanwhile)
 * The client shares the machine's cores with the daemon.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_ADMIN, BIN, startBenchGateway } from "./_gateway";
import { report, summarize } from "./_stats";

/** A compiled gateway on a loopback port, and a one-time enrollment token from it. */
async function gatewayFor(home: string): Promise<{ url: string; enrollment: string; proc: ReturnType<typeof Bun.spawn> }> {
  const { url, proc } = await startBenchGateway(home, join(home, "gw"));
  const res = await fetch(`${url}/api/v1/clients/enrollment-tokens`, { method: "POST", headers: { authorization: `Bearer ${BENCH_ADMIN}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench" }) });
  return { url, enrollment: ((await res.json()) as { token: string }).token, proc };
}

export async function benchDaemon(checks = 20_000, options: { enrolled?: boolean } = {}): Promise<{ p50: number; p99: number; perSecond: number }> {
  const home = mkdtempSync(join(tmpdir(), "airlock-bench-daemon-"));
  const socket = join(home, "run", "daemon.sock");
  const gateway = options.enrolled ? await gatewayFor(home) : null;
  if (gateway) {
    const enroll = Bun.spawnSync([BIN, "client", "enroll", "--gateway", gateway.url], { env: { PATH: "/usr/bin:/bin", HOME: home, AIRLOCK_HOME: home, AIRLOCK_TOKEN: gateway.enrollment }, stderr: "pipe" });
    if (enroll.exitCode !== 0) throw new Error(`enroll failed: ${enroll.stderr.toString()}`);
  }
  const mode = gateway ? "enrolled, shipping to a local gateway" : "standalone";
  const proc = Bun.spawn([BIN, "daemon", "run"], {
    env: { PATH: "/usr/bin:/bin", HOME: home, AIRLOCK_HOME: home, AIRLOCK_LOG: "warn" },
    stdout: "ignore",
    stderr: "inherit",
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://daemon${path}`, { method, unix: socket, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) } as RequestInit);
    return res.json() as Promise<any>;
  };
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await call("GET", "/v1/status")).pid === proc.pid) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error("the daemon did not start");
      await Bun.sleep(20);
    }
    const { session, token } = await call("POST", "/v1/sessions", { agent: "bench", cwd: home });
    const caller = { kind: "session", session_id: session.id, token };
    const argvs = [
      ["terraform", "-chdir=infra", "plan", "-out=tfplan"],
      ["terraform", "apply", "-auto-approve"],
      ["kubectl", "--context", "prod", "-n", "a", "get", "pods"],
      ["aws", "--profile", "p", "iam", "create-role", "--role-name", "x"],
    ];
    for (let i = 0; i < 500; i++) await call("POST", "/v1/check", { caller, argv: argvs[i % argvs.length], cwd: home });

    const samples: number[] = [];
    const started = performance.now();
    for (let i = 0; i < checks; i++) {
      const t = performance.now();
      const r = await call("POST", "/v1/check", { caller, argv: argvs[i % argvs.length], cwd: home });
      samples.push(performance.now() - t);
      if (typeof r.verdict !== "string") throw new Error(`not a verdict: ${JSON.stringify(r)}`);
    }
    const elapsed = (performance.now() - started) / 1000;
    const s = summarize(samples);
    console.log(`# ${mode}`);
    report("daemon POST /v1/check round trip (socket, sequential)", s, "ms", { p50: 0.3 });
    const perSecond = checks / elapsed;
    console.log(`${"daemon sequential checks/s".padEnd(58)} ${Math.round(perSecond)} /s  target ≥ 5000: ${perSecond >= 5000 ? "met" : "MISSED"}`);

    // several shims at once, as parallel agent tool calls produce them
    for (const inFlight of [4, 16]) {
      const total = Math.min(checks, 10_000);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < total) {
            const i = next++;
            await call("POST", "/v1/check", { caller, argv: argvs[i % argvs.length], cwd: home });
          }
        }),
      );
      const rate = total / ((performance.now() - t0) / 1000);
      console.log(`${`daemon checks/s, ${inFlight} in flight`.padEnd(58)} ${Math.round(rate)} /s  target ≥ 5000: ${rate >= 5000 ? "met" : "MISSED"}`);
    }

    const commands = ["cd infra && terraform apply -auto-approve", "terraform plan && echo done", "bash -c 'sudo kubectl delete ns prod'"];
    const cmdSamples: number[] = [];
    for (let i = 0; i < Math.min(5000, checks); i++) {
      const t = performance.now();
      await call("POST", "/v1/check-command", { caller, command: commands[i % commands.length], cwd: home, source: "claude" });
      cmdSamples.push(performance.now() - t);
    }
    report("daemon POST /v1/check-command round trip (shell analysis)", summarize(cmdSamples), "ms");
    const st = await call("GET", "/v1/status");
    console.log(`${"outbox: pending / shipped (one transaction per check)".padEnd(58)} ${st.outbox.pending} / ${st.outbox.shipped_total}`);
    return { p50: s.p50, p99: s.p99, perSecond };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    if (gateway) {
      gateway.proc.kill("SIGTERM");
      await gateway.proc.exited;
    }
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--checks");
  const n = i === -1 ? 20_000 : Number(process.argv[i + 1]);
  await benchDaemon(n);
  if (process.argv.includes("--enrolled")) await benchDaemon(n, { enrolled: true });
}
