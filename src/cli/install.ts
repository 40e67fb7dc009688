/**
 * `airlock install` / `airlock uninstall [--purge-state]`: the `$AIRLOCK_HOME/bin` symlinks named
 * like the protected tools, pointing at this binary. Idempotent; uninstall removes exactly what
 * install made (recorded in `$AIRLOCK_HOME/install.json`), `--purge-state` all of `$AIRLOCK_HOME`.
 */
import { defineCommand } from "citty";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { AirlockError } from "../protocol/errors";
import { PROTECTED_TOOLS } from "../shim/tools";

interface Manifest {
  binary: string;
  links: string[];
  installed_at: string;
}

const manifestPath = (paths: AirlockPaths) => join(paths.home, "install.json");

function readManifest(paths: AirlockPaths): Manifest | null {
  try {
    return JSON.parse(readFileSync(manifestPath(paths), "utf8")) as Manifest;
  } catch {
    return null;
  }
}

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
  const manifest: Manifest = { binary, links: [...links].sort(), installed_at: previous?.installed_at ?? new Date().toISOString() };
  const tmp = `${manifestPath(paths)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, manifestPath(paths));
  return { created, kept, conflicts };
}

export function uninstall(paths: AirlockPaths): { removed: string[]; left: string[] } {
  const manifest = readManifest(paths);
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
  return { removed, left };
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

export const installCommand = defineCommand({
  meta: { name: "install", description: "Create the $AIRLOCK_HOME/bin shims (symlinks named like the protected tools, and airlock itself) and print how to put them first on PATH. Safe to run again." },
  args: { json: { type: "boolean", description: "Print what was done as JSON" } },
  run({ args }) {
    const paths = airlockPaths(readEnv());
    const result = install(paths, process.execPath);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ bin: paths.bin, binary: process.execPath, ...result }, null, 2)}\n`);
    } else {
      process.stdout.write(`shims in ${paths.bin} → ${process.execPath}\n`);
      if (result.created.length) process.stdout.write(`  created: ${result.created.join(", ")}\n`);
      if (result.kept.length) process.stdout.write(`  already there: ${result.kept.join(", ")}\n`);
      for (const c of result.conflicts) process.stdout.write(`  left alone (not Airlock's): ${c}\n`);
      process.stdout.write(`\n${pathHelp(paths.bin)}\n`);
    }
    return result.conflicts.length ? 1 : 0;
  },
});

export const uninstallCommand = defineCommand({
  meta: { name: "uninstall", description: "Remove exactly the shims 'airlock install' made; with --purge-state, stop the daemon and remove all of $AIRLOCK_HOME." },
  args: {
    "purge-state": { type: "boolean", description: "Also remove $AIRLOCK_HOME: daemon.db, gateway.db, config.json, logs" },
    json: { type: "boolean", description: "Print what was done as JSON" },
  },
  run({ args }) {
    const paths = airlockPaths(readEnv());
    const result = uninstall(paths);
    if (args["purge-state"]) purgeState(paths);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...result, purged: Boolean(args["purge-state"]) }, null, 2)}\n`);
    } else {
      process.stdout.write(result.removed.length ? `removed ${result.removed.length} shims from ${paths.bin}\n` : "no shims to remove\n");
      for (const l of result.left) process.stdout.write(`  left alone (no longer points at airlock): ${l}\n`);
      if (args["purge-state"]) process.stdout.write(`removed ${paths.home}\n`);
    }
    return 0;
  },
});
