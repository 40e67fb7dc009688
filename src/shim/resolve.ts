/**
 * Finds the real executable a shim stands in for: the first `tool` on PATH that is not in
 * $AIRLOCK_HOME/bin and does not resolve to the airlock binary itself (no recursion, however the
 * PATH is arranged or the binary is linked).
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";

export interface ResolveResult {
  path: string | null;
  /** candidates passed over because they are Airlock itself */
  skipped: string[];
}

/** An absolute, normalized-enough form of a PATH entry (relative entries are relative to the cwd). */
function absolute(entry: string): string {
  const abs = entry.startsWith("/") ? entry : `${process.cwd()}/${entry || "."}`;
  return abs.length > 1 && abs.endsWith("/") ? abs.slice(0, -1) : abs;
}

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

/** The first executable `name` on PATH, shims included (what a shell would run). */
export function findOnPath(name: string, pathEnv: string): string | null {
  return findRealTool(name, pathEnv, { airlockBin: null, self: null }).path;
}

export function findRealTool(tool: string, pathEnv: string, options: { airlockBin: string | null; self: string | null }): ResolveResult {
  const self = options.self === null ? null : (real(options.self) ?? options.self);
  const shimDir = options.airlockBin === null ? null : (real(options.airlockBin) ?? absolute(options.airlockBin));
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const entry of pathEnv.split(":")) {
    const dir = absolute(entry);
    if (seen.has(dir)) continue;
    seen.add(dir);
    const candidate = `${dir}/${tool}`;
    const target = real(candidate);
    if (target === null) continue;
    if ((shimDir !== null && (real(dir) ?? dir) === shimDir) || (self !== null && target === self)) {
      skipped.push(candidate);
      continue;
    }
    try {
      if (!statSync(target).isFile()) continue;
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return { path: candidate, skipped };
  }
  return { path: null, skipped };
}
