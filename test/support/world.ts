/**
 * A workstation in a temp folder: the compiled gateway and daemon as real processes with an
 * isolated HOME and AIRLOCK_HOME, plus helpers to talk to the daemon socket and the gateway API.
 * Register `disposeWorlds` in afterAll: every process started here is killed and every folder removed.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { airlockBinary, run } from "./binary";
import { tempDir } from "./tmp";

export const ADMIN = "e2e-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";

export interface Proc {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<number | null>;
}

const cleanups: (() => Promise<unknown>)[] = [];

export async function disposeWorlds(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
}

export function spawnAirlock(bin: string, args: string[], env: Record<string, string>): Proc {
  const proc = Bun.spawn([bin, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const handle: Proc = {
    proc,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const code = await proc.exited;
      await drained;
      return signal === "SIGKILL" ? null : code;
    },
  };
  cleanups.push(() => handle.stop("SIGKILL"));
  return handle;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(25);
  }
}

export interface World {
  bin: string;
  dir: string;
  home: string;
  env: Record<string, string>;
  socket: string;
  gatewayDb: string;
  gatewayUrl: string;
  gateway: Proc | null;
  daemon: Proc | null;
}

export async function world(prefix = "airlock-e2e-"): Promise<World> {
  const bin = await airlockBinary();
  const t = await tempDir(prefix);
  cleanups.push(async () => t[Symbol.asyncDispose]());
  const home = join(t.path, "airlock-home");
  return {
    bin,
    dir: t.path,
    home,
    env: { HOME: t.path, AIRLOCK_HOME: home },
    socket: join(home, "run", "daemon.sock"),
    gatewayDb: join(t.path, "gateway.db"),
    gatewayUrl: "",
    gateway: null,
    daemon: null,
  };
}

export async function startGateway(w: World, listen = "127.0.0.1:0"): Promise<void> {
  const gw = spawnAirlock(w.bin, ["gateway", "--listen", listen, "--data", w.gatewayDb], { HOME: w.dir, AIRLOCK_HOME: join(w.dir, "gateway-home"), AIRLOCK_ADMIN_TOKEN: ADMIN });
  w.gateway = gw;
  w.gatewayUrl = await waitFor("the gateway to listen", async () => {
    if (gw.proc.exitCode !== null) throw new Error(`gateway exited: ${gw.output()}`);
    return gw.output().match(/listening on (http:\/\/\S+)/)?.[1] ?? null;
  });
}

export async function sock(w: World, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://daemon${path}`, { method, unix: w.socket, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }) } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function api(w: World, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function startDaemon(w: World): Promise<Proc> {
  const d = spawnAirlock(w.bin, ["daemon", "run"], w.env);
  w.daemon = d;
  await waitFor("the daemon to answer", async () => {
    if (d.proc.exitCode !== null) throw new Error(`daemon exited ${d.proc.exitCode}: ${d.output()}`);
    return (await sock(w, "GET", "/v1/status")).body?.pid === d.proc.pid;
  });
  return d;
}

/** Enrolls the world's daemon with its gateway through a one-time token in a 0600 file. */
export async function enroll(w: World): Promise<string> {
  const enr = await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "e2e" });
  const tokenFile = join(w.dir, "enroll.token");
  writeFileSync(tokenFile, `${enr.body.token}\n`, { mode: 0o600 });
  const r = await run(["client", "enroll", "--gateway", w.gatewayUrl, "--token-file", tokenFile, "--json"], { env: w.env });
  if (r.code !== 0) throw new Error(`enroll failed: ${r.stderr}`);
  return JSON.parse(r.stdout).client_id as string;
}

export async function gatewayDecisionIds(w: World, sessionId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const r: { body: { items: { id: string }[]; next_cursor: string | null } } = await api(w, "GET", `/api/v1/decisions?session_id=${sessionId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    ids.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  return ids;
}

/** Runs `fn` when the worlds are disposed (a process started some other way, for instance). */
export function onDispose(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}
