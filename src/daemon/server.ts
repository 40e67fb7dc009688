/**
 * The daemon's Unix socket: `Bun.serve({ unix })`, private (mode 0600 in a 0700 folder), one live
 * daemon per socket.
 *
 * Start-up order: the pidfile `run/daemon.pid` is created exclusively (two daemons racing: one
 * wins); a pidfile whose process is gone, or whose process does not answer on the socket, is
 * stale. A socket file is replaced only when nothing answers on it (connection refused), and only
 * when it is a socket. A live daemon → "a daemon is already running (pid N)". On a clean stop the
 * socket and the pidfile are removed.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, chmodSync } from "node:fs";
import { dirname } from "node:path";
import type { Server } from "bun";
import { AirlockError } from "../protocol/errors";
import { probeDaemon } from "./probe";

export interface SocketServer {
  socket: string;
  pidfile: string;
  server: Server<undefined>;
  /** stop accepting, let in-flight requests finish, remove the socket and the pidfile */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `run/daemon.pid`: the daemon's pid alone on one line (the conventional format other tools read). */
export function readPidfile(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function running(pid: number, socket: string): AirlockError {
  return new AirlockError("conflict", `a daemon is already running (pid ${pid}) on ${socket}; stop it with 'airlock daemon stop'`);
}

/** Takes the pidfile (O_EXCL), replacing a stale one. */
async function takePidfile(pidfile: string, socket: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(pidfile, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const pid = readPidfile(pidfile);
    if (pid !== null && alive(pid)) {
      // alive: a daemon (maybe still starting), or an unrelated process that reused the pid
      const deadline = Date.now() + 2000;
      for (;;) {
        const probe = await probeDaemon(socket, 500);
        if (probe.state === "running") throw running(probe.status.pid, socket);
        if (probe.state === "unresponsive") throw new AirlockError("conflict", `process ${pid} holds ${pidfile} and something on ${socket} does not answer (${probe.error}); is a daemon hung? stop it, then retry`);
        if (Date.now() > deadline) break;
        await Bun.sleep(100);
      }
    }
    try {
      unlinkSync(pidfile);
    } catch {
      // another starter removed it first: try again
    }
  }
  throw new AirlockError("conflict", `cannot take ${pidfile}: another daemon is starting`);
}

/** Removes a socket file nobody answers on; refuses a live daemon or a file that is not a socket. */
async function clearStaleSocket(socket: string): Promise<void> {
  const probe = await probeDaemon(socket, 1500);
  if (probe.state === "absent") return;
  if (probe.state === "running") throw running(probe.status.pid, socket);
  if (probe.state === "unresponsive") throw new AirlockError("conflict", `something listens on ${socket} but does not answer like an Airlock daemon (${probe.error}); not replacing it`);
  let isSocket = false;
  try {
    isSocket = lstatSync(socket).isSocket();
  } catch {
    return; // gone meanwhile
  }
  if (!isSocket) throw new AirlockError("conflict", `${socket} exists and is not a socket; remove it yourself if it is not needed`);
  unlinkSync(socket);
}

export async function listenSocket(options: { socket: string; pidfile: string; fetch: (req: Request) => Response | Promise<Response>; maxBodyBytes?: number }): Promise<SocketServer> {
  const { socket, pidfile } = options;
  // sun_path holds 104 bytes on macOS, 108 on Linux, including the terminating NUL
  if (Buffer.byteLength(socket) > 103) {
    throw new AirlockError("usage", `the socket path ${socket} is ${Buffer.byteLength(socket)} bytes long; Unix sockets allow at most 103: use a shorter AIRLOCK_HOME or set AIRLOCK_SOCKET`);
  }
  for (const dir of new Set([dirname(socket), dirname(pidfile)])) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      chmodSync(dir, 0o700);
    } catch {
      // not ours (a shared folder named by AIRLOCK_SOCKET): the socket's own mode still protects it
    }
  }
  await takePidfile(pidfile, socket);
  let server: Server<undefined>;
  try {
    await clearStaleSocket(socket);
    const previous = process.umask(0o077);
    try {
      server = Bun.serve({
        unix: socket,
        fetch: options.fetch,
        maxRequestBodySize: options.maxBodyBytes ?? 8 * 1024 * 1024,
      });
    } finally {
      process.umask(previous);
    }
    chmodSync(socket, 0o600);
  } catch (error) {
    if (readPidfile(pidfile) === process.pid) unlinkSync(pidfile);
    if ((error as { code?: string }).code === "EADDRINUSE") {
      const probe = await probeDaemon(socket, 500);
      if (probe.state === "running") throw running(probe.status.pid, socket);
      throw new AirlockError("conflict", `cannot listen on ${socket}: it is in use`);
    }
    throw error;
  }

  let stopping: Promise<void> | null = null;
  return {
    socket,
    pidfile,
    server,
    stop() {
      stopping ??= (async () => {
        await server.stop(false);
        if (readPidfile(pidfile) === process.pid) {
          try {
            if (existsSync(socket)) unlinkSync(socket);
          } catch {
            // already gone
          }
          try {
            unlinkSync(pidfile);
          } catch {
            // already gone
          }
        }
      })();
      return stopping;
    },
  };
}
