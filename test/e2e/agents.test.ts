/**
 * Agent integrations from the compiled binary, with an isolated HOME and AIRLOCK_HOME:
 * `install --agent` / `uninstall --agent` round trips on every agent's file (byte-for-byte),
 * idempotence, backups, invalid-JSON refusal; the Claude Code plugin's files against their
 * documented shapes; the plugin's bin/ shims reaching `airlock shim`; `airlock run` giving
 * Codex and Claude Code their hook; `airlock doctor` on a good and a broken install.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { CLAUDE_MATCHER, CODEX_MATCHER, CURSOR_HOOKS, GEMINI_MATCHER, HOOK_TIMEOUT_SECONDS, hookCommand, SESSION_END_EVENTS, SESSION_END_TIMEOUT_SECONDS } from "../../src/cli/_agents";
import { canaryPayload, isDeny } from "../../src/cli/doctor";
import { PROTECTED_TOOLS } from "../../src/shim/tools";
import pkg from "../../package.json" with { type: "json" };
import { airlockBinary, ROOT, run } from "../support/binary";
import { tempDir } from "../support/tmp";
import { api, disposeWorlds, enroll, sock, startDaemon, startGateway, world, type World } from "../support/world";

const PLUGIN = join(ROOT, "shims", "claude-code");
let BIN: string;

beforeAll(async () => {
  BIN = await airlockBinary();
});
afterAll(disposeWorlds);

function read(path: string): string {
  return readFileSync(path, "utf8");
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function backupsOf(file: string): string[] {
  return files(dirname(file)).filter((f) => f.startsWith(`${file.split("/").pop()}.airlock-backup-`)).map((f) => join(dirname(file), f));
}

/** A user's own file for each agent: unusual key order, unrelated hooks, its own formatting. */
const USER_FILES: Record<string, { path: string; text: string }> = {
  claude: {
    path: ".claude/settings.json",
    text: `{
    "permissions": {"deny": ["Read(./.env)"], "allow": ["Bash(npm test:*)"]},
    "hooks": {
        "PostToolUse": [
            {"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "prettier --write \\"$CLAUDE_PROJECT_DIR\\""}]}
        ],
        "PreToolUse": [
            {"matcher": "Read", "hooks": [{"type": "command", "command": "~/bin/audit-read", "timeout": 5}]}
        ]
    },
    "model": "opus",
    "env": {"ZED": "1", "ALPHA": "2"}
}
`,
  },
  codex: {
    path: ".codex/hooks.json",
    text: `{
  "hooks": {
    "SessionStart": [{ "matcher": "startup", "hooks": [{ "type": "command", "command": "~/.codex/hooks/startup.sh", "statusMessage": "hi" }] }],
    "Stop": []
  },
  "description": "mine"
}
`,
  },
  cursor: {
    path: ".cursor/hooks.json",
    text: `{\n\t"hooks": {\n\t\t"afterFileEdit": [\n\t\t\t{ "command": "./format.sh" }\n\t\t]\n\t},\n\t"version": 1\n}`,
  },
  gemini: {
    path: ".gemini/settings.json",
    text: `{"theme":"Dracula","hooks":{"AfterTool":[{"matcher":"write_file","hooks":[{"type":"command","command":"log-writes","timeout":2000}]}]},"general":{"vimMode":true}}`,
  },
};

const PATHS: Record<string, string[][]> = {
  claude: [["hooks", "PreToolUse"], ["hooks", "SessionEnd"]],
  codex: [["hooks", "PreToolUse"]],
  cursor: CURSOR_HOOKS.map((h) => ["hooks", h.event]),
  gemini: [["hooks", "BeforeTool"], ["hooks", "SessionEnd"]],
};

function arrayAt(value: any, path: string[]): any[] {
  return path.reduce((n, k) => n?.[k], value) ?? [];
}

async function home(): Promise<AsyncDisposable & { dir: string; env: Record<string, string> }> {
  const t = await tempDir("airlock-agents-");
  return { dir: t.path, env: { HOME: t.path, AIRLOCK_HOME: join(t.path, "airlock-home") }, [Symbol.asyncDispose]: () => t[Symbol.asyncDispose]() };
}

