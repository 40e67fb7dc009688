/**
 * The agent hook configurations `airlock install --agent` writes, and how it writes them.
 *
 * Each agent gets entries that run `<this binary> hook <agent>` before the tools that can change
 * something (shell, file edits, MCP calls), in that agent's documented user-level file
 * (src/config/agent-files.ts). Every install:
 *   - merges into the user's file with minimal text insertions (src/cli/_json-edit.ts), so the
 *     rest of the file keeps its bytes; a file that is not valid JSON is an error and nothing changes;
 *   - keeps a timestamped backup (mode 0600) next to a file it changes;
 *   - is idempotent: a second run with the same binary changes nothing;
 *   - records what it added in $AIRLOCK_HOME/install.json, which is all uninstall removes.
 *
 * Where the agent has a session-end event its docs confirm (Claude Code and Gemini CLI
 * `SessionEnd`), install also registers the same command for it, so the Airlock session a hook
 * opened is closed when the agent's session ends (docs/hooks.md, "Sessions"). Cursor documents a
 * `sessionEnd` too, but not its payload, and some Cursor versions refuse a hooks.json with an event
 * they do not know ("Unknown hook type"), which would take the blocking hooks down with it: not
 * registered there. Codex has none (its Stop is per turn).
 *
 * The hook command fails closed: `airlock hook` answers with exit 0 (JSON) or exit 2 (block); a
 * missing binary, a crash or any other exit would let the agent's call through, so the command
 * turns every other exit into exit 2 with a reason.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { AGENTS, agentConfigFile, type AgentName } from "../config/agent-files";
import type { AirlockPaths } from "../config/paths";
import { AirlockError } from "../protocol/errors";
import { arrayAt, deepEqual, hasEntry, insertEntry, parseJson, removeInsertions, type Insertion } from "./_json-edit";

/** Seconds an agent waits for `airlock hook` (the hook's own deadline is well inside it). */
/** (120: a require_approval verdict waits up to about 115 s for the paired approver, docs/approvals.md) */
export const HOOK_TIMEOUT_SECONDS = 120;

/** Seconds an agent gives the session-end hook: it only tells the daemon (milliseconds; at most 3 s inside). */
export const SESSION_END_TIMEOUT_SECONDS = 10;

/** The agents whose session-end event install registers, and its name there. */
export const SESSION_END_EVENTS: Readonly<Partial<Record<AgentName, string>>> = { claude: "SessionEnd", gemini: "SessionEnd" };

/**
 * Tool-name matchers. Claude Code, Codex and Gemini CLI read a matcher with any character other
 * than letters, digits, `_` and `|` as a regular expression, unanchored: anchor it.
 */
export const CLAUDE_MATCHER = "^(Bash|Edit|Write|MultiEdit|NotebookEdit|mcp__.*)$";
export const CODEX_MATCHER = "^(Bash|apply_patch|mcp__.*)$";
export const GEMINI_MATCHER = "^(run_shell_command|write_file|replace|mcp__.*)$";
/**
 * Cursor events that can block and that `airlock hook cursor` answers: shell commands, MCP calls,
 * and the file-changing tools through the generic preToolUse (reads are not gated, as in Claude Code).
 */
export const CURSOR_HOOKS: readonly { event: string; matcher?: string }[] = [
  { event: "beforeShellExecution" },
  { event: "beforeMCPExecution" },
  { event: "preToolUse", matcher: "Write|Edit|StrReplace|MultiEdit|Delete" },
];

export interface AgentRecord {
  /** the agent's config file, as resolved at install */
  file: string;
  binary: string;
  installed_at: string;
  /** Airlock created the file: uninstall removes it when nothing else is left in it */
  created_file: boolean;
  created_dirs: string[];
  backups: string[];
  insertions: Insertion[];
}

export interface Manifest {
  binary: string | null;
  links: string[];
  installed_at: string;
  agents?: Partial<Record<AgentName, AgentRecord>>;
}

export const manifestPath = (paths: AirlockPaths) => join(paths.home, "install.json");

export function readManifest(paths: AirlockPaths): Manifest | null {
  try {
    return JSON.parse(readFileSync(manifestPath(paths), "utf8")) as Manifest;
  } catch {
    return null;
  }
}

