/**
 * `airlock run [--role R] <command> [args...]`: launches an agent (or any command) as a governed
 * session, like `env`/`sudo` take a command. The daemon creates the session; the command runs
 * with the shims first on PATH and the session's credentials in its environment; the session
 * moves ready → running → exited and `run` exits with the command's code.
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { basename } from "node:path";
import { defineCommand } from "citty";
import { createDaemonClient, DaemonUnavailable } from "../client/daemon";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import type { DaemonSession } from "../protocol/daemon";
import { AirlockError } from "../protocol/errors";
import { runTool } from "../shim/exec";
import { findOnPath } from "../shim/resolve";
import { agentLaunchArgs, readManifest } from "./_agents";
import { err, out } from "../config/stdio";

export const RUN_HELP = `Usage: airlock run [--role ROLE] <command> [args...]

Runs a command (an AI agent such as claude or codex, or anything else) as a governed session:
protected tools it runs (terraform, kubectl, aws, helm, ...) are checked against ROLE's policies
before they run. The daemon is started if it is not running.

  airlock run claude
  airlock run --role terraform-restricted-agent codex
  airlock run bash -c 'terraform plan && terraform apply'

Options (before the command):
  --role ROLE   the session's role (default: the role set with 'airlock use', else default-agent)

Exit code: the command's own; 127 when it is not found; 2 for a usage error.
`;

function parse(args: readonly string[]): { role: string | undefined; command: string[] } {
  let role: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a === "--role") {
      role = args[++i];
      if (role === undefined) throw new AirlockError("usage", "--role needs a value: airlock run --role ROLE <command>");
    } else if (a.startsWith("--role=")) role = a.slice(7);
    else if (a.startsWith("-")) throw new AirlockError("usage", `unknown option ${a} for airlock run (options go before the command); see 'airlock run --help'`);
    else break;
  }
  const command = args.slice(i);
  if (command.length === 0) throw new AirlockError("usage", "airlock run needs a command: airlock run claude");
  if (role !== undefined && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(role)) throw new AirlockError("usage", `--role must be a role id, got ${JSON.stringify(role)}`);
  return { role, command };
}

async function ensureDaemon(socket: string): Promise<void> {
  const client = createDaemonClient(socket);
  try {
    await client.request("GET", "/v1/status", undefined, 1000);
    return;
  } catch (error) {
    if (!(error instanceof DaemonUnavailable)) throw error;
  }
  const start = Bun.spawnSync([process.execPath, "daemon", "start"], { stdout: "ignore", stderr: "pipe", env: process.env });
  if (start.exitCode !== 0) {
    throw new AirlockError("unavailable", `could not start the Airlock daemon: ${start.stderr.toString().trim() || `exit ${start.exitCode}`}`);
  }
}

/**
 * For `airlock run claude` / `airlock run codex`: the agent's hook for this run (Claude Code's
 * `--settings`, Codex's `-c hooks.PreToolUse=...`), unless `airlock install --agent` already put it
 * in the agent's user settings. The shims come first on PATH for every command (childEnv).
 */
function agentHookArgs(program: string, paths: AirlockPaths): string[] {
  return agentLaunchArgs(basename(program), process.execPath, readManifest(paths));
}

export async function runGoverned(args: readonly string[]): Promise<number> {
  if (args[0] === "--help" || args[0] === "-h") {
    out(RUN_HELP);
    return 0;
  }
  const { role, command } = parse(args);
  const env = readEnv();
  const paths = airlockPaths(env);
  const [program, ...rest] = command as [string, ...string[]];
  const pathWithShims = `${paths.bin}:${process.env.PATH ?? ""}`;
  // resolved as the agent's own shell would: a protected tool named here goes through its shim
  const resolved = program.includes("/") ? (existsSync(program) ? program : null) : findOnPath(program, pathWithShims);
  if (!resolved) {
    err(`airlock: ${program}: command not found\n`);
    return 127;
  }
  await ensureDaemon(paths.socket);
  const daemon = createDaemonClient(paths.socket);
  const created = await daemon.request<{ session: DaemonSession; token: string }>("POST", "/v1/sessions", {
    agent: basename(program),
    ...(role === undefined ? {} : { role }),
    cwd: process.cwd(),
    user: userInfo().username,
  });
  const { session, token } = created;
  const childEnv = {
    ...process.env,
    PATH: pathWithShims,
    AIRLOCK_SESSION_ID: session.id,
    AIRLOCK_SESSION_TOKEN: token,
    AIRLOCK_SOCKET: paths.socket,
  };
  const report = async (status: "running" | "exited", extra: Record<string, unknown>) => {
    try {
      await daemon.request("POST", `/v1/sessions/${session.id}/status`, { token, status, ...extra });
    } catch (error) {
      err(`airlock: warning: could not mark session ${session.id} ${status}: ${(error as Error).message}\n`);
    }
  };
  err(`airlock: session ${session.id} (role ${session.role}) for ${basename(program)}\n`);
  const commandArgs = [...agentHookArgs(program, paths), ...rest];
  const code = await runTool(resolved, program, commandArgs, childEnv, { onStart: (pid) => report("running", { pid }) });
  await report("exited", { exit_code: code > 255 ? 255 : code });
  return code;
}

/** For `airlock help run`: the real parsing is runGoverned's (the command's own options are not ours). */
export const runCommandDef = defineCommand({
  meta: { name: "run", description: RUN_HELP },
  args: {},
  run: () => {
    out(RUN_HELP);
    return 0;
  },
});
