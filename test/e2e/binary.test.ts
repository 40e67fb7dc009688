/** The binary as a user gets it: version, help, shim dispatch by name, and portability. */
import { describe, expect, test } from "bun:test";
import { copyFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { airlockBinary, run } from "../support/binary";
import { tempDir } from "../support/tmp";

const BLOCK_LINES = [
  "airlock: POLICY BLOCK",
  "airlock: command=terraform apply -auto-approve",
  "airlock: result=blocked; the real executable was not run.",
  "airlock: ai_instruction=Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.",
];

describe("airlock binary", () => {
  test("--version prints the injected version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^airlock \d+\.\d+\.\d+(\+[0-9a-f]+)?\n$/);
  });

  test("--help teaches the commands and examples", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const word of ["check", "policy", "shim", "Examples:", "airlock check --"]) expect(r.stdout).toContain(word);
  });

  test("a command's --help lists its options", async () => {
    const r = await run(["check", "--help"]);
    expect(r.code).toBe(0);
    for (const word of ["--role", "--policy", "--policies", "--command", "--json"]) expect(r.stdout).toContain(word);
    expect(r.stdout).not.toContain("\u001b[");
  });

  test("a symlink named terraform reaches the shim, which fails closed when governed", async () => {
    await using dir = await tempDir();
    const marker = join(dir.path, "ran");
    // a fake real terraform on PATH that would leave a marker if it ever ran
    const fakeBin = join(dir.path, "real");
    await Bun.write(join(fakeBin, "terraform"), `#!/bin/sh\ntouch ${marker}\n`);
    Bun.spawnSync(["chmod", "+x", join(fakeBin, "terraform")]);
    const link = join(dir.path, "terraform");
    symlinkSync(await airlockBinary(), link);
    const governed = { PATH: `${fakeBin}:/usr/bin:/bin`, AIRLOCK_HOME: dir.path, AIRLOCK_SESSION_ID: "s", AIRLOCK_SESSION_TOKEN: "t" };
    const r = await run(["apply", "-auto-approve"], { exe: link, env: governed });
    expect(r.code).toBe(126);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n").slice(0, 4)).toEqual(BLOCK_LINES);
    expect(await Bun.file(marker).exists()).toBe(false);
  });

  test("airlock shim <tool> is the same face", async () => {
    await using dir = await tempDir();
    const r = await run(["shim", "terraform", "apply", "-auto-approve"], { env: { AIRLOCK_HOME: dir.path, AIRLOCK_SESSION_ID: "s", AIRLOCK_SESSION_TOKEN: "t" } });
    expect(r.code).toBe(126);
    expect(r.stderr.split("\n").slice(0, 4)).toEqual(BLOCK_LINES);
  });

  test("airlock shim refuses a tool that is not protected", async () => {
    const r = await run(["shim", "ls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a protected tool");
  });

  test("a name that is not a protected tool is the CLI", async () => {
    await using dir = await tempDir();
    const link = join(dir.path, "whatever");
    symlinkSync(await airlockBinary(), link);
    const r = await run(["--version"], { exe: link });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("airlock ");
  });

  test("the binary copied elsewhere works alone (embedded policies, profiles and parser)", async () => {
    await using dir = await tempDir();
    const copy = join(dir.path, "airlock");
    copyFileSync(await airlockBinary(), copy);
    Bun.spawnSync(["chmod", "+x", copy]);
    const blocked = await run(["check", "--command", "cd infra && kubectl --context prod delete ns x"], { exe: copy, cwd: dir.path });
    expect(blocked.code).toBe(126);
    const lint = await run(["policy", "lint"], { exe: copy, cwd: dir.path });
    expect(lint.code).toBe(0);
    expect(lint.stdout).toContain("(embedded seed)");
    const tests = await run(["policy", "test"], { exe: copy, cwd: dir.path });
    expect(tests.code).toBe(0);
    expect(tests.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  test("a hostile working directory cannot reconfigure the binary (.env, bunfig.toml)", async () => {
    await using dir = await tempDir();
    const marker = join(dir.path, "preloaded");
    await Bun.write(join(dir.path, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x");`);
    await Bun.write(join(dir.path, "bunfig.toml"), `preload = ["./evil.ts"]\n`);
    await Bun.write(join(dir.path, ".env"), "AIRLOCK_LOG=nonsense\nNODE_OPTIONS=--require ./evil.ts\n");
    const r = await run(["check", "--", "terraform", "apply"], { cwd: dir.path });
    expect(r.code).toBe(126);
    expect(r.stderr).toBe("");
    expect(await Bun.file(marker).exists()).toBe(false);
  });
});
