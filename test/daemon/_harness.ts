/**
 * In-process daemons for the daemon tests: a temp AIRLOCK_HOME, a real socket in it, the warm test
 * analyzer, a controllable clock, and optionally an in-process gateway on a loopback port (real
 * HTTP, so a stop/restart is a real outage).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import * as v from "valibot";
import { ConfigFile } from "../../src/config/file";
import type { AirlockEnv } from "../../src/config/env";
import { airlockPaths, type AirlockPaths } from "../../src/config/paths";
import { loadProfiles, loadSeed, startDaemon, type DaemonDeps, type RunningDaemon } from "../../src/daemon/index";
import { createGatewayApp } from "../../src/gateway/app";
import { loadPolicySources } from "../../src/policy/load";
import { profileFiles } from "../../src/config/assets";
import type { ShellAnalyzer } from "../../src/shell/types";
import { testGateway, type TestGateway } from "../support/gateway";
import { shellAnalyzer } from "../support/shell";
import { tempDir, type TempDir } from "../support/tmp";

export const ADMIN = "test-admin-token-0123456789abcdefghijklmnop";

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

export function clock(): Clock {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => (offset += ms) };
}

const seed = loadSeed();
const profiles = loadProfiles();

export interface TestDaemon extends AsyncDisposable {
  dir: TempDir;
  home: string;
  paths: AirlockPaths;
  running: RunningDaemon;
  clock: Clock;
  /** a request over the real socket */
  call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** POST /v1/sessions → { id, token } */
  session(body?: Record<string, unknown>): Promise<{ id: string; token: string; role: string }>;
  check(caller: unknown, argv: string[], cwd?: string): Promise<any>;
  stop(): Promise<void>;
}

export async function startTestDaemon(options: {
  config?: Partial<v.InferInput<typeof ConfigFile>>;
  analyzer?: ShellAnalyzer;
  deps?: Partial<DaemonDeps>;
  home?: string;
} = {}): Promise<TestDaemon> {
  const dir = await tempDir("airlock-daemon-");
  const home = options.home ?? join(dir.path, "home");
  const paths = airlockPaths({ AIRLOCK_HOME: home, HOME: dir.path } as AirlockEnv);
  if (options.config) {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(paths.config, JSON.stringify(options.config), { mode: 0o600 });
  }
  const c = clock();
  const running = await startDaemon({
    paths,
    analyzer: options.analyzer ?? (await shellAnalyzer()),
    profiles,
    seed: () => seed,
    now: c.now,
    identity: { user: "dev", host: "laptop.local" },
    version: "test",
    timing: { enrollPollMs: 50, feedWaitSeconds: 2, retryBaseMs: 50, retryMaxMs: 400, reapMs: 100, requestTimeoutMs: 2000 },
    ...(options.deps ?? {}),
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://daemon${path}`, {
      method,
      unix: paths.socket,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json" } }),
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
  };
  return {
    dir,
    home,
    paths,
    running,
    clock: c,
    call,
    async session(body = {}) {
      const r = await call("POST", "/v1/sessions", { agent: "claude", cwd: "/work", ...body });
      if (r.status !== 201) throw new Error(`session: ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body.session.id, token: r.body.token, role: r.body.session.role };
    },
    async check(caller, argv, cwd = "/work") {
      const r = await call("POST", "/v1/check", { caller, argv, cwd });
      if (r.status !== 200) throw new Error(`check: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await dir[Symbol.asyncDispose]();
    },
  };
}

export interface HttpGateway extends AsyncDisposable {
  gw: TestGateway;
  url: string;
  /** an admin (default) or other bearer request */
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  /** a fresh one-time enrollment token */
  enrollmentToken(): Promise<string>;
  /** simulate an outage: stop listening (the store stays) */
  down(): Promise<void>;
  /** listen again on the same port */
  up(): void;
}

export async function httpGateway(): Promise<HttpGateway> {
  const gw = await testGateway();
  const quiet = { info() {}, warn() {}, error() {} };
  const { profiles: gwProfiles } = loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null });
  const { app } = createGatewayApp({ store: gw.store, analyzer: await shellAnalyzer(), profiles: gwProfiles, version: "test", log: quiet, failedAuth: { max: 1000, windowMs: 60_000 } });
  let server: Server<undefined> | null = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app.fetch(req, { ip: "127.0.0.1" }), idleTimeout: 60 });
  const port = server.port;
  const url = `http://127.0.0.1:${port}`;
  const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    gw,
    url,
    api,
    async enrollmentToken() {
      const r = await api("POST", "/api/v1/clients/enrollment-tokens", { name: "test" });
      if (r.status !== 201) throw new Error(JSON.stringify(r.body));
      return r.body.token;
    },
    async down() {
      await server?.stop(true);
      server = null;
    },
    up() {
      server ??= Bun.serve({ hostname: "127.0.0.1", port, fetch: (req) => app.fetch(req, { ip: "127.0.0.1" }), idleTimeout: 60 });
    },
    async [Symbol.asyncDispose]() {
      await server?.stop(true);
      await gw[Symbol.asyncDispose]();
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 3000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await Bun.sleep(20);
  }
}
