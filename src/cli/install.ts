/**
 * `airlock install [--agent A]...` / `airlock uninstall [--agent A]... [--purge-state]`.
 *
 * install: the `$AIRLOCK_HOME/bin` symlinks named like the protected tools, pointing at this
 * binary; with `--agent claude|codex|cursor|gemini|all` (repeatable, or comma-separated) also
 * that agent's hook configuration (src/cli/_agents.ts). Idempotent; everything added is recorded
 * in `$AIRLOCK_HOME/install.json`.
 *
 * uninstall: removes exactly what install recorded. With `--agent`, only those agents' hook
 * entries (the symlinks stay); without, the symlinks and every agent's entries. `--purge-state`
 * then removes all of `$AIRLOCK_HOME`.
 */
import { defineCommand } from "citty";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, symlinkSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { AgentName } from "../config/agent-files";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { out } from "../config/stdio";
import { AirlockError } from "../protocol/errors";
import { PROTECTED_TOOLS } from "../shim/tools";
import { applyChange, manifestPath, parseAgents, planInstall, readManifest, uninstallAgent, writeManifest, type AgentChange, type Manifest } from "./_agents";

function linkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

export function pathHelp(bin: string): string {
  return `Put the shims first on PATH:
  bash/zsh:  echo 'export PATH="${bin}:$PATH"' >> ~/.bashrc   (or ~/.zshrc), then open a new shell
  fish:      fish_add_path --prepend ${bin}
  this shell: export PATH="${bin}:$PATH"
Desktop apps (Claude desktop, Cursor) do not read shell files:
  macOS:     launchctl setenv PATH "${bin}:$(launchctl getenv PATH || echo /usr/bin:/bin:/usr/sbin:/sbin)" and restart the app
  Linux:     add PATH=${bin}:$PATH to ~/.config/environment.d/airlock.conf and log in again
Check it: command -v terraform   → ${bin}/terraform`;
}

function saveManifest(paths: AirlockPaths, manifest: Manifest): void {
  const empty = manifest.links.length === 0 && Object.keys(manifest.agents ?? {}).length === 0;
  if (empty) rmSync(manifestPath(paths), { force: true });
  else writeManifest(paths, manifest);
}

export function install(paths: AirlockPaths, binary: string): { created: string[]; kept: string[]; conflicts: string[] } {
  mkdirSync(paths.bin, { recursive: true, mode: 0o700 });
  const previous = readManifest(paths);
  const links = new Set(previous?.links ?? []);
  const created: string[] = [];
  const kept: string[] = [];
  const conflicts: string[] = [];
  // the protected tools, and airlock itself so the CLI is on PATH with them
  for (const tool of ["airlock", ...PROTECTED_TOOLS]) {
    const link = join(paths.bin, tool);
    const target = linkTarget(link);
    if (target === binary) {
      kept.push(tool);
      links.add(link);
      continue;
    }
    if (existsSync(link) || target !== null) {
      if (links.has(link) && target !== null) {
        unlinkSync(link); // ours, from an older binary location: repoint it
      } else {
        conflicts.push(link);
        continue;
      }
    }
    symlinkSync(binary, link);
    links.add(link);
    created.push(tool);
  }
  writeManifest(paths, { ...previous, binary, links: [...links].sort(), installed_at: previous?.installed_at ?? new Date().toISOString() });
  return { created, kept, conflicts };
}

/** Installs the agents' hook configurations: every file is checked before any is written. */
export function installAgents(paths: AirlockPaths, binary: string, agents: readonly AgentName[]): AgentChange[] {
  const manifest = readManifest(paths);
  const changes = agents.map((agent) => planInstall(agent, binary, manifest?.agents?.[agent])); // throws before any write
  const next: Manifest = manifest ?? { binary: null, links: [], installed_at: new Date().toISOString() };
  next.agents = { ...next.agents };
  for (const change of changes) {
    next.agents[change.agent] = applyChange(change, "install")!;
    saveManifest(paths, next); // after each file: a later failure still leaves an accurate record
  }
  return changes;
}

export function uninstallAgents(paths: AirlockPaths, agents: readonly AgentName[]): AgentChange[] {
  const manifest = readManifest(paths);
  const changes: AgentChange[] = [];
  for (const agent of agents) {
    changes.push(uninstallAgent(agent, manifest?.agents?.[agent]));
    if (manifest?.agents) {
      delete manifest.agents[agent];
      saveManifest(paths, manifest);
    }
  }
  return changes;
}

export function uninstall(paths: AirlockPaths): { removed: string[]; left: string[]; agents: AgentChange[] } {
  const manifest = readManifest(paths);
  const agents = uninstallAgents(paths, Object.keys(manifest?.agents ?? {}) as AgentName[]);
  const removed: string[] = [];
  const left: string[] = [];
  for (const link of manifest?.links ?? []) {
    const target = linkTarget(link);
    if (target === null) continue;
    // remove only links that still point at an airlock binary
    if (target === manifest!.binary || target.endsWith("/airlock")) {
      unlinkSync(link);
      removed.push(link);
    } else left.push(link);
  }
  rmSync(manifestPath(paths), { force: true });
  try {
    if (existsSync(paths.bin) && readdirSync(paths.bin).length === 0) rmdirSync(paths.bin);
  } catch {
    // not empty or already gone
  }
  return { removed, left, agents };
}

