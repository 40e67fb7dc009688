/**
 * What the shim needs from the environment and config.json, read without loading valibot: the
 * shim's start-up budget is a few milliseconds. Same variables and defaults as env.ts/paths.ts.
 */

export interface LeanEnv {
  home: string;
  bin: string;
  socket: string;
  config: string;
  sessionId: string | null;
  sessionToken: string | null;
  /** AIRLOCK_KNOWN_AGENTS, split; null when unset (use the shipped list) */
  knownAgents: string[] | null;
  /**
   * AIRLOCK_TEST_HOOK_FAULT. TEST ONLY: `throw` makes `airlock hook` throw an internal error after
   * reading its input, so the e2e suite can prove an internal exception is the agent's deny. It can
   * only turn an answer into a deny (or, under fail mode open, into no opinion, as any internal error).
   */
  hookFault: string | null;
  /** AIRLOCK_APPROVAL_TIMEOUT (seconds) in ms: how long a shim waits for approval; default 120 s */
  approvalTimeoutMs: number;
}

export const DEFAULT_APPROVAL_TIMEOUT_MS = 120_000;

/** AIRLOCK_APPROVAL_TIMEOUT → ms; unset or not a positive number of seconds (at most 600) → the default. */
export function approvalTimeoutMs(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,4}(\.\d{1,3})?$/.test(raw)) return DEFAULT_APPROVAL_TIMEOUT_MS;
  const ms = Math.round(Number(raw) * 1000);
  return ms > 0 && ms <= 600_000 ? ms : DEFAULT_APPROVAL_TIMEOUT_MS;
}

export function leanEnv(env: Record<string, string | undefined> = process.env): LeanEnv {
  // node:os and node:path cost start-up time the shim does not have; HOME is set in practice
  const home = env.AIRLOCK_HOME || `${env.HOME || require("node:os").homedir()}/.airlock`;
  const known = env.AIRLOCK_KNOWN_AGENTS;
  return {
    home,
    bin: `${home}/bin`,
    socket: env.AIRLOCK_SOCKET || `${home}/run/daemon.sock`,
    config: `${home}/config.json`,
    sessionId: env.AIRLOCK_SESSION_ID || null,
    sessionToken: env.AIRLOCK_SESSION_TOKEN || null,
    knownAgents: known === undefined ? null : known.split(",").map((s) => s.trim()).filter(Boolean),
    hookFault: env.AIRLOCK_TEST_HOOK_FAULT || null,
    approvalTimeoutMs: approvalTimeoutMs(env.AIRLOCK_APPROVAL_TIMEOUT),
  };
}

/**
 * config.json's fail_mode: `open` only when set explicitly and readable; anything else is closed.
 * node:fs is required here, not imported: loading it costs ~1.5 ms in the compiled binary, and a
 * hook reads config.json only when something failed.
 */
export function failModeOf(configPath: string): "open" | "closed" {
  try {
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    const json = JSON.parse(readFileSync(configPath, "utf8")) as { fail_mode?: unknown };
    return json.fail_mode === "open" ? "open" : "closed";
  } catch {
    return "closed";
  }
}
