/**
 * `airlock daemon start|stop|status|run`: the workstation daemon.
 *
 * - run:    foreground; logs to stderr; SIGTERM/SIGINT/SIGHUP stop it cleanly (socket and pidfile removed).
 * - start:  `daemon run` detached, logging to $AIRLOCK_HOME/logs/daemon.log; returns once the socket
 *           answers. Already running → says so, exit 0.
 * - stop:   SIGTERM to the daemon answering on the socket (its pid, else the pidfile's), waits for it
 *           to exit. Not running → says so, exit 0.
 * - status: the daemon's DaemonStatus (`--json`); exit 1 when it is not running.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { VERSION } from "../config/version";
import { pidfilePath, runDaemon } from "../daemon/index";
import { probeDaemon } from "../daemon/probe";
import { readPidfile } from "../daemon/server";
import type { DaemonStatus } from "../protocol/daemon";
import { AirlockError } from "../protocol/errors";
import { createLogger } from "./_log";
import { formatFields, printJson, shortTime } from "./_remote";
import { err, out } from "../config/stdio";

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 15_000;

function paths(): AirlockPaths {
  return airlockPaths(readEnv());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How to start this same airlock again: the compiled binary, or bun + the entry script from source. */
function selfCommand(): string[] {
  const script = process.argv[1];
  if (script && !script.startsWith("/$bunfs") && !script.includes("~BUN") && /\.(ts|js|mjs)$/.test(script)) return [process.execPath, script];
  return [process.execPath];
}

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export function formatStatus(s: DaemonStatus): string {
  const g = s.gateway;
  const gateway = g.url === null ? "not enrolled (standalone: the embedded seed policies; decisions stay in the outbox)" : `${g.url} (client ${g.client_id ?? "-"}${g.enrolled ? "" : ", REVOKED"})`;
  const fields: [string, string | number | null][] = [
    ["daemon", `running (pid ${s.pid}, airlock ${s.version}, since ${shortTime(s.started_at)})`],
    ["socket", s.socket],
    ["gateway", gateway],
  ];
  if (g.url !== null) {
    fields.push(["reachable", `${g.reachable ? "yes" : "NO"}${g.last_contact_at ? ` (last contact ${shortTime(g.last_contact_at)})` : ""}`]);
    if (g.last_error) fields.push(["last error", g.last_error]);
  }
  fields.push(["default role", s.default_role], ["fail mode", s.fail_mode]);
  if (s.bundles.length === 0) fields.push(["bundles", "none loaded yet"]);
  for (const b of s.bundles) fields.push([`bundle ${b.role}`, `etag ${b.etag.slice(0, 16)}, age ${b.age_seconds} s${b.stale ? ", STALE (checks fail closed)" : ""}`]);
  fields.push(
    ["outbox", `${s.outbox.pending} pending${s.outbox.oldest_at ? ` (oldest ${shortTime(s.outbox.oldest_at)})` : ""}, ${s.outbox.shipped_total} shipped`],
    ["sessions", Object.entries(s.sessions).map(([k, n]) => `${k} ${n}`).join(", ")],
  );
  return formatFields(fields);
}

const run = defineCommand({
  meta: { name: "run", description: "Run the daemon in the foreground (logs on stderr; Ctrl-C or SIGTERM stops it cleanly)" },
  args: {},
  async run() {
    const env = readEnv();
    const log = createLogger({ level: env.AIRLOCK_LOG ?? "info", tag: "daemon" });
    const daemon = await runDaemon({ env, log });
    const stopped = new Promise<void>((done) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info(`${signal}: stopping`);
        daemon.stop().then(done, (error) => {
          log.error("shutdown failed", error);
          done();
        });
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGHUP", () => stop("SIGHUP"));
    });
    const status = daemon.daemon.status();
    log.info(
      `airlock daemon ${VERSION} listening on ${daemon.socket} (pid ${daemon.pid}; ${status.gateway.url ? `gateway ${status.gateway.url}` : "standalone: not enrolled"})`,
    );
    await stopped;
    log.info("stopped");
    return 0;
  },
});

