/**
 * The compiled binary under test. `npm test` builds it first; a test run started some other way
 * rebuilds it here when any source is newer than dist/airlock.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..", "..");
export const BIN = join(ROOT, "dist", "airlock");

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

let ready: Promise<string> | undefined;

export function airlockBinary(): Promise<string> {
  ready ??= (async () => {
    const inputs = ["src", "policies", "shims"].map((d) => join(ROOT, d)).filter(existsSync);
    const stale = !existsSync(BIN) || Math.max(...inputs.map(newest), statSync(join(ROOT, "build.ts")).mtimeMs) > statSync(BIN).mtimeMs;
    if (stale) {
      const proc = Bun.spawnSync([process.execPath, "run", join(ROOT, "build.ts")], { cwd: ROOT, stderr: "pipe" });
      if (proc.exitCode !== 0) throw new Error(`build failed: ${proc.stderr.toString()}`);
    }
    return BIN;
  })();
  return ready;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** run through this path instead of dist/airlock (a symlink or a copy) */
  exe?: string;
}

/** Spawns the binary with an environment that holds nothing of the developer's. */
export async function run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const exe = options.exe ?? (await airlockBinary());
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", NO_COLOR: "1" };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc = Bun.spawn([exe, ...args], {
    cwd: options.cwd ?? process.env.HOME ?? "/tmp",
    env,
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
