/**
 * The workstation daemon (DESIGN 6): a Unix-socket service that decides checks locally with the
 * shared engine, tracks sessions, keeps a durable audit outbox and syncs with the gateway.
 *
 * `createDaemon(deps)` wires the parts from injected dependencies (clock, paths, log, analyzer,
 * gateway client factory) with no module state; `startDaemon` adds the socket; `runDaemon` builds
 * the dependencies from the environment (what `airlock daemon run` calls).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { findAgentAncestor, shippedAgentNames } from "../config/ancestry";
import { assetRoot, profileFiles, seedPolicyFiles, shellWasm } from "../config/assets";
import { readEnv, type AirlockEnv } from "../config/env";
import { DEFAULT_ROLE, readConfigFile, type ConfigFile } from "../config/file";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { VERSION } from "../config/version";
import { errorCount, formatProblem, loadPolicySources, type LoadedPolicies } from "../policy/load";
import type { CompiledProfile } from "../policy/profiles";
import type { DaemonStatus } from "../protocol/daemon";
import { AirlockError } from "../protocol/errors";
import { createShellAnalyzer } from "../shell/analyzer";
import type { ShellAnalyzer } from "../shell/types";
import { Approvals } from "./approvals";
import { BundleCache } from "./bundles";
import { openDaemonDb, type DaemonDb } from "./db";
import { Decider } from "./decide";
import { createGatewayApi, type GatewayApiFactory } from "./gateway-api";
import { quietLogger, type Logger } from "./log";
import { createRouter } from "./routes";
import { listenSocket } from "./server";
import { defaultIdentity } from "./identity";
import { Sessions, type AgentProcess, type Identity } from "./sessions";
import { DEFAULT_SYNC_TIMING, Sync, type SyncTiming } from "./sync";

export type { Logger } from "./log";
export { enrollClient } from "./enroll";

export interface DaemonTiming extends SyncTiming {
  /** how often implicit sessions are checked for a vanished agent process, ms (default 2000) */
  reapMs: number;
}

export interface DaemonDeps {
  paths: AirlockPaths;
  analyzer: ShellAnalyzer;
  profiles: ReadonlyMap<string, CompiledProfile>;
  now?: () => Date;
  log?: Logger;
  /** the embedded seed policies (standalone mode); default: the binary's `policies/` */
  seed?: () => LoadedPolicies;
  /** how the daemon talks to a gateway; tests inject an in-process one */
  gatewayApi?: GatewayApiFactory;
  /** config.json; default: read from paths.config, re-read when it changes */
  config?: () => ConfigFile;
  identity?: Identity;
  version?: string;
  timing?: Partial<DaemonTiming>;
  random?: () => number;
  /**
   * The agent process among the ancestors of a hook process (first sight of an agent session);
   * default: the ancestry walk the shim uses, with `knownAgents` or the shipped known-agents list.
   */
  findAgent?: (pid: number) => AgentProcess | null;
  /** process names that count as agents (AIRLOCK_KNOWN_AGENTS); default: policies/known-agents.json */
  knownAgents?: readonly string[];
  /** how long an approval request stays answerable, ms (default APPROVAL_TTL_MS, 10 minutes) */
  approvalTtlMs?: number;
}

/** config.json auto_approve → engine patterns: a trailing `*` word (`kubectl get *`) is the word-prefix match the engine already does. */
export function autoApprovePatterns(patterns: readonly string[]): string[] {
  return patterns.map((p) => p.trim().replace(/(\s+\*)+$/, "")).filter((p) => p !== "" && p !== "*");
}

export interface Daemon {
  readonly db: DaemonDb;
  readonly sessions: Sessions;
  readonly decider: Decider;
  readonly sync: Sync;
  readonly approvals: Approvals;
  /** the socket API, callable in-process */
  fetch(req: Request): Promise<Response>;
  status(): DaemonStatus;
  /** starts the gateway sync and the implicit-session reaper */
  start(): void;
  /** stops them and closes daemon.db */
  close(): Promise<void>;
}

/**
 * config.json, re-read when its mtime (or size) changes — looked at on every call: a stat costs
 * microseconds, and `airlock auto-off` or `fail-mode` must hold from the next check on. A broken
 * edit keeps the last good one.
 */