const start = defineCommand({
  meta: { name: "start", description: "Start the daemon in the background (log: $AIRLOCK_HOME/logs/daemon.log); a running one is left as it is" },
  args: {},
  async run() {
    const p = paths();
    const before = await probeDaemon(p.socket);
    if (before.state === "running") {
      out(`airlock daemon is already running (pid ${before.status.pid}, socket ${p.socket})\n`);
      return 0;
    }
    if (before.state === "unresponsive") throw new AirlockError("unavailable", `something on ${p.socket} does not answer like an Airlock daemon (${before.error}); run 'airlock daemon stop' or remove it`);
    mkdirSync(p.logs, { recursive: true, mode: 0o700 });
    const logFile = join(p.logs, "daemon.log");
    const fd = openSync(logFile, "a", 0o600);
    let child;
    try {
      child = Bun.spawn([...selfCommand(), "daemon", "run"], {
        cwd: existsSync(p.home) ? p.home : "/",
        env: process.env,
        stdin: "ignore",
        stdout: fd,
        stderr: fd,
        detached: true,
      });
      child.unref();
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const probe = await probeDaemon(p.socket, 1000);
      if (probe.state === "running") {
        const mine = probe.status.pid === child.pid;
        out(
          mine
            ? `airlock daemon started (pid ${child.pid}, socket ${p.socket}, log ${logFile})\n`
            : `airlock daemon is already running (pid ${probe.status.pid}, socket ${p.socket})\n`,
        );
        return 0;
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        // a concurrent start may have won the race: then a daemon answers
        const again = await probeDaemon(p.socket, 1000);
        if (again.state === "running") {
          out(`airlock daemon is already running (pid ${again.status.pid}, socket ${p.socket})\n`);
          return 0;
        }
        const why = tail(logFile);
        throw new AirlockError("unavailable", `the daemon exited (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode}) before answering on ${p.socket}${why ? `; the end of ${logFile}:\n${why}` : ""}`);
      }
      await Bun.sleep(50);
    }
    throw new AirlockError("unavailable", `the daemon (pid ${child.pid}) did not answer on ${p.socket} within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`);
  },
});

const stop = defineCommand({
  meta: { name: "stop", description: "Stop the daemon (SIGTERM) and wait until it has exited" },
  args: {},
  async run() {
    const p = paths();
    const pidfile = pidfilePath(p);
    const probe = await probeDaemon(p.socket);
    let pid: number;
    if (probe.state === "running") {
      pid = probe.status.pid;
    } else {
      const fromFile = readPidfile(pidfile);
      if (fromFile !== null && alive(fromFile) && probe.state === "unresponsive") {
        throw new AirlockError("unavailable", `process ${fromFile} (from ${pidfile}) is alive but does not answer on ${p.socket} (${probe.error}); not signalling a process that may not be the daemon`);
      }
      out("airlock daemon is not running\n");
      return 0;
    }
    try {
      process.kill(pid, "SIGTERM");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw new AirlockError("forbidden", `cannot signal the daemon (pid ${pid}): ${(error as Error).message}`);
    }
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (alive(pid) && Date.now() < deadline) await Bun.sleep(25);
    if (alive(pid)) throw new AirlockError("unavailable", `the daemon (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    out(`airlock daemon stopped (pid ${pid})\n`);
    return 0;
  },
});

const status = defineCommand({
  meta: { name: "status", description: "The daemon's state: gateway, bundles, outbox, sessions. Exit 0 running, 1 not" },
  args: { json: { type: "boolean", description: "Print the DaemonStatus as JSON" } },
  async run({ args }) {
    const p = paths();
    const probe = await probeDaemon(p.socket);
    if (probe.state === "running") {
      if (args.json) printJson(probe.status);
      else out(formatStatus(probe.status));
      return 0;
    }
    const why = probe.state === "unresponsive" ? `something on the socket does not answer: ${probe.error}` : "not running";
    if (args.json) printJson({ running: false, socket: p.socket, error: why });
    else err(`airlock: the daemon is ${why} (socket ${p.socket}); start it with 'airlock daemon start'\n`);
    return 1;
  },
});

export const daemonCommand = defineCommand({
  meta: {
    name: "daemon",
    description:
      "The workstation daemon: decides checks locally, tracks sessions, ships decisions to the gateway.\n\n" +
      "  airlock daemon start          # in the background (log: $AIRLOCK_HOME/logs/daemon.log)\n" +
      "  airlock daemon status --json\n" +
      "  airlock daemon stop\n" +
      "  airlock daemon run            # in the foreground\n",
  },
  subCommands: { start, stop, status, run },
});