export function writeManifest(paths: AirlockPaths, manifest: Manifest): void {
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const tmp = `${manifestPath(paths)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, manifestPath(paths));
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command string an agent runs: this binary's hook, told the agent's timeout (it answers well
 * inside it), with every exit other than 0 and 2 turned into a block.
 */
export function hookCommand(binary: string, agent: AgentName): string {
  return `${shellQuote(binary)} hook ${agent} --timeout ${HOOK_TIMEOUT_SECONDS} || { s=$?; [ $s -eq 2 ] || echo "airlock: blocked: the Airlock hook failed (exit $s); run 'airlock doctor'" >&2; exit 2; }`;
}

export interface DesiredEntry {
  path: string[];
  entry: unknown;
}

/** What `install --agent` adds for an agent, in that agent's documented format. */
export function desiredEntries(agent: AgentName, binary: string): DesiredEntry[] {
  const command = hookCommand(binary, agent);
  switch (agent) {
    case "claude":
      return [
        { path: ["hooks", "PreToolUse"], entry: claudeEntry(binary) },
        { path: ["hooks", "SessionEnd"], entry: claudeSessionEndEntry(binary) },
      ];
    case "codex":
      return [{ path: ["hooks", "PreToolUse"], entry: codexEntry(binary) }];
    case "cursor":
      return CURSOR_HOOKS.map(({ event, matcher }) => ({ path: ["hooks", event], entry: { ...(matcher ? { matcher } : {}), command, timeout: HOOK_TIMEOUT_SECONDS, failClosed: true } }));
    case "gemini":
      return [
        {
          path: ["hooks", "BeforeTool"],
          entry: {
            matcher: GEMINI_MATCHER,
            hooks: [{ type: "command", command, name: "airlock", timeout: HOOK_TIMEOUT_SECONDS * 1000, description: "Airlock policy checkpoint" }],
          },
        },
        {
          // no matcher: a lifecycle event's matcher is an exact string, and every reason ends the session
          path: ["hooks", "SessionEnd"],
          entry: {
            hooks: [{ type: "command", command, name: "airlock-session-end", timeout: SESSION_END_TIMEOUT_SECONDS * 1000, description: "Airlock: close the Airlock session of this Gemini CLI session" }],
          },
        },
      ];
  }
}

export function claudeEntry(binary: string): unknown {
  return { matcher: CLAUDE_MATCHER, hooks: [{ type: "command", command: hookCommand(binary, "claude"), timeout: HOOK_TIMEOUT_SECONDS }] };
}

/** Claude Code's SessionEnd: no matcher (every reason: clear, resume, logout, prompt_input_exit, ...). */
export function claudeSessionEndEntry(binary: string): unknown {
  return { hooks: [{ type: "command", command: hookCommand(binary, "claude"), timeout: SESSION_END_TIMEOUT_SECONDS }] };
}

export function codexEntry(binary: string): { matcher: string; hooks: { type: string; command: string; timeout: number; statusMessage: string }[] } {
  return { matcher: CODEX_MATCHER, hooks: [{ type: "command", command: hookCommand(binary, "codex"), timeout: HOOK_TIMEOUT_SECONDS, statusMessage: "Airlock policy check" }] };
}

/** The file Airlock writes when the agent has none yet (Cursor's format carries a version). */
function baseValue(agent: AgentName): Record<string, unknown> {
  return agent === "cursor" ? { version: 1 } : {};
}

export interface AgentChange {
  agent: AgentName;
  file: string;
  /** the file the bytes go to (a symlinked settings file is followed) */
  target: string;
  before: string | null;
  /** null: remove the file */
  after: string | null;
  /** the record to keep in install.json; null: drop it */
  record: AgentRecord | null;
  changed: boolean;
  /** folders to create before writing (install) or to remove once empty after the file (uninstall) */
  dirs: string[];
  /** false when uninstall had to re-serialize the file */
  exact: boolean;
  notes: string[];
}

function resolveTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function readText(target: string): string | null {
  try {
    return readFileSync(target, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new AirlockError("invalid_input", `cannot read ${target}: ${(error as Error).message}. Nothing was changed`);
  }
}

function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) break;
  }
  return out;
}

/** Computes an install for one agent without writing anything; throws (nothing written) on a bad file. */
export function planInstall(agent: AgentName, binary: string, record: AgentRecord | undefined, env: Record<string, string | undefined> = process.env): AgentChange {
  const file = agentConfigFile(agent, env);
  const target = resolveTarget(file);
  const before = readText(target);
  const desired = desiredEntries(agent, binary);
  const notes: string[] = [];
  let text: string;
  let createdFile = false;
  let createdDirs: string[] = [];
  if (before === null) {
    text = `${JSON.stringify(baseValue(agent), null, 2)}\n`;
    createdFile = true;
    createdDirs = missingDirs(dirname(target));
  } else {
    const current = before.trim() === "" ? {} : parseJson(before, file);
    if (
      record &&
      record.binary === binary &&
      record.file === file &&
      deepEqual(record.insertions.map((i) => ({ path: i.path, entry: i.entry })), desired) &&
      desired.every((d) => hasEntry(current, d.path, d.entry))
    ) {
      return { agent, file, target, before, after: before, record, changed: false, dirs: [], exact: true, notes: ["already installed"] };
    }
    text = before.trim() === "" ? "{}\n" : before;
    if (record && record.insertions.length > 0) {
      text = removeInsertions(text, record.insertions, file).text; // an older install (another binary): replaced
      notes.push(`replaced the entries of ${record.binary}`);
    }
    createdFile = record?.created_file ?? false;
    createdDirs = record?.created_dirs ?? [];
  }
  const insertions: Insertion[] = [];
  for (const d of desired) {
    const current = parseJson(text, file);
    if (hasEntry(current, d.path, d.entry)) {
      notes.push(`${d.path.join(".")} already has this hook (not Airlock's record: left as it is)`);
      continue;
    }
    const r = insertEntry(text, d.path, d.entry, file);
    text = r.text;
    insertions.push(r.insertion);
  }
  const after = parseJson(text, file);
  for (const d of desired) if (!hasEntry(after, d.path, d.entry)) throw new Error(`internal: the ${agent} entry at ${d.path.join(".")} did not land`);
  const record2: AgentRecord = {
    file,
    binary,
    installed_at: record?.installed_at ?? new Date().toISOString(),
    created_file: createdFile,
    created_dirs: createdDirs,
    backups: record?.backups ?? [],
    insertions,
  };
  return { agent, file, target, before, after: text, record: record2, changed: text !== before, dirs: before === null ? createdDirs : [], exact: true, notes };
}

