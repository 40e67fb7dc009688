/** The compiled gateway on a loopback port for the benchmarks: started, and its URL read from its first line. */
import { join, resolve } from "node:path";

export const BIN = resolve(import.meta.dir, "..", "..", "dist", "airlock");
export const BENCH_ADMIN = "bench-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";

/** `gateway.db` in `dataDir`; `airlockHome` defaults to `dataDir` */
export async function startBenchGateway(dataDir: string, airlockHome = dataDir): Promise<{ url: string; proc: ReturnType<typeof Bun.spawn> }> {
  const proc = Bun.spawn([BIN, "gateway", "--listen", "127.0.0.1:0", "--data", join(dataDir, "gateway.db")], {
    env: { PATH: "/usr/bin:/bin", HOME: dataDir, AIRLOCK_HOME: airlockHome, AIRLOCK_ADMIN_TOKEN: BENCH_ADMIN, AIRLOCK_LOG: "warn" },
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
