/** The socket and its files: private modes, the pidfile, one live daemon per socket, stale sockets replaced. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestDaemon } from "./_harness";
import { tempDir } from "../support/tmp";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("files", () => {
  test("the socket and daemon.db are 0600, run/ is 0700, and the pidfile names this process", async () => {
    await using d = await startTestDaemon();
    expect(statSync(d.paths.socket).isSocket()).toBe(true);
    expect(mode(d.paths.socket)).toBe(0o600);
    expect(mode(d.paths.daemonDb)).toBe(0o600);
    expect(mode(`${d.paths.daemonDb}-wal`)).toBe(0o600);
    expect(mode(d.paths.run)).toBe(0o700);
    expect(readFileSync(join(d.paths.run, "daemon.pid"), "utf8")).toBe(`${process.pid}\n`);
  });

  test("a clean stop removes the socket and the pidfile", async () => {
    await using d = await startTestDaemon();
    await d.stop();
    expect(existsSync(d.paths.socket)).toBe(false);
    expect(existsSync(join(d.paths.run, "daemon.pid"))).toBe(false);
  });
});

describe("one daemon per socket", () => {
  test("a second daemon on the same home is refused, naming the running one's pid", async () => {
    await using d = await startTestDaemon();
    let error: Error | null = null;
    try {
      await startTestDaemon({ home: d.home });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toContain(`a daemon is already running (pid ${process.pid})`);
    // the first one is untouched
    expect((await d.call("GET", "/v1/status")).body.pid).toBe(process.pid);
    expect(existsSync(join(d.paths.run, "daemon.pid"))).toBe(true);
  });

  test("a stale socket and pidfile (a daemon killed with -9) are replaced", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "home");
    const run = join(home, "run");
    mkdirSync(run, { recursive: true, mode: 0o700 });
    // a socket nobody listens on: a child process listens, then dies by SIGKILL
    const child = Bun.spawn([process.execPath, "-e", `Bun.serve({ unix: ${JSON.stringify(join(run, "daemon.sock"))}, fetch: () => new Response("x") }); console.log("up")`], { stdout: "pipe" });
    await child.stdout.getReader().read();
    child.kill("SIGKILL");
    await child.exited;
    writeFileSync(join(run, "daemon.pid"), `${child.pid}\n`);
    expect(statSync(join(run, "daemon.sock")).isSocket()).toBe(true);

    await using d = await startTestDaemon({ home });
    expect((await d.call("GET", "/v1/status")).body.pid).toBe(process.pid);
    expect(readFileSync(join(run, "daemon.pid"), "utf8").split("\n")[0]).toBe(String(process.pid));
  });

  test("a pidfile naming a live process that is no daemon (a reused pid) is replaced after a short wait", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "home");
    mkdirSync(join(home, "run"), { recursive: true, mode: 0o700 });
    const stranger = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(join(home, "run", "daemon.pid"), `${stranger.pid}\n`);
      const started = Date.now();
      await using d = await startTestDaemon({ home });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect((await d.call("GET", "/v1/status")).body.pid).toBe(process.pid);
    } finally {
      stranger.kill();
    }
  });

  test("a file at the socket path that is not a socket is left alone", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "home");
    mkdirSync(join(home, "run"), { recursive: true });
    writeFileSync(join(home, "run", "daemon.sock"), "precious");
    await expect(startTestDaemon({ home })).rejects.toThrow("is not a socket");
    expect(readFileSync(join(home, "run", "daemon.sock"), "utf8")).toBe("precious");
    expect(existsSync(join(home, "run", "daemon.pid"))).toBe(false);
  });
});