/** Computes the removal of exactly what install recorded for one agent. */
export function planUninstall(agent: AgentName, record: AgentRecord | undefined): AgentChange {
  if (!record) {
    const file = agentConfigFile(agent);
    return { agent, file, target: file, before: null, after: null, record: null, changed: false, dirs: [], exact: true, notes: ["not installed by Airlock: nothing to remove"] };
  }
  const target = resolveTarget(record.file);
  const before = readText(target);
  if (before === null) return { agent, file: record.file, target, before, after: null, record: null, changed: false, dirs: [], exact: true, notes: ["the file is gone already"] };
  if (record.insertions.length === 0) return { agent, file: record.file, target, before, after: before, record: null, changed: false, dirs: [], exact: true, notes: [] };
  const { text, exact } = removeInsertions(before, record.insertions, record.file);
  const notes = exact ? [] : ["the file had changed around Airlock's entries: rewritten with its content kept (a backup was taken)"];
  if (record.created_file && deepEqual(JSON.parse(text), baseValue(agent))) {
    return { agent, file: record.file, target, before, after: null, record: null, changed: true, dirs: record.created_dirs, exact, notes: [...notes, "removed the file Airlock had created"] };
  }
  return { agent, file: record.file, target, before, after: text, record: null, changed: text !== before, dirs: [], exact, notes };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, "");
}

