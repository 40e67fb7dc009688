/**
 * `airlock doctor [--json]`: checks an install the way a user needs it to work, one line each,
 * ok or fail with the fix:
 *
 *   binary on PATH        `airlock` on PATH is this binary
 *   shims first on PATH   `command -v terraform` resolves into $AIRLOCK_HOME/bin
 *   daemon                the daemon answers on its socket
 *   gateway               the gateway answers /healthz
 *   enrolled              this workstation holds a (not revoked) client credential
 *   <agent> hook          for each agent `install --agent` configured: the entry is in the
 *                         agent's file and runs this binary
 *   <agent> canary        that agent's payload for `terraform apply`, piped into the installed
 *                         hook command, must come back as a deny
 *
 * Exit 0 when every line is ok, else 1.
 */
import { defineCommand } from "citty";
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { createDaemonClient } from "../client/daemon";
import { createGatewayClient } from "../client/gateway";
import type { AgentName } from "../config/agent-files";
import { readEnv } from "../config/env";
import { resolveGatewayTarget } from "../config/gateway-target";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { out } from "../config/stdio";
import { readEnrollment } from "../daemon/enroll";
import { probeDaemon } from "../daemon/probe";
import { findOnPath } from "../shim/resolve";
import { HOOK_TIMEOUT_SECONDS, hookCommand, inspectAgent, readManifest } from "./_agents";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function pathLine(bin: string): string {
  return `export PATH="${bin}:$PATH" (and the same line in ~/.bashrc or ~/.zshrc; 'airlock install' prints the desktop-app variant)`;
}

function checkBinary(binary: string, paths: AirlockPaths, pathEnv: string): Check {
  const found = findOnPath("airlock", pathEnv);
  if (found === null) return { name: "binary on PATH", ok: false, detail: "no airlock on PATH", fix: `airlock install, then ${pathLine(paths.bin)}` };
  if (real(found) !== real(binary)) {
    return { name: "binary on PATH", ok: false, detail: `airlock on PATH is ${found} (${real(found)}), not this binary ${binary}`, fix: `airlock install with the binary you want, then ${pathLine(paths.bin)}` };
  }
  return { name: "binary on PATH", ok: true, detail: `airlock → ${found}` };
}

function checkShims(binary: string, paths: AirlockPaths, pathEnv: string): Check {
  const found = findOnPath("terraform", pathEnv);
  const name = "shims first on PATH";
  if (found !== null && (real(dirname(found)) === real(paths.bin) || real(found) === real(binary))) return { name, ok: true, detail: `command -v terraform → ${found}` };
  const installed = findOnPath("terraform", paths.bin) !== null;
  const detail = found === null ? "command -v terraform finds nothing" : `command -v terraform → ${found}, not ${paths.bin}/terraform`;
  return { name, ok: false, detail, fix: installed ? pathLine(paths.bin) : `airlock install, then ${pathLine(paths.bin)}` };
}