describe("install --agent / uninstall --agent", () => {
  for (const agent of ["claude", "codex", "cursor", "gemini"]) {
    test(`${agent}: a user's file is byte-for-byte the same after install + uninstall; install is idempotent and backs up`, async () => {
      await using h = await home();
      const user = USER_FILES[agent]!;
      const file = join(h.dir, user.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, user.text, { mode: 0o644 });

      const first = await run(["install", "--agent", agent, "--json"], { env: h.env });
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout).agents).toEqual([expect.objectContaining({ agent, file, changed: true })]);

      // the user's content is all there, plus exactly our entries
      const installed = JSON.parse(read(file));
      const original = JSON.parse(user.text);
      for (const path of PATHS[agent]!) {
        const ours = arrayAt(installed, path).filter((e) => JSON.stringify(e).includes(`${BIN} hook ${agent}`));
        expect(ours).toHaveLength(1);
        expect(arrayAt(installed, path).filter((e) => !ours.includes(e))).toEqual(arrayAt(original, path));
      }
      expect(Object.keys(installed)).toEqual(Object.keys(original)); // key order kept
      expect(statSync(file).mode & 0o777).toBe(0o644); // the file's mode kept

      // a backup of the original, 0600, next to it
      const backups = backupsOf(file);
      expect(backups).toHaveLength(1);
      expect(read(backups[0]!)).toBe(user.text);
      expect(statSync(backups[0]!).mode & 0o777).toBe(0o600);

      // recorded in install.json
      const manifest = JSON.parse(read(join(h.env.AIRLOCK_HOME!, "install.json")));
      expect(manifest.agents[agent].file).toBe(file);
      expect(manifest.agents[agent].insertions).toHaveLength(PATHS[agent]!.length);

      // a second install changes nothing: same bytes, no new backup
      const bytes = read(file);
      const second = await run(["install", "--agent", agent, "--json"], { env: h.env });
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout).agents[0].changed).toBe(false);
      expect(read(file)).toBe(bytes);
      expect(backupsOf(file)).toHaveLength(1);

      const removed = await run(["uninstall", "--agent", agent], { env: h.env });
      expect(removed.code).toBe(0);
      expect(read(file)).toBe(user.text);
      // the shims stay: only the agent's entries were asked for
      expect(existsSync(join(h.env.AIRLOCK_HOME!, "bin", "terraform"))).toBe(true);
      expect(JSON.parse(read(join(h.env.AIRLOCK_HOME!, "install.json"))).agents[agent]).toBeUndefined();
    });
  }

  test("a file Airlock created is removed again, with the folders it made; other agents' files are untouched", async () => {
    await using h = await home();
    const claude = join(h.dir, USER_FILES.claude!.path);
    mkdirSync(dirname(claude), { recursive: true });
    writeFileSync(claude, USER_FILES.claude!.text);
    const r = await run(["install", "--agent", "all"], { env: h.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("/hooks"); // Codex's trust step is explained
    const codex = join(h.dir, ".codex", "hooks.json");
    expect(statSync(codex).mode & 0o777).toBe(0o600);
    expect(JSON.parse(read(codex))).toEqual({ hooks: { PreToolUse: [{ matcher: CODEX_MATCHER, hooks: [{ type: "command", command: hookCommand(BIN, "codex"), timeout: HOOK_TIMEOUT_SECONDS, statusMessage: "Airlock policy check" }] }] } });
    const cursor = JSON.parse(read(join(h.dir, ".cursor", "hooks.json")));
    expect(cursor.version).toBe(1);
    expect(Object.keys(cursor.hooks)).toEqual(CURSOR_HOOKS.map((h) => h.event));
    expect(cursor.hooks.preToolUse).toEqual([{ matcher: "Write|Edit|StrReplace|MultiEdit|Delete", command: hookCommand(BIN, "cursor"), timeout: HOOK_TIMEOUT_SECONDS, failClosed: true }]);
    expect(backupsOf(codex)).toEqual([]); // nothing to back up

    // the full uninstall takes the shims and every agent's entries
    const u = await run(["uninstall"], { env: h.env });
    expect(u.code).toBe(0);
    for (const d of [".codex", ".cursor", ".gemini"]) expect(existsSync(join(h.dir, d))).toBe(false);
    expect(read(claude)).toBe(USER_FILES.claude!.text);
    expect(existsSync(join(h.env.AIRLOCK_HOME!, "install.json"))).toBe(false);
    expect(existsSync(join(h.env.AIRLOCK_HOME!, "bin"))).toBe(false);
  });

  test("edits the user made after install are kept; ours are still removed", async () => {
    await using h = await home();
    const file = join(h.dir, USER_FILES.claude!.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, USER_FILES.claude!.text);
    await run(["install", "--agent", "claude"], { env: h.env });

    // an edit beside our entry: the exact removal still applies
    const appended = read(file).replace(/\n}\n$/, `,\n    "statusLine": {"type": "command", "command": "mine"}\n}\n`);
    writeFileSync(file, appended);
    expect((await run(["uninstall", "--agent", "claude"], { env: h.env })).code).toBe(0);
    expect(read(file)).toBe(USER_FILES.claude!.text.replace(/\n}\n$/, `,\n    "statusLine": {"type": "command", "command": "mine"}\n}\n`));

    // a tool that rewrote the whole file: removed structurally, the user's change kept, backed up first
    writeFileSync(file, USER_FILES.claude!.text);
    await run(["install", "--agent", "claude"], { env: h.env });
    const rewritten = JSON.parse(read(file));
    rewritten.model = "sonnet";
    writeFileSync(file, `${JSON.stringify(rewritten, null, 2)}\n`);
    const before = backupsOf(file).length;
    const u = await run(["uninstall", "--agent", "claude"], { env: h.env });
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("backup");
    expect(JSON.parse(read(file))).toEqual({ ...JSON.parse(USER_FILES.claude!.text), model: "sonnet" });
    expect(backupsOf(file).length).toBe(before + 1);
  });

  test("a file that is not valid JSON is a clear error and nothing changes, in any file", async () => {
    await using h = await home();
    const bad = join(h.dir, ".gemini", "settings.json");
    const good = join(h.dir, USER_FILES.claude!.path);
    mkdirSync(dirname(bad), { recursive: true });
    mkdirSync(dirname(good), { recursive: true });
    const badText = `{\n  "theme": "Dracula",\n  // my comment\n  "hooks": {}\n}\n`;
    writeFileSync(bad, badText);
    writeFileSync(good, USER_FILES.claude!.text);
    const r = await run(["install", "--agent", "claude", "--agent", "gemini"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad} is not valid JSON (line 3`);
    expect(r.stderr).toContain("Nothing was changed");
    expect(read(bad)).toBe(badText);
    expect(read(good)).toBe(USER_FILES.claude!.text);
    expect(backupsOf(bad)).toEqual([]);
    expect(backupsOf(good)).toEqual([]);
    expect(existsSync(h.env.AIRLOCK_HOME!)).toBe(false);

    // a file of the right syntax but the wrong shape is refused the same way
    writeFileSync(bad, `{"hooks": {"BeforeTool": {"not": "an array"}}}`);
    const shape = await run(["install", "--agent", "gemini"], { env: h.env });
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain("hooks.BeforeTool is not a JSON array");
  });

  test("a settings file that is a symlink (dotfiles) is edited in place, the link kept", async () => {
    await using h = await home();
    const real = join(h.dir, "dotfiles", "claude-settings.json");
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, USER_FILES.claude!.text);
    mkdirSync(join(h.dir, ".claude"));
    symlinkSync(real, join(h.dir, ".claude", "settings.json"));
    expect((await run(["install", "--agent", "claude"], { env: h.env })).code).toBe(0);
    expect(statSync(join(h.dir, ".claude", "settings.json")).isFile()).toBe(true);
    expect(read(real)).toContain(`${BIN} hook claude`);
    expect((await run(["uninstall", "--agent", "claude"], { env: h.env })).code).toBe(0);
    expect(read(real)).toBe(USER_FILES.claude!.text);
  });

  test("install from a moved binary replaces the old entries instead of adding a second hook", async () => {
    await using h = await home();
    const moved = join(h.dir, "opt", "airlock");
    mkdirSync(dirname(moved), { recursive: true });
    copyFileSync(BIN, moved);
    chmodSync(moved, 0o755);
    const file = join(h.dir, ".claude", "settings.json");
    expect((await run(["install", "--agent", "claude"], { env: h.env, exe: moved })).code).toBe(0);
    expect((await run(["install", "--agent", "claude"], { env: h.env })).code).toBe(0);
    const hooks = JSON.parse(read(file)).hooks.PreToolUse;
    expect(hooks).toHaveLength(1);
    expect(hooks[0].hooks[0].command).toBe(hookCommand(BIN, "claude"));
    expect((await run(["uninstall", "--agent", "claude"], { env: h.env })).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  test("the session-end entries: Claude Code and Gemini CLI SessionEnd run the same hook command, no matcher, a short timeout; none for Codex and Cursor", async () => {
    expect(SESSION_END_EVENTS).toEqual({ claude: "SessionEnd", gemini: "SessionEnd" });
    await using h = await home();
    expect((await run(["install", "--agent", "all"], { env: h.env })).code).toBe(0);
    const claude = JSON.parse(read(join(h.dir, ".claude", "settings.json")));
    expect(claude.hooks.SessionEnd).toEqual([{ hooks: [{ type: "command", command: hookCommand(BIN, "claude"), timeout: SESSION_END_TIMEOUT_SECONDS }] }]);
    const gemini = JSON.parse(read(join(h.dir, ".gemini", "settings.json")));
    expect(Object.keys(gemini.hooks)).toEqual(["BeforeTool", "SessionEnd"]);
    expect(gemini.hooks.SessionEnd).toEqual([
      { hooks: [{ type: "command", command: hookCommand(BIN, "gemini"), name: "airlock-session-end", timeout: SESSION_END_TIMEOUT_SECONDS * 1000, description: "Airlock: close the Airlock session of this Gemini CLI session" }] },
    ]);
    expect(Object.keys(JSON.parse(read(join(h.dir, ".codex", "hooks.json"))).hooks)).toEqual(["PreToolUse"]);
    expect(Object.keys(JSON.parse(read(join(h.dir, ".cursor", "hooks.json"))).hooks)).toEqual(CURSOR_HOOKS.map((c) => c.event));

    // the installed command answers a SessionEnd with exit 0 and the agent's plain answer (no daemon here: silent)
    for (const [agent, quiet] of [["claude", ""], ["gemini", "{}\n"]] as const) {
      const end = JSON.stringify({ session_id: "s", transcript_path: "", cwd: h.dir, hook_event_name: "SessionEnd", reason: "exit" });
      const p = Bun.spawnSync(["/bin/sh", "-c", hookCommand(BIN, agent)], { stdin: new TextEncoder().encode(end), env: { ...h.env, PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
      expect({ agent, code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() }).toEqual({ agent, code: 0, stdout: quiet, stderr: "" });
    }

    // an install that predates the session-end entry (PreToolUse only): the last insertion cut out again
    const file = join(h.dir, ".claude", "settings.json");
    const manifestFile = join(h.env.AIRLOCK_HOME!, "install.json");
    const manifest = JSON.parse(read(manifestFile));
    const [pre, sessionEnd] = manifest.agents.claude.insertions;
    expect([pre.path, sessionEnd.path]).toEqual([["hooks", "PreToolUse"], ["hooks", "SessionEnd"]]);
    writeFileSync(file, read(file).replace(sessionEnd.snippet, ""));
    expect(Object.keys(JSON.parse(read(file)).hooks)).toEqual(["PreToolUse"]);
    manifest.agents.claude.insertions = [pre];
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const doctor = await run(["doctor"], { env: h.env });
    expect(doctor.stdout).toMatch(/^fail {2}claude hook +.*settings\.json has no Airlock hook at hooks\.SessionEnd\n +fix: airlock install --agent claude/m);
    expect((await run(["install", "--agent", "claude"], { env: h.env })).code).toBe(0);
    const upgraded = JSON.parse(read(file));
    expect(upgraded.hooks.PreToolUse).toHaveLength(1);
    expect(upgraded.hooks.SessionEnd).toEqual(claude.hooks.SessionEnd);
    expect((await run(["uninstall", "--agent", "claude"], { env: h.env })).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  test("an unknown agent is a usage error", async () => {
    await using h = await home();
    const r = await run(["install", "--agent", "vim"], { env: h.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown agent "vim"');
  });
});

describe("the hook command every agent runs", () => {
  test("fails closed: a missing binary or a crash is exit 2 with a reason, never a pass", async () => {
    const missing = Bun.spawnSync(["/bin/sh", "-c", hookCommand("/nonexistent/airlock", "claude")], { stdin: new TextEncoder().encode("{}"), stderr: "pipe" });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.toString()).toContain("airlock: blocked: the Airlock hook failed (exit 127)");
    const ok = Bun.spawnSync(["/bin/sh", "-c", hookCommand("/bin/true", "claude")]);
    expect(ok.exitCode).toBe(0);
    // an exit 2 of the hook itself (a deny) passes through without an extra line
    const deny = Bun.spawnSync(["/bin/sh", "-c", hookCommand("/x/airlock", "claude").replace("/x/airlock", "sh -c 'echo denied >&2; exit 2' x")], { stderr: "pipe" });
    expect(deny.exitCode).toBe(2);
    expect(deny.stderr.toString()).toBe("denied\n");
  });
});

// ---- the Claude Code plugin -------------------------------------------------------------------

/** plugin.json: only `name` is required; these are the documented fields. */
const PluginManifest = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "kebab-case")),
  version: v.optional(v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "semver"))),
  description: v.optional(v.string()),
  author: v.optional(v.strictObject({ name: v.string(), email: v.optional(v.string()), url: v.optional(v.string()) })),
  homepage: v.optional(v.string()),
  repository: v.optional(v.string()),
  license: v.optional(v.string()),
  keywords: v.optional(v.array(v.string())),
});

/** marketplace.json: name, owner and plugins are required; a relative source starts with ./ and has no `..`. */
const Marketplace = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*$/)),
  owner: v.strictObject({ name: v.string(), email: v.optional(v.string()) }),
  metadata: v.optional(v.strictObject({ description: v.optional(v.string()), version: v.optional(v.string()), pluginRoot: v.optional(v.string()) })),
  plugins: v.pipe(
    v.array(
      v.strictObject({
        name: v.string(),
        source: v.pipe(v.string(), v.startsWith("./"), v.check((s) => !s.split("/").includes(".."), "no ..")),
        description: v.optional(v.string()),
        version: v.optional(v.string()),
        category: v.optional(v.string()),
        tags: v.optional(v.array(v.string())),
      }),
    ),
    v.minLength(1),
  ),
});

/** hooks/hooks.json: the settings hooks format plus an optional description. */
const CommandHook = v.strictObject({ type: v.literal("command"), command: v.string(), timeout: v.optional(v.pipe(v.number(), v.minValue(1))) });
const HooksFile = v.strictObject({
  description: v.optional(v.string()),
  hooks: v.record(v.picklist(["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SessionStart", "SessionEnd", "Notification"]), v.array(v.strictObject({ matcher: v.optional(v.string()), hooks: v.array(CommandHook) }))),
});

const Frontmatter = v.object({
  description: v.pipe(v.string(), v.minLength(10)),
  "argument-hint": v.string(),
  "allowed-tools": v.optional(v.string()),
  "disable-model-invocation": v.optional(v.picklist(["true", "false"])),
});

function frontmatter(md: string): { data: Record<string, string>; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(md);
  if (!m) throw new Error("no frontmatter");
  const data: Record<string, string> = {};
  for (const line of m[1]!.split("\n")) {
    const kv = /^([\w-]+):\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`bad frontmatter line ${line}`);
    data[kv[1]!] = kv[2]!.replace(/^"(.*)"$/, "$1");
  }
  return { data, body: m[2]! };
}

describe("the Claude Code plugin (shims/claude-code)", () => {
  test("plugin.json and marketplace.json have the documented shapes", () => {
    const plugin = v.parse(PluginManifest, JSON.parse(read(join(PLUGIN, ".claude-plugin", "plugin.json"))));
    expect(plugin.name).toBe("airlock");
    expect(plugin.version).toBe(pkg.version);
    const market = v.parse(Marketplace, JSON.parse(read(join(PLUGIN, ".claude-plugin", "marketplace.json"))));
    expect(market.plugins.map((p) => p.name)).toEqual(["airlock"]);
    // the marketplace root is the plugin: the source resolves to this folder
    expect(existsSync(join(PLUGIN, market.plugins[0]!.source, ".claude-plugin", "plugin.json"))).toBe(true);
  });

  test("hooks.json: PreToolUse for Bash, the file tools and MCP tools, through a fail-closed wrapper, with a timeout", () => {
    const hooks = v.parse(HooksFile, JSON.parse(read(join(PLUGIN, "hooks", "hooks.json"))));
    const groups = hooks.hooks.PreToolUse!;
    expect(groups).toHaveLength(1);
    expect(groups[0]!.matcher).toBe(CLAUDE_MATCHER); // the same matcher install --agent claude writes
    const re = new RegExp(groups[0]!.matcher!);
    for (const tool of ["Bash", "Edit", "Write", "MultiEdit", "NotebookEdit", "mcp__github__create_issue"]) expect(re.test(tool)).toBe(true);
    for (const tool of ["Read", "BashOutput", "Grep", "WebFetch"]) expect(re.test(tool)).toBe(false);
    const hook = groups[0]!.hooks[0]!;
    expect(hook.timeout).toBe(HOOK_TIMEOUT_SECONDS);
    expect(hook.command).toBe('"${CLAUDE_PLUGIN_ROOT}/hooks/airlock-hook"');
    expect(statSync(join(PLUGIN, "hooks", "airlock-hook")).mode & 0o111).toBe(0o111);
    // the wrapper tells the hook the same timeout, so its own deadline falls well inside it
    expect(read(join(PLUGIN, "hooks", "airlock-hook"))).toContain(`"$airlock" hook claude --timeout ${HOOK_TIMEOUT_SECONDS}\n`);
    // SessionEnd: the same wrapper, every reason (no matcher), the timeout install --agent claude gives it
    expect(Object.keys(hooks.hooks)).toEqual(["PreToolUse", "SessionEnd"]);
    expect(hooks.hooks.SessionEnd).toEqual([{ hooks: [{ type: "command", command: '"${CLAUDE_PLUGIN_ROOT}/hooks/airlock-hook"', timeout: SESSION_END_TIMEOUT_SECONDS }] }]);
  });

  test("the other agents' matchers are anchored regular expressions over their tool names", () => {
    const codex = new RegExp(CODEX_MATCHER);
    for (const t of ["Bash", "apply_patch", "mcp__fs__write"]) expect(codex.test(t)).toBe(true);
    expect(codex.test("BashX")).toBe(false);
    const gemini = new RegExp(GEMINI_MATCHER);
    for (const t of ["run_shell_command", "write_file", "replace", "mcp__fs__write"]) expect(gemini.test(t)).toBe(true);
    expect(gemini.test("read_file")).toBe(false);
  });

  test("commands/: every /airlock:* command of DESIGN 7, with description, argument-hint and $ARGUMENTS", () => {
    const names = files(join(PLUGIN, "commands")).map((f) => f.replace(/\.md$/, ""));
    expect(names).toEqual(["approve", "auto-off", "auto-on", "disapprove", "fail-mode", "pair", "patterns", "sign-in", "sign-out", "status", "unpair"]);
    for (const name of names) {
      const { data, body } = frontmatter(read(join(PLUGIN, "commands", `${name}.md`)));
      v.parse(Frontmatter, data);
      expect(body).toContain("$ARGUMENTS");
      expect(`${data.description} ${body}`).not.toContain("not built yet");
      // Claude Code runs the command for the user (the `!` line), allowed by allowed-tools
      expect(body).toContain(`!\`airlock ${name} `);
      expect(data["allowed-tools"]).toContain(`Bash(airlock ${name}:*)`);
      if (name !== "status") {
        // a setting the agent must not change: the model cannot invoke it through its SlashCommand tool
        expect(data["disable-model-invocation"]).toBe("true");
        expect(body).toContain("faithfully");
      }
    }
    const status = frontmatter(read(join(PLUGIN, "commands", "status.md")));
    expect(status.body).toContain("!`airlock doctor $ARGUMENTS 2>&1 || true`");
    expect(status.data["allowed-tools"]).toContain("Bash(airlock doctor:*)");
  });

  test("bin/: one executable sh shim per protected tool, all the same script but for the tool", () => {
    const shims = files(join(PLUGIN, "bin"));
    expect(shims).toEqual([...PROTECTED_TOOLS].sort());
    const template = read(join(PLUGIN, "bin", "terraform")).replace("\ntool=terraform\n", "\ntool=TOOL\n");
    for (const tool of shims) {
      const path = join(PLUGIN, "bin", tool);
      expect(statSync(path).mode & 0o111).toBe(0o111);
      expect(read(path).replace(`\ntool=${tool}\n`, "\ntool=TOOL\n")).toBe(template);
      expect(Bun.spawnSync(["/bin/sh", "-n", path]).exitCode).toBe(0);
    }
    expect(template.startsWith("#!/bin/sh\n")).toBe(true);
    expect(template).toContain('exec "$AIRLOCK_BIN" shim "$tool" "$@"');
  });

  test("the binary embeds the plugin", () => {
    // `airlock install` users get it from the binary's assets; the build embeds shims/
    const built = Bun.spawnSync(["grep", "-c", "-F", "Airlock protected-tool shim, from the Airlock plugin", BIN]);
    expect(Number(built.stdout.toString().trim())).toBeGreaterThan(0);
  });
});