/** A copy of the file next to it, mode 0600, before Airlock changes it. */
function backup(target: string, bytes: string): string {
  const base = `${target}.airlock-backup-${stamp()}`;
  for (let n = 0; ; n++) {
    const path = n === 0 ? base : `${base}-${n}`;
    try {
      writeFileSync(path, bytes, { mode: 0o600, flag: "wx" });
      chmodSync(path, 0o600);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

function writeAtomically(target: string, text: string, mode: number): void {
  const tmp = `${target}.airlock-${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, target);
}

/** Writes a planned change (backup first); returns the record to keep. */
export function applyChange(change: AgentChange, kind: "install" | "uninstall"): AgentRecord | null {
  if (!change.changed) return change.record;
  const record = change.record;
  const backups: string[] = [];
  if (change.before !== null && (kind === "install" || !change.exact)) backups.push(backup(change.target, change.before));
  if (change.after === null) {
    unlinkSync(change.target);
    for (const dir of [...change.dirs].reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        break; // not empty: something else lives there now
      }
    }
  } else {
    for (const dir of change.dirs) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mode = change.before === null ? 0o600 : statSync(change.target).mode & 0o777;
    writeAtomically(change.target, change.after, mode);
  }
  change.notes.push(...backups.map((b) => `backup: ${b}`));
  return record ? { ...record, backups: [...record.backups, ...backups] } : null;
}

/** Uninstall one agent and apply it (used by both `uninstall --agent` and the full uninstall). */
export function uninstallAgent(agent: AgentName, record: AgentRecord | undefined): AgentChange {
  const change = planUninstall(agent, record);
  applyChange(change, "uninstall");
  return change;
}

/** `--agent claude --agent codex`, `--agent claude,codex`, `--agent all` from the raw argv. */
export function parseAgents(rawArgs: readonly string[]): AgentName[] {
  const named: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === "--agent") named.push(rawArgs[++i] ?? "");
    else if (a.startsWith("--agent=")) named.push(a.slice(8));
  }
  const out = new Set<AgentName>();
  for (const value of named.flatMap((n) => n.split(",")).map((s) => s.trim())) {
    if (value === "all") AGENTS.forEach((a) => out.add(a));
    else if ((AGENTS as readonly string[]).includes(value)) out.add(value as AgentName);
    else throw new AirlockError("usage", `unknown agent ${JSON.stringify(value)} for --agent: choose ${AGENTS.join(", ")} or all`);
  }
  return [...out];
}

/** The entry of `agent` in its config file, if any, and whether it runs this binary. */
export function inspectAgent(agent: AgentName, binary: string, record: AgentRecord | undefined): { ok: boolean; detail: string } {
  const file = record?.file ?? agentConfigFile(agent);
  const text = readText(resolveTarget(file));
  if (text === null) return { ok: false, detail: `${file} does not exist` };
  let value: unknown;
  try {
    value = parseJson(text, file);
  } catch (error) {
    return { ok: false, detail: (error as Error).message.split(". Nothing")[0]! };
  }
  const desired = desiredEntries(agent, binary);
  const missing = desired.filter((d) => !hasEntry(value, d.path, d.entry));
  if (missing.length === 0) return { ok: true, detail: `${file} runs ${binary} hook ${agent}` };
  const others = new Set<string>();
  for (const d of missing) {
    for (const item of arrayAt(value, d.path) ?? []) {
      const m = / hook (claude|codex|cursor|gemini)\b/.exec(JSON.stringify(item));
      const cmd = /"command":"((?:[^"\\]|\\.)*)"/.exec(JSON.stringify(item));
      if (m && cmd) others.add((JSON.parse(`"${cmd[1]}"`) as string).split(" hook ")[0]!);
    }
  }
  if (others.size > 0) return { ok: false, detail: `${file} runs another binary's hook: ${[...others].join(", ")}, not ${binary}` };
  return { ok: false, detail: `${file} has no Airlock hook at ${missing.map((d) => d.path.join(".")).join(", ")}` };
}

/**
 * Arguments `airlock run` puts before the agent's own, so the hook is there for that run even
 * when `install --agent` was not run: Claude Code takes extra settings as JSON (`--settings`),
 * Codex a config override (`-c key=TOML`). Nothing is added when the agent's user config already
 * has Airlock's hook (it would run twice).
 */
export function agentLaunchArgs(program: string, binary: string, manifest: Manifest | null): string[] {
  if (program === "claude" && !manifest?.agents?.claude) {
    return ["--settings", JSON.stringify({ hooks: { PreToolUse: [claudeEntry(binary)] } })];
  }
  if (program === "codex" && !manifest?.agents?.codex) {
    const e = codexEntry(binary);
    const h = e.hooks[0]!;
    const toml = `[{matcher=${JSON.stringify(e.matcher)},hooks=[{type="command",command=${JSON.stringify(h.command)},timeout=${h.timeout},statusMessage=${JSON.stringify(h.statusMessage)}}]}]`;
    return ["-c", `hooks.PreToolUse=${toml}`];
  }
  return [];
}
