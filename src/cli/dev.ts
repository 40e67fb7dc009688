/**
 * `airlock dev up|down`: the one-command local loop. `up` runs in the foreground as a supervisor:
 * gateway (embedded SQLite) + daemon (enrolled) + shims, then prints the UI URL, the admin token,
 * the PATH line and a smoke test; Ctrl-C (or `dev down` from another terminal) stops everything.
 * A second `up` reports the running one.
 */
import { defineCommand } from "citty";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGatewayClient } from "../client/gateway";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { AirlockError } from "../protocol/errors";
import { parseListen } from "./gateway";
import { install } from "./install";
import { err, out } from "../config/stdio";

interface DevState {
  pid: number;
  url: string;
  started_at: string;
}

const stateFile = (paths: AirlockPaths) => join(paths.run, "dev.json");
const tokenFile = (paths: AirlockPaths) => join(paths.home, "dev-admin-token");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(paths: AirlockPaths): DevState | null {
  try {
    const state = JSON.parse(readFileSync(stateFile(paths), "utf8")) as DevState;
    return alive(state.pid) ? state : null;
  } catch {
    return null;
  }
}

/** The dev admin token: made once, kept 0600 in $AIRLOCK_HOME so every `dev up` can print it. */
function devAdminToken(paths: AirlockPaths): string {
  const file = tokenFile(paths);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const token = `al_a_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: Subprocess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new AirlockError("unavailable", `${what} exited with code ${child.exitCode} while starting; see its log`);
    if (await probe().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new AirlockError("unavailable", `${what} did not come up within ${timeoutMs / 1000} s`);
}

function runSync(args: string[], env: Record<string, string | undefined>): { ok: boolean; out: string } {
  const r = Bun.spawnSync([process.execPath, ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
}

const up = defineCommand({
  meta: { name: "up", description: "Start gateway + daemon + shims on this machine (embedded SQLite) and stay in the foreground; Ctrl-C stops everything" },
  args: { listen: { type: "string", description: "Gateway address, host:port (default 127.0.0.1:8787)" } },
  async run({ args }) {
    const env = readEnv();
    const paths = airlockPaths(env);
    const listen = parseListen(args.listen ?? "127.0.0.1:8787", "--listen");
    for (const dir of [paths.home, paths.run, paths.logs]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const running = readState(paths);
    if (running) {
      out(`airlock dev is already running (pid ${running.pid}) at ${running.url}, since ${running.started_at}.\nAdmin token: ${devAdminToken(paths)}\nStop it with: airlock dev down\n`);
      return 0;
    }
    const admin = devAdminToken(paths);
    const url = `http://${listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname}:${listen.port}`;
    const childEnv = { ...process.env, AIRLOCK_HOME: paths.home };
    const children: { name: string; proc: Subprocess }[] = [];
    const stopAll = async () => {
      for (const { proc } of [...children].reverse()) {
        if (proc.exitCode === null) proc.kill("SIGTERM");
        await Promise.race([proc.exited, Bun.sleep(10_000).then(() => proc.kill("SIGKILL"))]);
      }
      rmSync(stateFile(paths), { force: true });
    };
    let stopping: Promise<void> | null = null;
    const stopped = new Promise<void>((done) => {
      const stop = () => {
        stopping ??= stopAll().then(done, done);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    try {
      const gatewayLog = openSync(join(paths.logs, "gateway.log"), "a", 0o600);
      const gateway = Bun.spawn([process.execPath, "gateway", "--listen", `${listen.hostname}:${listen.port}`], {
        env: { ...childEnv, AIRLOCK_ADMIN_TOKEN: admin },
        stdout: gatewayLog,
        stderr: gatewayLog,
      });
      children.push({ name: "gateway", proc: gateway });
      const client = createGatewayClient({ baseUrl: url, token: admin });
      await waitFor("the gateway", async () => (await fetch(`${url}/readyz`)).ok, 15_000, gateway);
      try {
        await client.status();
      } catch (error) {
        throw new AirlockError("unavailable", `the gateway at ${url} does not accept the dev admin token in ${tokenFile(paths)} (was ${paths.gatewayDb} made by another setup?): ${(error as Error).message}`);
      }

      const status = runSync(["client", "status", "--json"], childEnv);
      const enrolled = status.ok && /"enrolled":\s*true/.test(status.out) && status.out.includes(url);
      if (!enrolled) {
        const res = await fetch(`${url}/api/v1/clients/enrollment-tokens`, {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "airlock dev", expires_in_minutes: 10 }),
        });
        if (!res.ok) throw new AirlockError("unavailable", `could not create an enrollment token: ${res.status} ${await res.text()}`);
        const enrollment = (await res.json()) as { token: string };
        const r = runSync(["client", "enroll", "--gateway", url], { ...childEnv, AIRLOCK_TOKEN: enrollment.token });
        if (!r.ok) throw new AirlockError("unavailable", `enrolling the daemon failed: ${r.out}`);
      }

      const daemonLog = openSync(join(paths.logs, "daemon.log"), "a", 0o600);
      const daemon = Bun.spawn([process.execPath, "daemon", "run"], { env: childEnv, stdout: daemonLog, stderr: daemonLog });
      children.push({ name: "daemon", proc: daemon });
      await waitFor("the daemon", async () => existsSync(paths.socket) && runSync(["daemon", "status", "--json"], childEnv).ok, 15_000, daemon);

      const shims = install(paths, process.execPath);
      writeFileSync(stateFile(paths), JSON.stringify({ pid: process.pid, url, started_at: new Date().toISOString() } satisfies DevState), { mode: 0o600 });
      out(`
Airlock is running (Ctrl-C or 'airlock dev down' stops it).

  Admin UI     ${url}
  Admin token  ${admin}
  Gateway      ${url}/api/v1  (store: ${paths.gatewayDb})
  Daemon       ${paths.socket}  (enrolled)
  Shims        ${paths.bin}  (${shims.created.length + shims.kept.length} tools)
  Logs         ${paths.logs}

Put the shims first on PATH in your shell:
  export PATH="${paths.bin}:$PATH"

Smoke test (terraform version runs if Terraform is installed; apply is blocked with exit 126):
  airlock run bash -c 'terraform version; terraform apply -auto-approve'
  AIRLOCK_TOKEN=${admin} airlock sessions list --gateway ${url}
${shims.conflicts.length ? `\nNote: left alone (not Airlock's): ${shims.conflicts.join(", ")}\n` : ""}
Human approvals (helm upgrade asks a human under the seed policies): 'airlock sign-in', then
'airlock pair' and enter its code at ${url}/approver on your phone.

Desktop apps (Claude desktop, Cursor) need the shims on their PATH too: 'airlock install' shows how.
`);
      // a child that dies takes the loop down with it, rather than leaving half a setup running
      for (const { name, proc } of children) {
        proc.exited.then((code) => {
          if (!stopping) {
            err(`airlock: ${name} exited (code ${code}); stopping; see ${join(paths.logs, `${name}.log`)}\n`);
            process.kill(process.pid, "SIGTERM");
          }
        });
      }
      await stopped;
      out("airlock dev: stopped\n");
      return 0;
    } catch (error) {
      await stopAll();
      throw error;
    }
  },
});

const down = defineCommand({
  meta: { name: "down", description: "Stop a running 'airlock dev up' (gateway and daemon)" },
  args: {},
  async run() {
    const paths = airlockPaths(readEnv());
    const state = readState(paths);
    if (!state) {
      out("airlock dev is not running\n");
      return 0;
    }
    process.kill(state.pid, "SIGTERM");
    for (let i = 0; i < 300 && alive(state.pid); i++) await Bun.sleep(50);
    if (alive(state.pid)) throw new AirlockError("unavailable", `airlock dev (pid ${state.pid}) did not stop within 15 s`);
    out(`airlock dev stopped (was pid ${state.pid})\n`);
    return 0;
  },
});

export const devCommand = defineCommand({
  meta: { name: "dev", description: "The local loop: 'airlock dev up' runs gateway + daemon + shims here; 'airlock dev down' stops them" },
  subCommands: { up, down },
});
