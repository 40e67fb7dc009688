/**
 * Is this process running under an AI agent? Walks the process ancestry (Linux /proc, macOS `ps`)
 * and compares each ancestor's names with the known-agents list. A shim with no session env under
 * an agent is governed; under no agent it is a human terminal. The daemon walks a hook's ancestry
 * once per agent session, to put the hook's decisions and the shims' into the same session.
 * It lives in config/ (who is running us, like the environment) so shim, hooks and daemon share it.
 */
import { readFileSync } from "node:fs";

export interface AgentMatch {
  /** the name that matched (process name or script name) */
  agent: string;
  pid: number;
}

const INTERPRETERS = new Set(["node", "nodejs", "bun", "deno", "python", "python3", "ruby"]);
const MAX_DEPTH = 64;

const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

interface ProcInfo {
  ppid: number;
  names: string[];
}

function linuxProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may itself contain spaces or parentheses
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(open + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    const names = [comm];
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv[0]) names.push(base(argv[0]));
      // `node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js` or `node /usr/bin/claude`
      if (argv[0] && INTERPRETERS.has(base(argv[0]).replace(/[\d.]+$/, "")) && argv[1]) names.push(base(argv[1]));
    } catch {
      // the process may be gone or unreadable: its comm is enough
    }
    return { ppid, names };
  } catch {
    return null;
  }
}

function macProc(pid: number): ProcInfo | null {
  const out = Bun.spawnSync(["ps", "-o", "ppid=,comm=", "-p", String(pid)], { stdout: "pipe", stderr: "ignore" });
  if (out.exitCode !== 0) return null;
  const m = out.stdout.toString().trim().match(/^(\d+)\s+(.*)$/);
  if (!m) return null;
  return { ppid: Number(m[1]), names: [base(m[2]!)] };
}

/** The nearest ancestor whose name is a known agent, or null. */
export function findAgentAncestor(knownAgents: readonly string[], startPid = process.ppid): AgentMatch | null {
  const known = new Set(knownAgents.map((n) => n.toLowerCase()));
  const read = process.platform === "linux" ? linuxProc : macProc;
  let pid = startPid;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    const info = read(pid);
    if (!info) return null;
    for (const name of info.names) {
      const n = name.toLowerCase();
      if (known.has(n) || known.has(n.replace(/\.(js|mjs|cjs|exe)$/, ""))) return { agent: name, pid };
    }
    pid = info.ppid;
  }
  return null;
}

/** The shipped known-agents list (policies/known-agents.json in the binary), as process names. */
export function shippedAgentNames(assetRoot: string): string[] {
  try {
    const json = JSON.parse(readFileSync(`${assetRoot}/policies/known-agents.json`, "utf8")) as { agents?: { process_names?: string[] }[] };
    return (json.agents ?? []).flatMap((a) => a.process_names ?? []);
  } catch {
    return [];
  }
}
