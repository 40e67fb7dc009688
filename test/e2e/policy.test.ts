/** `airlock policy lint|test` from the compiled binary, on the seed and on broken folders. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, run } from "../support/binary";
import { tempDir } from "../support/tmp";

function writeTree(root: string, files: Record<string, unknown>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
}

const okPolicy = { id: "p", name: "P", status: "active", blocked_commands: ["make deploy"], tests: { block: ["make deploy prod"], allow: ["make test"] } };
const okRole = { id: "r", name: "R", policies: ["p"], default_action: "allow" };

describe("policy lint", () => {
  test("the repository's policies are clean", async () => {
    const r = await run(["policy", "lint", join(ROOT, "policies")]);
    expect(r.stdout).toMatch(/^ok \d+ policies, \d+ roles, \d+ test files, \d+ tool profiles, \d+ inline examples/m);
    expect(r.code).toBe(0);
  });

  test("every problem is reported with its file and JSON path, exit 2", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, {
      "policies/p.json": okPolicy,
      "policies/wrong-name.json": { ...okPolicy, id: "other" },
      "policies/bad.json": { id: "bad", name: "", status: "active", blocked_commands: ["terraform $(x)"], rules: [{ command: "ls", action: "block", extra: true }] },
      "policies/broken.json": "{",
      "policies/contradiction.json": { id: "contradiction", name: "C", status: "active", blocked_commands: ["git push"], rules: [{ command: "git  push", action: "allow" }] },
      "roles/r.json": { ...okRole, policies: ["p", "missing"] },
      "tests/t.json": { role: "nope", cases: [{ command: "ls", expect: "allow" }] },
    });
    const r = await run(["policy", "lint", dir.path]);
    expect(r.code).toBe(2);
    const out = r.stdout;
    const shown = dir.path;
    expect(out).toContain(`error ${shown}/policies/wrong-name.json: id: policy id "other" must match the file name`);
    expect(out).toContain(`error ${shown}/policies/bad.json: name: name must not be empty`);
    expect(out).toContain(`error ${shown}/policies/bad.json: blocked_commands[0]: invalid command pattern "terraform $(x)"`);
    expect(out).toContain(`error ${shown}/policies/bad.json: rules[0].extra:`);
    expect(out).toContain(`error ${shown}/policies/broken.json: invalid JSON`);
    expect(out).toContain(`error ${shown}/policies/contradiction.json: rules[0].command: pattern "git  push" is allow here but block at blocked_commands[0]`);
    expect(out).toContain(`error ${shown}/roles/r.json: policies[1]: unknown policy "missing"`);
    expect(out).toContain(`error ${shown}/tests/t.json: role: unknown role "nope"`);
    expect(out).toMatch(/^invalid \d+ errors/m);
  });

  test("a failing inline example is a lint error at its path", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, { "policies/p.json": { ...okPolicy, tests: { block: ["make test"] } }, "roles/r.json": okRole });
    const r = await run(["policy", "lint", "--json", dir.path]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.problems).toEqual([expect.objectContaining({ file: `${dir.path}/policies/p.json`, path: "tests.block[0]" })]);
  });

  test("a duplicate pattern is a warning, not an error", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, { "policies/p.json": { ...okPolicy, blocked_commands: ["make deploy", "make 'deploy'"] }, "roles/r.json": okRole });
    const r = await run(["policy", "lint", dir.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("warning");
    expect(r.stdout).toContain("duplicate pattern");
  });
});

describe("policy test", () => {
  test("the repository's policy tests pass", async () => {
    const r = await run(["policy", "test", join(ROOT, "policies")]);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  test("a failing case is reported with file, path, expectation and reason; exit 1", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, {
      "policies/p.json": okPolicy,
      "roles/r.json": okRole,
      "tests/r.json": {
        role: "r",
        cases: [
          { command: "cd x && make deploy", expect: "block", policy: "p" },
          { argv: ["make", "deploy"], expect: "allow" },
          { command: "make test", expect: "allow" },
        ],
      },
    });
    const r = await run(["policy", "test", dir.path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${dir.path}/tests/r.json: cases[1]: make deploy`);
    expect(r.stdout).toContain("expected allow, got block by p");
    expect(r.stdout).toContain("4 passed, 1 failed");
  });

  test("--json lists every case", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, { "policies/p.json": okPolicy, "roles/r.json": okRole });
    const r = await run(["policy", "test", "--json", dir.path]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, passed: 2, failed: 0 });
    expect(out.results.map((x: { path: string }) => x.path)).toEqual(["tests.block[0]", "tests.allow[0]"]);
  });

  test("invalid files stop the run with exit 2", async () => {
    await using dir = await tempDir();
    writeTree(dir.path, { "policies/p.json": { ...okPolicy, status: "maybe" } });
    const r = await run(["policy", "test", dir.path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("status: status must be one of active, disabled");
  });

  test("policy with no subcommand shows usage and exits 2", async () => {
    const r = await run(["policy"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("lint");
  });
});
