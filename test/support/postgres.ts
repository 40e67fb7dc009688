/**
 * A throwaway PostgreSQL server for the tests that need a real one (test/store/postgres.test.ts,
 * test/e2e/postgres.test.ts): finds the server binaries, creates a cluster in a temp dir with
 * `initdb`, starts `postgres` on a free 127.0.0.1 port (its unix socket in the same dir), hands
 * out a fresh database per test, and stops and removes everything after.
 *
 * initdb and postgres refuse to run as root: as root, the cluster belongs to an unprivileged user
 * (`postgres` when it exists, else `nobody`) and both run under `setpriv` as that user.
 *
 * Without the binaries, `findPostgresBin()` is null and the callers skip with the reason printed
 * (`POSTGRES_SKIP_REASON`); CI installs Debian's `postgresql` package (.ci/run), whose binaries live
 * in /usr/lib/postgresql/<version>/bin.
 */
import { afterAll, beforeAll, describe, test } from "bun:test";
import { SQL } from "bun";
import { spawn, spawnSync } from "node:child_process";
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const TOOLS = ["initdb", "postgres"] as const;

/** The folder holding `initdb` and `postgres`: $AIRLOCK_TEST_PG_BIN, PATH, /usr/lib/postgresql/<newest>/bin, /usr/local/bin, /usr/local/pgsql/bin. */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  const pinned = process.env.AIRLOCK_TEST_PG_BIN;
  if (pinned) candidates.push(pinned);
  candidates.push(...(process.env.PATH ?? "").split(delimiter).filter(Boolean));
  try {
    const versions = readdirSync("/usr/lib/postgresql")
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not Debian's layout
  }
  candidates.push("/usr/local/bin", "/usr/local/pgsql/bin", "/usr/pgsql/bin");
  for (const dir of candidates) {
    if (TOOLS.every((t) => existsSync(join(dir, t)))) return dir;
  }
  return null;
}

export const POSTGRES_BIN = findPostgresBin();
export const POSTGRES_SKIP_REASON = "no PostgreSQL server binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin: install Debian's postgresql package (.ci/run does)";

if (POSTGRES_BIN === null) console.warn(`skipping the PostgreSQL tests: ${POSTGRES_SKIP_REASON}`);

export interface PostgresServer {
  /** `postgres://airlock@127.0.0.1:<port>/<database>` */
  url(database: string): string;
  /** a new empty database; `drop` removes it in the background (closing whatever still uses it) */
  createDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }>;
  /** the server's log so far (for failure messages) */
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** As root: the uid and gid to run the server as; otherwise null (run as ourselves). */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const uid = spawnSync("id", ["-u", name], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", name], { encoding: "utf8" });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error("running as root and found neither a postgres nor a nobody user to run PostgreSQL as");
}

/** argv that runs `command` as `user` (via setpriv, which execs: the pid is the server's own) */
function asUser(user: { uid: number; gid: number } | null, command: string[]): string[] {
  return user === null ? command : ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...command];
}

let counter = 0;

/** Creates and starts a cluster; call `stop()` in afterAll. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = POSTGRES_BIN;
  if (bin === null) throw new Error(POSTGRES_SKIP_REASON);
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "airlock-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  const logFile = join(dir, "server.log");
  const initdb = asUser(user, [join(bin, "initdb"), "-D", data, "-U", "airlock", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]);
  const init = spawnSync(initdb[0]!, initdb.slice(1), { encoding: "utf8", cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }

  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const argv = asUser(user, [
      join(bin, "postgres"),
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dir}`,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=300",
    ]);
    const fd = openSync(logFile, "a");
    const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    let exited: number | null = null;
    const exit = new Promise<void>((resolve) => child.on("exit", (code) => ((exited = code ?? -1), resolve())));
    const admin = `postgres://airlock@127.0.0.1:${port}/postgres`;
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (Date.now() < deadline && exited === null) {
      const probe = new SQL({ url: admin, max: 1, connectionTimeout: 1 });
      try {
        await probe`SELECT 1`;
        ready = true;
        break;
      } catch {
        await Bun.sleep(50);
      } finally {
        await probe.close({ timeout: 0 }).catch(() => {});
      }
    }
    if (!ready) {
      lastError = readFileSync(logFile, "utf8");
      if (exited === null) {
        child.kill("SIGKILL");
        await exit;
      }
      continue;
    }
    const adminSql = new SQL({ url: admin, max: 2 });
    const v = Number(((await adminSql`SELECT current_setting('server_version_num')::int AS v`) as { v: number }[])[0]?.v ?? 0);
    const strategy = v >= 150000 ? " STRATEGY = FILE_COPY" : "";
    let stopped = false;
    const drops = new Set<Promise<void>>();
    return {
      url: (database) => `postgres://airlock@127.0.0.1:${port}/${database}`,
      async createDatabase() {
        const name = `airlock_t${process.pid}_${++counter}`;
        await adminSql.unsafe(`CREATE DATABASE ${name}${strategy}`);
        return {
          name,
          url: `postgres://airlock@127.0.0.1:${port}/${name}`,
          // in the background (a forced drop waits ~0.1 s for the closed connections' backends to
          // go); stop() waits for every pending drop
          drop: async () => {
            if (stopped) return;
            const dropping = adminSql.unsafe(`DROP DATABASE IF EXISTS ${name}${v >= 130000 ? " WITH (FORCE)" : ""}`).then(
              () => {},
              () => {},
            );
            drops.add(dropping);
            void dropping.finally(() => drops.delete(dropping));
          },
        };
      },
      log: () => readFileSync(logFile, "utf8"),
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all(drops);
        await adminSql.close({ timeout: 1 }).catch(() => {});
        if (exited === null) {
          child.kill("SIGINT"); // fast shutdown
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exit;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${lastError}`);
}

/**
 * `describe(name, body)` on a throwaway server: started before the block's tests (60 s allowed),
 * stopped after them. Without the server binaries the block is skipped, and one skipped test says why.
 */
export function describeWithPostgres(name: string, body: (server: PostgresServer) => void): void {
  // skipped only on a machine without PostgreSQL's server binaries (the reason is the test's name);
  // .ci/run installs them, so CI always runs these
  if (POSTGRES_BIN === null) test.skip(`${name}: ${POSTGRES_SKIP_REASON}`, () => {});
  // reason: as above, no server binaries to start a throwaway cluster with
  describe.skipIf(POSTGRES_BIN === null)(name, () => {
    let server: PostgresServer | undefined;
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    const started = (): PostgresServer => {
      if (!server) throw new Error("the PostgreSQL server is not started (yet)");
      return server;
    };
    body({
      url: (database) => started().url(database),
      createDatabase: () => started().createDatabase(),
      log: () => started().log(),
      stop: () => started().stop(),
    });
  });
}