export function purgeState(paths: AirlockPaths): void {
  const home = resolve(paths.home);
  if (home === "/" || home === resolve(homedir()) || home === resolve(process.env.HOME ?? "/")) {
    throw new AirlockError("usage", `refusing to purge ${home}: AIRLOCK_HOME must be Airlock's own folder`);
  }
  const pidfile = join(paths.run, "daemon.pid");
  try {
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    if (pid > 1) process.kill(pid, "SIGTERM");
  } catch {
    // no daemon running
  }
  rmSync(home, { recursive: true, force: true });
}

function agentReport(change: AgentChange, verb: "install" | "uninstall"): string {
  const what = verb === "install" ? (change.changed ? "added the hook to" : "unchanged:") : change.changed ? "removed the hook from" : "unchanged:";
  const lines = [`  ${change.agent.padEnd(7)} ${what} ${change.file}`];
  for (const note of change.notes) lines.push(`          ${note}`);
  if (verb === "install" && change.agent === "codex") {
    lines.push("          Codex runs a new hook only once you trust it: start codex, type /hooks, trust 'airlock hook codex'");
  }
  return lines.join("\n");
}

const AGENT_ARG = {
  type: "string",
  description: "Also configure an agent's hooks: claude, codex, cursor, gemini or all (repeatable, or comma-separated)",
} as const;

export const installCommand = defineCommand({
  meta: {
    name: "install",
    description:
      "Create the $AIRLOCK_HOME/bin shims (symlinks named like the protected tools, and airlock itself) and print how to put them first on PATH; with --agent, also add 'airlock hook <agent>' to that agent's user settings (merged, backed up, recorded for uninstall). Safe to run again.\n\n" +
      "  airlock install --agent claude\n  airlock install --agent claude --agent codex\n  airlock install --agent all",
  },
  args: { agent: AGENT_ARG, json: { type: "boolean", description: "Print what was done as JSON" } },
  run({ args, rawArgs }) {
    const paths = airlockPaths(readEnv());
    const agents = parseAgents(rawArgs);
    // agent files first: a user's file that is not valid JSON stops everything before anything is written
    const agentChanges = installAgents(paths, process.execPath, agents);
    const result = install(paths, process.execPath);
    if (args.json) {
      out(
        JSON.stringify(
          {
            bin: paths.bin,
            binary: process.execPath,
            ...result,
            agents: agentChanges.map((c) => ({ agent: c.agent, file: c.file, changed: c.changed, notes: c.notes })),
          },
          null,
          2,
        ),
      );
    } else {
      const lines = [`shims in ${paths.bin} → ${process.execPath}`];
      if (result.created.length) lines.push(`  created: ${result.created.join(", ")}`);
      if (result.kept.length) lines.push(`  already there: ${result.kept.join(", ")}`);
      for (const c of result.conflicts) lines.push(`  left alone (not Airlock's): ${c}`);
      if (agentChanges.length) {
        lines.push("agent hooks:");
        for (const c of agentChanges) lines.push(agentReport(c, "install"));
      } else {
        lines.push("agent hooks: none (add them with: airlock install --agent claude|codex|cursor|gemini|all)");
      }
      lines.push("", pathHelp(paths.bin), "", "Check everything: airlock doctor");
      out(lines.join("\n"));
    }
    return result.conflicts.length ? 1 : 0;
  },
});

export const uninstallCommand = defineCommand({
  meta: {
    name: "uninstall",
    description:
      "Remove exactly what 'airlock install' added: with --agent, only that agent's hook entries; without, the shims and every agent's entries. With --purge-state, also stop the daemon and remove all of $AIRLOCK_HOME.",
  },
  args: {
    agent: { ...AGENT_ARG, description: "Only remove these agents' hook entries (repeatable, comma-separated, or all); the shims stay" },
    "purge-state": { type: "boolean", description: "Also remove $AIRLOCK_HOME: daemon.db, gateway.db, config.json, logs" },
    json: { type: "boolean", description: "Print what was done as JSON" },
  },
  run({ args, rawArgs }) {
    const paths = airlockPaths(readEnv());
    const agents = parseAgents(rawArgs);
    if (agents.length > 0 && args["purge-state"]) throw new AirlockError("usage", "--purge-state removes everything: use it without --agent");
    const agentReportJson = (changes: AgentChange[]) => changes.map((c) => ({ agent: c.agent, file: c.file, changed: c.changed, notes: c.notes }));
    if (agents.length > 0) {
      const changes = uninstallAgents(paths, agents);
      if (args.json) out(JSON.stringify({ agents: agentReportJson(changes) }, null, 2));
      else out(["agent hooks:", ...changes.map((c) => agentReport(c, "uninstall"))].join("\n"));
      return 0;
    }
    const result = uninstall(paths);
    if (args["purge-state"]) purgeState(paths);
    if (args.json) {
      out(JSON.stringify({ removed: result.removed, left: result.left, agents: agentReportJson(result.agents), purged: Boolean(args["purge-state"]) }, null, 2));
    } else {
      const lines = [result.removed.length ? `removed ${result.removed.length} shims from ${paths.bin}` : "no shims to remove"];
      for (const l of result.left) lines.push(`  left alone (no longer points at airlock): ${l}`);
      if (result.agents.length) lines.push("agent hooks:", ...result.agents.map((c) => agentReport(c, "uninstall")));
      if (args["purge-state"]) lines.push(`removed ${paths.home}`);
      out(lines.join("\n"));
    }
    return 0;
  },
});