async function checkDaemonAndGateway(paths: AirlockPaths): Promise<Check[]> {
  const checks: Check[] = [];
  const probe = await probeDaemon(paths.socket);
  if (probe.state === "running") {
    checks.push({ name: "daemon", ok: true, detail: `running (pid ${probe.status.pid}, airlock ${probe.status.version}, fail mode ${probe.status.fail_mode}) at ${paths.socket}` });
  } else {
    const why = probe.state === "absent" ? "no socket" : probe.state === "stale" ? "a stale socket, nothing listens" : `no daemon answer: ${probe.error}`;
    checks.push({ name: "daemon", ok: false, detail: `not reachable at ${paths.socket} (${why})`, fix: "airlock daemon start" });
  }

  const env = readEnv();
  let enrollment: ReturnType<typeof readEnrollment> = null;
  let enrollError: string | null = null;
  try {
    enrollment = readEnrollment(paths.home);
  } catch (error) {
    enrollError = (error as Error).message;
  }
  const url = enrollment?.gateway_url ?? resolveGatewayTarget(env).url;
  try {
    const health = await createGatewayClient({ baseUrl: url, timeoutMs: 3000 }).health();
    checks.push({ name: "gateway", ok: true, detail: `reachable at ${url} (airlock ${health.version})` });
  } catch (error) {
    checks.push({
      name: "gateway",
      ok: false,
      detail: (error as Error).message,
      fix: enrollment ? `start the gateway at ${url}, or enroll with the right one: airlock client enroll --gateway URL --token-file FILE` : "start one here (airlock gateway, or airlock dev up), or point at yours: airlock client enroll --gateway URL --token-file FILE",
    });
  }

  const enrollFix = `airlock client enroll --gateway ${url} --token-file FILE (an admin creates the one-time token)`;
  if (enrollError !== null) checks.push({ name: "enrolled", ok: false, detail: `cannot read the enrollment: ${enrollError}`, fix: enrollFix });
  else if (enrollment === null) checks.push({ name: "enrolled", ok: false, detail: "this workstation is not enrolled with a gateway", fix: enrollFix });
  else if (enrollment.revoked_at !== null) {
    checks.push({ name: "enrolled", ok: false, detail: `the credential of client ${enrollment.client_id} was revoked ${enrollment.revoked_at}${enrollment.revoked_reason ? `: ${enrollment.revoked_reason}` : ""}`, fix: enrollFix });
  } else {
    const gw = probe.state === "running" ? probe.status.gateway : null;
    if (gw && gw.enrolled && !gw.reachable && gw.last_error) {
      checks.push({ name: "enrolled", ok: false, detail: `as client ${enrollment.client_id} with ${enrollment.gateway_url}, but the daemon cannot reach it: ${gw.last_error}`, fix: "check the gateway URL and the network, then airlock client status" });
    } else {
      checks.push({ name: "enrolled", ok: true, detail: `as client ${enrollment.client_id} (${enrollment.name}) with ${enrollment.gateway_url}` });
    }
  }
  return checks;
}

/** Each agent's own hook payload for `terraform apply`, as recorded in the agents' hook references. */
/** the agent session id of every canary call: one implicit session per agent, ended after the canary */
export const CANARY_SESSION = "airlock-doctor-canary";

export function canaryPayload(agent: AgentName, cwd: string): unknown {
  const command = "terraform apply";
  const session = CANARY_SESSION;
  switch (agent) {
    case "claude":
      return { session_id: session, transcript_path: "", cwd, hook_event_name: "PreToolUse", permission_mode: "default", tool_name: "Bash", tool_input: { command, description: "airlock doctor canary" }, tool_use_id: "toolu_airlock_doctor_canary" };
    case "codex":
      return { session_id: session, turn_id: "airlock-doctor-canary-turn", transcript_path: null, cwd, hook_event_name: "PreToolUse", model: "airlock-doctor", permission_mode: "default", tool_name: "Bash", tool_input: { command }, tool_use_id: "call_airlock_doctor_canary" };
    case "cursor":
      return { hook_event_name: "beforeShellExecution", conversation_id: session, generation_id: "airlock-doctor-canary-generation", workspace_roots: [cwd], command, cwd };
    case "gemini":
      return { session_id: session, transcript_path: "", cwd, hook_event_name: "BeforeTool", timestamp: new Date().toISOString(), tool_name: "run_shell_command", tool_input: { command, description: "airlock doctor canary" } };
  }
}

/** Whether an agent would read the hook's answer as a deny. */
export function isDeny(agent: AgentName, code: number, stdout: string, stderr = ""): boolean {
  // every agent here reads exit 2 as a block; an airlock usage error is not the hook answering
  if (code === 2) return !/^airlock: error:/m.test(stderr);
  if (code !== 0) return false;
  let answer: Record<string, any>;
  try {
    answer = JSON.parse(stdout);
  } catch {
    return false;
  }
  switch (agent) {
    case "claude":
      return answer?.hookSpecificOutput?.permissionDecision === "deny";
    case "codex":
      return answer?.hookSpecificOutput?.permissionDecision === "deny" || answer?.decision === "block";
    case "cursor":
      return answer?.permission === "deny";
    case "gemini":
      return answer?.decision === "deny" || answer?.decision === "block";
  }
}

