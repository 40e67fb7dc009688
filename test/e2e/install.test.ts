/** install / uninstall / use / current from the compiled binary, with an isolated AIRLOCK_HOME. */
import { describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { airlockBinary, run } from "../support/binary";
import { tempDir } from "../support/tmp";

describe("install / uninstall", () => {
  test("install creates a shim per protected tool, is idempotent, and uninstall removes exactly those", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "airlock");
    const env = { AIRLOCK_HOME: home };
    const first = await run(["install", "--json"], { env });
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.created).toEqual(expect.arrayContaining(["airlock", "terraform", "kubectl", "aws", "helm", "pulumi"]));
    // the airlock link is the CLI, not a shim
    expect((await run(["--version"], { exe: join(home, "bin", "airlock") })).stdout).toStartWith("airlock ");
    const binary = realpathSync(await airlockBinary());
    for (const tool of out.created) expect(readlinkSync(join(home, "bin", tool))).toBe(binary);

    const again = JSON.parse((await run(["install", "--json"], { env })).stdout);
    expect(again.created).toEqual([]);
    expect(again.kept.sort()).toEqual(out.created.sort());

    // something of the user's in the same folder is neither replaced nor removed
    writeFileSync(join(home, "bin", "mytool"), "#!/bin/sh\n");
    const removed = await run(["uninstall"], { env });
    expect(removed.code).toBe(0);
    expect(readdirSync(join(home, "bin"))).toEqual(["mytool"]);
    expect(existsSync(join(home, "install.json"))).toBe(false);
    expect((await run(["uninstall"], { env })).stdout).toContain("no shims to remove");
  });

  test("a file of the user's named like a tool is left alone and reported", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "airlock");
    mkdirSync(join(home, "bin"), { recursive: true });
    writeFileSync(join(home, "bin", "terraform"), "#!/bin/sh\necho mine\n");
    const r = await run(["install"], { env: { AIRLOCK_HOME: home } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`left alone (not Airlock's): ${join(home, "bin", "terraform")}`);
    expect(lstatSync(join(home, "bin", "terraform")).isSymbolicLink()).toBe(false);
  });

  test("install prints how to put the shims first on PATH, for shells and desktop apps", async () => {
    await using dir = await tempDir();
    const r = await run(["install"], { env: { AIRLOCK_HOME: join(dir.path, "a") } });
    expect(r.stdout).toContain(`export PATH="${join(dir.path, "a", "bin")}:$PATH"`);
    expect(r.stdout).toContain("Desktop apps");
  });

  test("uninstall --purge-state removes all of AIRLOCK_HOME and nothing else", async () => {
    await using dir = await tempDir();
    const home = join(dir.path, "airlock");
    const env = { AIRLOCK_HOME: home };
    await run(["install"], { env });
    writeFileSync(join(dir.path, "neighbour"), "keep me");
    expect((await run(["use", "terraform-restricted-agent"], { env })).code).toBe(0);
    const r = await run(["uninstall", "--purge-state"], { env });
    expect(r.code).toBe(0);
    expect(existsSync(home)).toBe(false);
    expect(existsSync(join(dir.path, "neighbour"))).toBe(true);
  });

  test("--purge-state refuses to remove the home folder itself", async () => {
    await using dir = await tempDir();
    const r = await run(["uninstall", "--purge-state"], { env: { HOME: dir.path, AIRLOCK_HOME: dir.path } });
    expect(r.code).toBe(2);
    expect(existsSync(dir.path)).toBe(true);
  });
});

describe("use / current", () => {
  test("use sets the default role in config.json (0600), current shows it and where it comes from", async () => {
    await using dir = await tempDir();
    const env = { AIRLOCK_HOME: dir.path };
    expect((await run(["current"], { env })).stdout).toBe("default-agent (built-in default)\n");
    const r = await run(["use", "terraform-restricted-agent"], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse((await run(["current", "--json"], { env })).stdout)).toEqual({ role: "terraform-restricted-agent", source: join(dir.path, "config.json") });
    expect(statSync(join(dir.path, "config.json")).mode & 0o777).toBe(0o600);
    // and airlock check follows it
    expect((await run(["check", "--", "terraform", "import", "a", "b"], { env })).code).toBe(126);
  });

  test("use keeps the other settings in config.json", async () => {
    await using dir = await tempDir();
    writeFileSync(join(dir.path, "config.json"), JSON.stringify({ fail_mode: "open", gateway_url: "http://gw:8787" }));
    await run(["use", "approval-required-agent"], { env: { AIRLOCK_HOME: dir.path } });
    expect(JSON.parse(await Bun.file(join(dir.path, "config.json")).text())).toEqual({ fail_mode: "open", gateway_url: "http://gw:8787", default_role: "approval-required-agent" });
  });

  test("an unknown role is accepted with a note; a malformed one is refused", async () => {
    await using dir = await tempDir();
    const unknown = await run(["use", "team-role"], { env: { AIRLOCK_HOME: dir.path } });
    expect(unknown.code).toBe(0);
    expect(unknown.stderr).toContain("not one of the built-in roles");
    const bad = await run(["use", "Bad Role"], { env: { AIRLOCK_HOME: dir.path } });
    expect(bad.code).toBe(2);
  });
});