describe("the plugin's bin/ shims on the Bash PATH", () => {
  let w: World;
  let real: string;
  let log: string;
  let base: Record<string, string>;

  beforeAll(async () => {
    w = await world("airlock-e2e-plugin-");
    await startDaemon(w);
    real = join(w.dir, "real-bin");
    log = join(w.dir, "terraform.log");
    mkdirSync(real);
    writeFileSync(join(real, "terraform"), `#!/bin/sh\nprintf '%s\\n' "real terraform $*" >> "${log}"\necho "real terraform ran: $*"\n`);
    chmodSync(join(real, "terraform"), 0o755);
    // the plugin's bin/ first, as Claude Code puts it; AIRLOCK_KNOWN_AGENTS empty: no agent ancestry
    base = { ...w.env, PATH: `${join(PLUGIN, "bin")}:${real}:/usr/bin:/bin`, AIRLOCK_BIN: w.bin, AIRLOCK_KNOWN_AGENTS: "" };
  });

  const sh = (command: string, env: Record<string, string>) => {
    const p = Bun.spawnSync(["/bin/sh", "-c", command], { env, stdout: "pipe", stderr: "pipe", cwd: w.dir });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  };
  const ran = () => (existsSync(log) ? read(log) : "");

  test("command -v terraform is the plugin's shim, and a human-terminal call runs the real terraform", () => {
    expect(sh("command -v terraform", base).stdout.trim()).toBe(join(PLUGIN, "bin", "terraform"));
    const r = sh("terraform plan -out=x", base);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("real terraform ran: plan -out=x\n");
    expect(r.code).toBe(0);
  });

  test("in a governed session the checkpoint decides: apply is blocked (126, real tool not run), plan runs", async () => {
    const created = await sock(w, "POST", "/v1/sessions", { agent: "claude", cwd: w.dir, user: "e2e" });
    expect(created.status).toBe(201);
    const env = { ...base, AIRLOCK_SESSION_ID: created.body.session.id, AIRLOCK_SESSION_TOKEN: created.body.token };
    const before = ran();
    const blocked = sh("terraform apply -auto-approve", env);
    expect(blocked.code).toBe(126);
    expect(blocked.stderr).toStartWith(
      "airlock: POLICY BLOCK\nairlock: command=terraform apply -auto-approve\nairlock: result=blocked; the real executable was not run.\n",
    );
    expect(ran()).toBe(before);
    const allowed = sh("terraform plan", env);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toBe("real terraform ran: plan\n");
  });

  test("airlock is found on PATH without AIRLOCK_BIN, and no airlock at all fails closed", () => {
    const linkDir = join(w.dir, "airlock-on-path");
    mkdirSync(linkDir, { recursive: true });
    if (!existsSync(join(linkDir, "airlock"))) symlinkSync(w.bin, join(linkDir, "airlock"));
    const { AIRLOCK_BIN: _b, ...noBin } = base;
    expect(sh("terraform version", { ...noBin, PATH: `${join(PLUGIN, "bin")}:${linkDir}:${real}:/usr/bin:/bin` }).stdout).toBe("real terraform ran: version\n");

    const before = ran();
    const none = sh("terraform apply", { ...noBin, HOME: join(w.dir, "empty-home"), AIRLOCK_HOME: join(w.dir, "no-airlock-home") });
    expect(none.code).toBe(126);
    expect(none.stderr).toContain("airlock: POLICY BLOCK\nairlock: command=terraform apply\nairlock: result=blocked; the real executable was not run.\n");
    expect(none.stderr).toContain("airlock: reason=the airlock binary was not found");
    expect(ran()).toBe(before);
  });

  test("no recursion however the plugin folder is spelled on PATH", () => {
    const twice = `${join(PLUGIN, "bin")}/:${join(PLUGIN, "..", "claude-code", "bin")}:${join(PLUGIN, "bin")}:${real}:/usr/bin:/bin`;
    const r = sh("terraform fmt", { ...base, PATH: twice });
    expect(r.stdout).toBe("real terraform ran: fmt\n");
    expect(r.code).toBe(0);
  });

  test("the plugin's hook wrapper blocks (exit 2) when there is no airlock binary", () => {
    const { AIRLOCK_BIN: _b, ...noBin } = base;
    const p = Bun.spawnSync([join(PLUGIN, "hooks", "airlock-hook")], {
      env: { ...noBin, PATH: "/usr/bin:/bin", HOME: join(w.dir, "empty-home"), AIRLOCK_HOME: join(w.dir, "no-airlock-home") },
      stdin: new TextEncoder().encode(JSON.stringify({ tool_name: "Bash", tool_input: { command: "terraform apply" } })),
      stderr: "pipe",
    });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("airlock: blocked: the airlock binary was not found");
  });
});

