/**
 * The shim through symlinks to the compiled binary, with fake real tools that record what they
 * saw. These cases need no daemon: human terminals, and governed contexts that must fail closed.
 */
import { describe, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { airlockBinary, run } from "../support/binary";
import { fakeAgent, fakeTools } from "../support/fakes";
import { tempDir } from "../support/tmp";

const HEAD = [
  "airlock: POLICY BLOCK",
  "airlock: command=terraform apply -auto-approve",
  "airlock: result=blocked; the real executable was not run.",
  "airlock: ai_instruction=Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.",
];

async function setup() {
  const dir = await tempDir("airlock-shim-");
  const home = join(dir.path, "airlock-home");
  const tools = await fakeTools(dir.path, await airlockBinary());
  const env = {
    AIRLOCK_HOME: home,
    AIRLOCK_KNOWN_AGENTS: "claude,codex",
    PATH: `${tools.shimBin}:${tools.realBin}:/usr/bin:/bin`,
  };
  return { dir, home, tools, env, shim: (tool: string) => join(tools.shimBin, tool) };
}

describe("a human terminal (no session, no agent above)", () => {
  test("runs the real tool with the exact argv and stdin, and exits with its code", async () => {
    const s = await setup();
    await using _ = s.dir;
    const args = ["plan", "-out=tf plan", "", "it's", "--var=a=b"];
    const r = await run(args, { exe: s.shim("terraform"), env: s.env, stdin: "yes\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fake terraform ran\n");
    expect(await s.tools.record("terraform")).toEqual({ argv: args, stdin: "yes\n" });
  });

  test("propagates the tool's exit code", async () => {
    const s = await setup();
    await using _ = s.dir;
    const r = await run(["version"], { exe: s.shim("terraform"), env: { ...s.env, FAKE_MODE: "exit", FAKE_EXIT: "42" } });
    expect(r.code).toBe(42);
  });

  test("is never blocked by a missing daemon", async () => {
    const s = await setup();
    await using _ = s.dir;
    const r = await run(["apply", "-auto-approve"], { exe: s.shim("terraform"), env: s.env });
    expect(r.code).toBe(0);
    expect((await s.tools.record("terraform"))?.argv).toEqual(["apply", "-auto-approve"]);
  });

  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]] as const) {
    test(`forwards ${signal} to the tool and exits with its code`, async () => {
      const s = await setup();
      await using _ = s.dir;
      const proc = Bun.spawn([s.shim("terraform"), "apply"], { env: { ...s.env, HOME: s.dir.path, FAKE_MODE: "sleep" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const ready = Bun.file(join(s.tools.logDir, "terraform.ready"));
      for (let i = 0; i < 200 && !(await ready.exists()); i++) await Bun.sleep(10);
      proc.kill(signal);
      expect(await proc.exited).toBe(code);
      expect(await Bun.file(join(s.tools.logDir, "terraform.signals")).text()).toContain(`got-${signal.slice(3)}`);
    });
  }

  test("a missing real tool is 127 with a clear message, and never recurses into the shim", async () => {
    const s = await setup();
    await using _ = s.dir;
    // PATH holds only shim folders: $AIRLOCK_HOME/bin and another folder linking to airlock
    const other = join(s.dir.path, "other-bin");
    Bun.spawnSync(["mkdir", "-p", other]);
    symlinkSync(await airlockBinary(), join(other, "helm"));
    const r = await run(["list"], { exe: s.shim("helm"), env: { ...s.env, PATH: `${s.tools.shimBin}:${other}:/usr/bin:/bin` } });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("helm: the real executable was not found on PATH");
    expect(r.stderr).toContain(join(other, "helm"));
  });
});

describe("a governed context fails closed", () => {
  test("session env but no daemon: the exact block lines, 126, the tool never ran", async () => {
    const s = await setup();
    await using _ = s.dir;
    const r = await run(["apply", "-auto-approve"], { exe: s.shim("terraform"), env: { ...s.env, AIRLOCK_SESSION_ID: "ses_x", AIRLOCK_SESSION_TOKEN: "al_s_x" } });
    expect(r.code).toBe(126);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines.slice(0, 4)).toEqual(HEAD);
    expect(lines[4]).toMatch(/^airlock: reason=the Airlock daemon is not reachable at .*daemon\.sock.*\(fail mode closed\)$/);
    expect(await s.tools.record("terraform")).toBeNull();
  });

  test("a fake agent named claude above the shim governs it through ancestry", async () => {
    const s = await setup();
    await using _ = s.dir;
    const agent = fakeAgent(join(s.dir.path, "agent"), "claude");
    const r = await run([s.shim("terraform"), "apply", "-auto-approve"], { exe: agent, env: s.env });
    expect(r.code).toBe(126);
    expect(r.stderr.split("\n").slice(0, 4)).toEqual(HEAD);
    expect(await s.tools.record("terraform")).toBeNull();
  });

  test("AIRLOCK_KNOWN_AGENTS replaces the list: the same parent is then a human", async () => {
    const s = await setup();
    await using _ = s.dir;
    const agent = fakeAgent(join(s.dir.path, "agent"), "claude");
    const r = await run([s.shim("terraform"), "plan"], { exe: agent, env: { ...s.env, AIRLOCK_KNOWN_AGENTS: "codex" } });
    expect(r.code).toBe(0);
    expect((await s.tools.record("terraform"))?.argv).toEqual(["plan"]);
  });

  test("fail mode open, set explicitly, lets it run with a warning", async () => {
    const s = await setup();
    await using _ = s.dir;
    writeFileSync(join(s.home, "config.json"), JSON.stringify({ fail_mode: "open" }));
    const r = await run(["plan"], { exe: s.shim("terraform"), env: { ...s.env, AIRLOCK_SESSION_ID: "ses_x", AIRLOCK_SESSION_TOKEN: "al_s_x" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("fail mode is open, so terraform runs unchecked");
  });

  test("an unreadable or invalid config is fail mode closed", async () => {
    const s = await setup();
    await using _ = s.dir;
    writeFileSync(join(s.home, "config.json"), "{ fail_mode: open");
    const r = await run(["plan"], { exe: s.shim("terraform"), env: { ...s.env, AIRLOCK_SESSION_ID: "ses_x", AIRLOCK_SESSION_TOKEN: "al_s_x" } });
    expect(r.code).toBe(126);
  });
});