export function configReader(path: string, log: Logger): () => ConfigFile {
  const mtime = () => {
    try {
      const st = statSync(path);
      return `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return "missing";
    }
  };
  let seen = mtime();
  let cached = readConfigFile(path);
  return () => {
    const m = mtime();
    if (m !== seen) {
      seen = m;
      try {
        cached = readConfigFile(path);
        log.info(`re-read ${path}`);
      } catch (error) {
        log.warn(`${(error as Error).message}; keeping the previous settings`);
      }
    }
    return cached;
  };
}

/** `derive(config)`, computed again only when config.json was re-read (a new object) */
function memoByConfig<T>(config: () => ConfigFile, derive: (c: ConfigFile) => T): () => T {
  let from: ConfigFile | null = null;
  let value!: T;
  return () => {
    const c = config();
    if (c !== from) {
      from = c;
      value = derive(c);
    }
    return value;
  };
}

export function loadSeed(): LoadedPolicies {
  const loaded = loadPolicySources(seedPolicyFiles());
  if (errorCount(loaded.problems) > 0) {
    throw new AirlockError("invalid_policy", `the embedded seed policies are invalid: ${loaded.problems.map(formatProblem).join("; ")}`);
  }
  return loaded;
}

export function loadProfiles(): ReadonlyMap<string, CompiledProfile> {
  return loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null }).profiles;
}

export function createDaemon(deps: DaemonDeps): Daemon {
  const now = deps.now ?? (() => new Date());
  const log = deps.log ?? quietLogger;
  const timing: DaemonTiming = { ...DEFAULT_SYNC_TIMING, reapMs: 2000, ...(deps.timing ?? {}) };
  const config = deps.config ?? configReader(deps.paths.config, log);
  const defaultRole = () => config().default_role ?? DEFAULT_ROLE;
  const startedAt = now();
  const db = openDaemonDb(deps.paths.daemonDb, { now });
  const bundles = new BundleCache({
    db,
    profiles: deps.profiles,
    seed: deps.seed ?? loadSeed,
    autoApprove: memoByConfig(config, (c) => autoApprovePatterns(c.auto_approve)),
    startedAt: startedAt.getTime(),
  });
  const sync = new Sync({
    db,
    bundles,
    now,
    log,
    config,
    gatewayApi: deps.gatewayApi ?? createGatewayApi,
    timing,
    defaultRole,
    ...(deps.random ? { random: deps.random } : {}),
  });
  const kick = () => sync.kick();
  const identity = deps.identity ?? defaultIdentity();
  const sessions = new Sessions({
    db,
    log,
    identity,
    defaultRole,
    knownRole: (role) => sync.knownRole(role),
    kick,
  });
  let agentNames: readonly string[] | null = deps.knownAgents ?? null;
  const findAgent =
    deps.findAgent ??
    ((pid: number) => {
      agentNames ??= shippedAgentNames(assetRoot());
      return findAgentAncestor(agentNames, pid);
    });
  const approvals = new Approvals({
    db,
    now,
    log,
    config,
    gateway: () => sync.approvalsGateway(),
    clientId: () => sync.clientId,
    host: identity.host,
    kick,
    ...(deps.approvalTtlMs === undefined ? {} : { ttlMs: deps.approvalTtlMs }),
  });
  const decider = new Decider({ db, sessions, analyzer: deps.analyzer, policy: (role) => sync.policy(role), defaultRole, now, log, kick, findAgent, config, approvals });
  const version = deps.version ?? VERSION;

  const status = (): DaemonStatus => {
    const cfg = config();
    const outbox = db.outboxStats();
    return {
      version,
      pid: process.pid,
      started_at: startedAt.toISOString(),
      socket: deps.paths.socket,
      fail_mode: cfg.fail_mode,
      default_role: cfg.default_role ?? DEFAULT_ROLE,
      gateway: sync.gatewayStatus(),
      bundles: sync.bundleStatus(),
      outbox: { pending: outbox.pending, oldest_at: outbox.oldest_at, shipped_total: db.shippedTotal() },
      sessions: db.sessionCounts(),
    };
  };

  const router = createRouter({ decider, sessions, approvals, status, log });
  let reaper: ReturnType<typeof setInterval> | null = null;
  let closed: Promise<void> | null = null;

  return {
    db,
    sessions,
    decider,
    sync,
    approvals,
    fetch: router,
    status,
    start() {
      sync.start();
      reaper ??= setInterval(() => {
        try {
          sessions.reap();
        } catch (error) {
          log.warn(`session reaper: ${(error as Error).message}`);
        }
      }, timing.reapMs);
    },
    close() {
      closed ??= (async () => {
        if (reaper) clearInterval(reaper);
        reaper = null;
        await sync.stop();
        await approvals.close();
        db.close();
      })();
      return closed;
    },
  };
}

export interface RunningDaemon {
  daemon: Daemon;
  socket: string;
  pidfile: string;
  pid: number;
  /** stop accepting, finish in-flight requests, stop syncing, close daemon.db, remove socket and pidfile */
  stop(): Promise<void>;
}

export function pidfilePath(paths: AirlockPaths): string {
  return join(paths.run, "daemon.pid");
}

/** The daemon on its socket. */
export async function startDaemon(deps: DaemonDeps): Promise<RunningDaemon> {
  const pidfile = pidfilePath(deps.paths);
  const daemon = createDaemon(deps);
  let server;
  try {
    server = await listenSocket({ socket: deps.paths.socket, pidfile, fetch: daemon.fetch });
  } catch (error) {
    await daemon.close();
    throw error;
  }
  daemon.start();
  let stopping: Promise<void> | null = null;
  return {
    daemon,
    socket: deps.paths.socket,
    pidfile,
    pid: process.pid,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await daemon.close();
      })();
      return stopping;
    },
  };
}

export interface RunDaemonOptions {
  env?: AirlockEnv;
  log?: Logger;
  now?: () => Date;
  gatewayApi?: GatewayApiFactory;
  timing?: Partial<DaemonTiming>;
}

/** `airlock daemon run`: dependencies from the environment, a warm shell analyzer, the socket. */
export async function runDaemon(options: RunDaemonOptions = {}): Promise<RunningDaemon> {
  const env = options.env ?? readEnv();
  const paths = airlockPaths(env);
  const log = options.log ?? quietLogger;
  const config = configReader(paths.config, log); // an invalid config.json stops the start here, naming the field
  const analyzer = await createShellAnalyzer(await shellWasm());
  analyzer.analyze("true"); // the first parse is the slow one
  const seed = loadSeed();
  return startDaemon({
    paths,
    analyzer,
    profiles: loadProfiles(),
    seed: () => seed,
    config,
    log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.gatewayApi ? { gatewayApi: options.gatewayApi } : {}),
    ...(options.timing ? { timing: options.timing } : {}),
    ...(env.AIRLOCK_KNOWN_AGENTS === undefined ? {} : { knownAgents: env.AIRLOCK_KNOWN_AGENTS.split(",").map((n) => n.trim()).filter(Boolean) }),
  });
}