// ---- airlock run gives the agent its hook --------------------------------------------------------

describe("airlock run codex / claude", () => {
  let w: World;
  let agents: string;

  beforeAll(async () => {
    w = await world("airlock-e2e-run-agents-");
    await startDaemon(w);
    agents = join(w.dir, "agents");
    mkdirSync(agents);
    for (const name of ["codex", "claude"]) {
      // a fake agent: records its argv and the PATH it was given
      writeFileSync(join(agents, name), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${w.dir}/${name}.argv"\nprintf '%s' "$PATH" > "${w.dir}/${name}.path"\n`);
      chmodSync(join(agents, name), 0o755);
    }
  });

  const runAgent = async (name: string) => {
    const r = await run(["run", name, "--model", "x"], { env: { ...w.env, PATH: `${agents}:/usr/bin:/bin` } });
    expect(r.code).toBe(0);
    return { argv: read(join(w.dir, `${name}.argv`)).split("\n").slice(0, -1), path: read(join(w.dir, `${name}.path`)) };
  };

  test("codex gets -c hooks.PreToolUse=... (valid TOML) and the shims first on PATH", async () => {
    const { argv, path } = await runAgent("codex");
    expect(argv[0]).toBe("-c");
    expect(argv.slice(2)).toEqual(["--model", "x"]);
    const [key, value] = [argv[1]!.slice(0, argv[1]!.indexOf("=")), argv[1]!.slice(argv[1]!.indexOf("=") + 1)];
    expect(key).toBe("hooks.PreToolUse");
    const parsed = Bun.TOML.parse(`v = ${value}`) as { v: unknown };
    expect(parsed.v).toEqual([{ matcher: CODEX_MATCHER, hooks: [{ type: "command", command: hookCommand(w.bin, "codex"), timeout: HOOK_TIMEOUT_SECONDS, statusMessage: "Airlock policy check" }] }]);
    expect(path.startsWith(`${join(w.home, "bin")}:`)).toBe(true);
  });

  test("claude gets --settings with the PreToolUse hook", async () => {
    const { argv } = await runAgent("claude");
    expect(argv[0]).toBe("--settings");
    expect(JSON.parse(argv[1]!)).toEqual({ hooks: { PreToolUse: [{ matcher: CLAUDE_MATCHER, hooks: [{ type: "command", command: hookCommand(w.bin, "claude"), timeout: HOOK_TIMEOUT_SECONDS }] }] } });
    expect(argv.slice(2)).toEqual(["--model", "x"]);
  });

  test("nothing is added when install --agent already configured the agent (no double hook)", async () => {
    expect((await run(["install", "--agent", "codex,claude"], { env: w.env })).code).toBe(0);
    expect((await runAgent("codex")).argv).toEqual(["--model", "x"]);
    expect((await runAgent("claude")).argv).toEqual(["--model", "x"]);
  });
});

// ---- airlock doctor -----------------------------------------------------------------------------

interface DoctorJson {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

async function hookAvailable(): Promise<boolean> {
  const r = await run(["hook", "claude"], { stdin: "{}" });
  return !r.stderr.includes('unknown command "hook"');
}

describe("airlock doctor", () => {
  test("a canary counts only the agent's own deny, not an airlock usage error", () => {
    expect(isDeny("claude", 0, JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: "x" } }))).toBe(true);
    expect(isDeny("claude", 0, JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "ask" } }))).toBe(false);
    expect(isDeny("claude", 0, "")).toBe(false);
    expect(isDeny("codex", 0, JSON.stringify({ decision: "block", reason: "x" }))).toBe(true);
    expect(isDeny("cursor", 0, JSON.stringify({ permission: "deny" }))).toBe(true);
    expect(isDeny("cursor", 0, JSON.stringify({ permission: "allow" }))).toBe(false);
    expect(isDeny("gemini", 0, JSON.stringify({ decision: "deny", reason: "x" }))).toBe(true);
    expect(isDeny("gemini", 0, "{}")).toBe(false);
    expect(isDeny("claude", 2, "", "airlock: blocked by policy")).toBe(true);
    expect(isDeny("claude", 2, "", "airlock: error: unknown option --timeout for airlock hook")).toBe(false);
    expect(isDeny("claude", 1, "")).toBe(false);
    // each canary is that agent's own event for terraform apply
    expect(canaryPayload("claude", "/w")).toMatchObject({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "terraform apply" }, cwd: "/w" });
    expect(canaryPayload("codex", "/w")).toMatchObject({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "terraform apply" } });
    expect(canaryPayload("cursor", "/w")).toMatchObject({ hook_event_name: "beforeShellExecution", command: "terraform apply", cwd: "/w" });
    expect(canaryPayload("gemini", "/w")).toMatchObject({ hook_event_name: "BeforeTool", tool_name: "run_shell_command", tool_input: { command: "terraform apply" } });
  });

  test("a good install: every line ok (the canaries as far as this binary has 'airlock hook')", async () => {
    const w = await world("airlock-e2e-doctor-");
    await startGateway(w);
    await enroll(w);
    await startDaemon(w);
    const env = { ...w.env, PATH: `${join(w.home, "bin")}:/usr/bin:/bin` };
    expect((await run(["install", "--agent", "all"], { env })).code).toBe(0);
    const r = await run(["doctor", "--json"], { env, exe: join(w.home, "bin", "airlock") });
    const doc = JSON.parse(r.stdout) as DoctorJson;
    expect(doc.checks.map((c) => c.name)).toEqual([
      "binary on PATH",
      "shims first on PATH",
      "daemon",
      "gateway",
      "enrolled",
      "claude hook",
      "claude canary",
      "codex hook",
      "codex canary",
      "cursor hook",
      "cursor canary",
      "gemini hook",
      "gemini canary",
    ]);
    for (const c of doc.checks.filter((x) => !x.name.endsWith("canary"))) expect({ name: c.name, ok: c.ok, detail: c.detail }).toEqual({ name: c.name, ok: true, detail: expect.any(String) });
    const canaries = doc.checks.filter((c) => c.name.endsWith("canary"));
    if (await hookAvailable()) {
      for (const c of canaries) expect(c).toEqual({ name: c.name, ok: true, detail: "terraform apply → deny" });
      expect(doc.ok).toBe(true);
      expect(r.code).toBe(0);
      // the canaries' implicit sessions reach the gateway ended, not left running
      let states: string[] = [];
      for (let i = 0; i < 100; i++) {
        states = (await api(w, "GET", "/api/v1/sessions")).body.items.map((x: { agent: string; status: string }) => `${x.agent}:${x.status}`).sort();
        if (states.length > 0 && states.every((x) => x.endsWith(":exited"))) break;
        await Bun.sleep(100);
      }
      expect(states.length).toBeGreaterThan(0);
      expect(states.filter((x) => !x.endsWith(":exited"))).toEqual([]);
    } else {
      for (const c of canaries) {
        expect(c.ok).toBe(false);
        expect(c.detail).toStartWith("hook command not available");
      }
      expect(doc.ok).toBe(false);
      expect(r.code).toBe(1);
    }
    const text = await run(["doctor"], { env, exe: join(w.home, "bin", "airlock") });
    expect(text.stdout).toMatch(/^ok {4}binary on PATH {7}airlock → /m);
    expect(text.stdout).toMatch(/^ok {4}daemon /m);
  });

  test("a broken install: each problem is a fail line with its fix, exit 1", async () => {
    await using h = await home();
    expect((await run(["install", "--agent", "claude"], { env: h.env })).code).toBe(0);
    // the hook now points at a binary that is gone; the shims are not on PATH; no daemon, no gateway
    const file = join(h.dir, ".claude", "settings.json");
    writeFileSync(file, read(file).replaceAll(BIN, "/old/place/airlock"));
    const env = { ...h.env, PATH: "/usr/bin:/bin", AIRLOCK_GATEWAY_URL: "http://127.0.0.1:9" };
    const r = await run(["doctor"], { env });
    expect(r.code).toBe(1);
    const lines = r.stdout;
    expect(lines).toMatch(/^fail {2}binary on PATH +no airlock on PATH\n +fix: airlock install, then export PATH=/m);
    expect(lines).toMatch(/^fail {2}shims first on PATH +command -v terraform/m);
    expect(lines).toMatch(/^fail {2}daemon +not reachable at .*\n +fix: airlock daemon start$/m);
    expect(lines).toMatch(/^fail {2}gateway +cannot reach the gateway at http:\/\/127\.0\.0\.1:9/m);
    expect(lines).toMatch(/^fail {2}enrolled +this workstation is not enrolled/m);
    expect(lines).toContain(`runs another binary's hook: /old/place/airlock, not ${BIN}`);
    expect(lines).toMatch(/fix: airlock install --agent claude/);
    const j = JSON.parse((await run(["doctor", "--json"], { env })).stdout) as DoctorJson;
    expect(j.ok).toBe(false);
    for (const c of j.checks.filter((x) => !x.ok)) expect(c.fix).toEqual(expect.any(String));

    // and an agent file that is gone, or not JSON any more
    writeFileSync(file, "{ not json");
    expect((await run(["doctor"], { env })).stdout).toMatch(/^fail {2}claude hook +.*settings\.json is not valid JSON/m);
  });
});