/** the canary's implicit session is ended at once, like the agent's own session end would (best effort) */
async function endCanarySession(agent: AgentName, paths: AirlockPaths): Promise<void> {
  try {
    await createDaemonClient(paths.socket).request("POST", "/v1/agent-sessions/end", { agent, agent_session_id: CANARY_SESSION, reason: "airlock doctor canary" }, 2000);
  } catch {
    // a daemon that is gone has no session to end; the canary check already said so
  }
}

async function canary(agent: AgentName, binary: string, paths: AirlockPaths): Promise<Check> {
  const check = await canaryCheck(agent, binary);
  await endCanarySession(agent, paths);
  return check;
}

async function canaryCheck(agent: AgentName, binary: string): Promise<Check> {
  const name = `${agent} canary`;
  const payload = JSON.stringify(canaryPayload(agent, process.cwd()));
  // a fresh implicit session, not the caller's (doctor may run inside a governed agent)
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("AIRLOCK_SESSION_")) env[k] = v;
  const proc = Bun.spawn(["/bin/sh", "-c", hookCommand(binary, agent)], { stdin: new TextEncoder().encode(payload), stdout: "pipe", stderr: "pipe", env });
  const timer = setTimeout(() => proc.kill("SIGKILL"), HOOK_TIMEOUT_SECONDS * 1000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (/unknown command "hook"/.test(stderr)) {
    return { name, ok: false, detail: "hook command not available: this binary has no 'airlock hook'", fix: "install an Airlock build with 'airlock hook', then airlock install --agent " + agent };
  }
  if (proc.signalCode === "SIGKILL") return { name, ok: false, detail: `no answer within ${HOOK_TIMEOUT_SECONDS} s: ${agent} would let the call through`, fix: "airlock daemon status; airlock doctor again" };
  if (isDeny(agent, code, stdout, stderr)) return { name, ok: true, detail: "terraform apply → deny" };
  const said = (stdout.trim() || stderr.trim()).slice(0, 300);
  return { name, ok: false, detail: `terraform apply was not denied (exit ${code}${said ? `: ${said}` : ""})`, fix: "check the role's policies (airlock current; airlock check -- terraform apply) and the daemon" };
}

export async function runDoctor(): Promise<{ ok: boolean; checks: Check[] }> {
  const env = readEnv();
  const paths = airlockPaths(env);
  const binary = process.execPath;
  const pathEnv = process.env.PATH ?? "";
  const checks: Check[] = [checkBinary(binary, paths, pathEnv), checkShims(binary, paths, pathEnv), ...(await checkDaemonAndGateway(paths))];
  const manifest = readManifest(paths);
  const agents = Object.keys(manifest?.agents ?? {}) as AgentName[];
  if (agents.length === 0) {
    checks.push({ name: "agent hooks", ok: true, detail: "none installed (optional: airlock install --agent claude|codex|cursor|gemini)" });
  }
  for (const agent of agents) {
    const hook = inspectAgent(agent, binary, manifest!.agents![agent]);
    const codexNote = agent === "codex" && hook.ok ? " (Codex runs it once trusted in /hooks)" : "";
    checks.push({ name: `${agent} hook`, ok: hook.ok, detail: hook.detail + codexNote, ...(hook.ok ? {} : { fix: `airlock install --agent ${agent}` }) });
    checks.push(await canary(agent, binary, paths));
  }
  return { ok: checks.every((c) => c.ok), checks };
}

export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? "ok  " : "fail"}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`      ${" ".repeat(width)}  fix: ${c.fix}`);
  }
  return lines.join("\n");
}

export const doctorCommand = defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check this workstation's install: the binary and the shims on PATH, the daemon, the gateway and the enrollment, each installed agent hook, and a canary (terraform apply must be denied) through every installed hook. Exit 0 when all is ok, else 1.",
  },
  args: { json: { type: "boolean", description: "Print the checks as JSON: { ok, checks: [{ name, ok, detail, fix }] }" } },
  async run({ args }) {
    const result = await runDoctor();
    if (args.json) out(JSON.stringify(result, null, 2));
    else out(`${formatChecks(result.checks)}\n\n${result.ok ? "all ok" : `${result.checks.filter((c) => !c.ok).length} of ${result.checks.length} checks failed`}`);
    return result.ok ? 0 : 1;
  },
});
