/**
 * Gateway over real HTTP (compiled binary, temp SQLite, loopback), issue targets:
 * single-event ingests ≥ 5,000/s; batched ≥ 100,000 events/s; p99 ≤ 20 ms at 1,000 req/s;
 * filtered audit page (50 rows) at 1,000,000 events ≤ 20 ms.
 * Run: bun run build.ts && bun run test/bench/gateway.ts [--events 1000000]
 * The load generator shares the machine's 2 cores with the gateway.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { report, summarize } from "./_stats";

const BIN = resolve(import.meta.dir, "..", "..", "dist", "airlock");
const ADMIN = "bench-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";

async function startGateway(home: string): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn([BIN, "gateway", "--listen", "127.0.0.1:0", "--data", join(home, "gateway.db")], {
    env: { PATH: "/usr/bin:/bin", HOME: home, AIRLOCK_HOME: home, AIRLOCK_ADMIN_TOKEN: ADMIN, AIRLOCK_LOG: "warn" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`gateway exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { url: text.match(/listening on (\S+)/)![1]!, proc };
}

export async function benchGateway(totalEvents = 1_000_000): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "airlock-bench-gw-"));
  const { url, proc } = await startGateway(home);
  try {
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
      return res.json() as Promise<any>;
    };
    const enrollment = (await call("POST", "/api/v1/clients/enrollment-tokens", ADMIN, { name: "bench" })).token;
    const client = (await call("POST", "/api/v1/clients/enroll", enrollment, { name: "bench", hostname: "bench", user: "bench", version: "bench" })).token;
    const session = (await call("POST", "/api/v1/sessions", client, { agent: "claude", role: "default-agent", user: "bench", host: "bench", cwd: "/w" })).session.id;
    let n = 0;
    const decision = () => ({
      id: `d${++n}`,
      session_id: session,
      role: "default-agent",
      agent: "claude",
      tool: n % 3 ? "terraform" : "kubectl",
      command: n % 3 ? "terraform apply -auto-approve" : "kubectl get pods",
      normalized: ["terraform apply -auto-approve"],
      verdict: n % 3 ? "block" : "allow",
      policy: n % 3 ? "infra-mutation-block" : null,
      rule: n % 3 ? "blocked_commands[0]" : null,
      pattern: n % 3 ? "terraform apply" : null,
      reason: "bench",
      source: "shim",
      cwd: "/w",
      decided_at: new Date().toISOString(),
    });

    // 1. single-event ingests, closed loop, 16 in flight
    {
      const until = performance.now() + 4000;
      let done = 0;
      const worker = async () => {
        while (performance.now() < until) {
          await call("POST", "/api/v1/decisions", client, { decisions: [decision()] });
          done++;
        }
      };
      const t = performance.now();
      await Promise.all(Array.from({ length: 16 }, worker));
      const rate = done / ((performance.now() - t) / 1000);
      console.log(`${"single-event ingests over HTTP (16 in flight)".padEnd(58)} ${Math.round(rate).toLocaleString("en")} /s  target ≥ 5,000/s: ${rate >= 5000 ? "met" : "MISSED"}`);
    }

    // 2. batched ingests of 1,000, until the store holds totalEvents audit events
    {
      const t = performance.now();
      let events = 0;
      const status = async () => (await call("GET", "/api/v1/status", ADMIN)).counts.audit_events as number;
      const target = totalEvents - (await status());
      const worker = async () => {
        while (events < target) {
          const batch = Array.from({ length: 1000 }, decision);
          events += (await call("POST", "/api/v1/decisions", client, { decisions: batch })).accepted;
        }
      };
      await Promise.all([worker(), worker()]);
      const rate = events / ((performance.now() - t) / 1000);
      console.log(`${`batched ingests (1,000 per request, 2 in flight, ${events.toLocaleString("en")} events)`.padEnd(58)} ${Math.round(rate).toLocaleString("en")} events/s  target ≥ 100,000/s: ${rate >= 100_000 ? "met" : "MISSED"}`);
      console.log(`audit events in the store: ${(await status()).toLocaleString("en")}`);
    }

    // 3. open loop at 1,000 req/s for 5 s: dry checks and single ingests, alternating
    {
      const latencies: number[] = [];
      const inflight: Promise<void>[] = [];
      const start = performance.now();
      for (let i = 0; i < 5000; i++) {
        const due = start + i;
        const wait = due - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        const t = performance.now();
        const p = (i % 2 ? call("POST", "/api/v1/check", client, { command: "cd infra && terraform plan" }) : call("POST", "/api/v1/decisions", client, { decisions: [decision()] })).then(() => {
          latencies.push(performance.now() - t);
        });
        inflight.push(p);
      }
      await Promise.all(inflight);
      const s = summarize(latencies);
      report("open loop 1,000 req/s for 5 s (check + single ingest)", s, "ms");
      console.log(`${"".padEnd(58)} target p99 ≤ 20 ms: ${s.p99 <= 20 ? "met" : "MISSED"}`);
    }

    // 4. filtered audit page at the store's size
    {
      const since = new Date(Date.now() - 3600_000).toISOString();
      const paths = [`/api/v1/audit?type=decision.blocked&limit=50&since=${since}`, "/api/v1/audit?type=decision.&limit=50", `/api/v1/audit?actor=admin&limit=50`];
      for (const path of paths) {
        for (let i = 0; i < 5; i++) await call("GET", path, ADMIN);
        const samples: number[] = [];
        for (let i = 0; i < 50; i++) {
          const t = performance.now();
          await call("GET", path, ADMIN);
          samples.push(performance.now() - t);
        }
        report(`audit page ${path.replace(/since=[^&]+/, "since=1h").slice(14)}`, summarize(samples), "ms", { p50: 20 });
      }
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--events");
  await benchGateway(i > 0 ? Number(process.argv[i + 1]) : 1_000_000);
}
