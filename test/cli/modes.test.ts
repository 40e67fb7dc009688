/**
 * The approval mode, patterns and fail mode commands, from the compiled binary with an isolated
 * HOME and AIRLOCK_HOME: each changes config.json as it says, keeps the other fields, and bad input
 * changes nothing. Plus the offline parts of status, sign-in, pair and approver (no gateway).
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { normalizePattern } from "../../src/cli/modes";
import { run } from "../support/binary";
import { tempDir, type TempDir } from "../support/tmp";

let dir: TempDir;
let home: string;
let env: Record<string, string>;
const dirs: TempDir[] = [];

beforeEach(async () => {
  dir = await tempDir("airlock-cli-modes-");
  dirs.push(dir);
  home = join(dir.path, "airlock-home");
  env = { HOME: dir.path, AIRLOCK_HOME: home };
});
afterAll(async () => {
  for (const d of dirs) await d[Symbol.asyncDispose]();
});

const config = () => JSON.parse(readFileSync(join(home, "config.json"), "utf8"));
const airlock = (...args: string[]) => run(args, { env });

describe("auto-on / auto-off", () => {
  test("auto-off writes auto: false (0600), auto-on writes it back; other fields are kept", async () => {
    writeFileSync(join(dir.path, "x"), "");
    await airlock("use", "terraform-restricted-agent");
    const off = await airlock("auto-off");
    expect(off.code).toBe(0);
    expect(off.stdout).toContain("auto-off: every command of a governed agent needs approval");
    expect(config()).toMatchObject({ auto: false, default_role: "terraform-restricted-agent" });
    expect(statSync(join(home, "config.json")).mode & 0o777).toBe(0o600);
    const on = await airlock("auto-on", "--json");
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toEqual({ auto: true, fail_mode: "closed", patterns: [] });
    expect(config()).toMatchObject({ auto: true, default_role: "terraform-restricted-agent" });
  });

  test("an argument is refused and nothing is written", async () => {
    const r = await airlock("auto-off", "now");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("auto-off takes no argument");
    expect(existsSync(join(home, "config.json"))).toBe(false);
  });
});

describe("approve / disapprove / patterns", () => {
  test("adds, dedupes (kubectl get = kubectl get *), lists, removes", async () => {
    expect((await airlock("approve", "kubectl get *")).stdout).toBe("approved: kubectl get *\n");
    expect((await airlock("approve", "terraform", "plan")).stdout).toBe("approved: terraform plan\n");
    expect((await airlock("approve", "kubectl   get")).stdout).toBe("already approved: kubectl get *\n");
    expect(config().auto_approve).toEqual(["kubectl get *", "terraform plan"]);
    const listed = await airlock("patterns", "--json");
    expect(JSON.parse(listed.stdout)).toEqual({ auto: true, patterns: ["kubectl get *", "terraform plan"] });
    expect((await airlock("patterns")).stdout).toBe("mode: auto-on (patterns not consulted)\n  kubectl get *\n  terraform plan\n");
    const removed = await airlock("disapprove", "kubectl get");
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe("removed: kubectl get\n");
    expect(config().auto_approve).toEqual(["terraform plan"]);
  });

  test("while auto is on, approve says the patterns are not consulted", async () => {
    const r = await airlock("approve", "helm list");
    expect(r.stderr).toContain("auto is on, so patterns are not consulted");
    await airlock("auto-off");
    expect((await airlock("approve", "helm status")).stderr).toBe("");
  });

  test.each([
    ["*", "would approve every command"],
    ["", "missing the pattern"],
    ["   ", "missing the pattern"],
    ["kubectl *foo", "only a final '*' word is allowed"],
    ["kubectl g?t", "only a final '*' word is allowed"],
    ["kubectl get\nterraform apply", "control character"],
    ["echo 'open", "pattern"],
  ])("refuses %j without changing config.json", async (pattern, message) => {
    await airlock("approve", "kubectl get *");
    const before = readFileSync(join(home, "config.json"), "utf8");
    const r = await airlock("approve", pattern);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(readFileSync(join(home, "config.json"), "utf8")).toBe(before);
  });

  test("disapprove of an unknown pattern is not_found (exit 1) and names the patterns", async () => {
    await airlock("approve", "kubectl get *");
    const r = await airlock("disapprove", "terraform plan");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no pattern "terraform plan"; the patterns are: kubectl get *');
    expect(config().auto_approve).toEqual(["kubectl get *"]);
  });

  test("normalizePattern: words joined by one space, quoting kept where needed, a final * kept", () => {
    expect(normalizePattern("  kubectl   get  ")).toBe("kubectl get");
    expect(normalizePattern("kubectl get *")).toBe("kubectl get *");
    expect(normalizePattern(`git commit -m "a b"`)).toBe("git commit -m 'a b'");
    expect(() => normalizePattern("-rf")).toThrow("must start with a command name");
  });
});

describe("fail-mode", () => {
  test("open warns on stderr, closed does not; no argument shows it", async () => {
    const open = await airlock("fail-mode", "open");
    expect(open.code).toBe(0);
    expect(open.stdout).toBe("fail mode: open\n");
    expect(open.stderr).toContain("WARNING: fail mode is open");
    expect(config().fail_mode).toBe("open");
    expect(JSON.parse((await airlock("fail-mode", "--json")).stdout)).toEqual({ fail_mode: "open" });
    const closed = await airlock("fail-mode", "closed");
    expect(closed.stderr).toBe("");
    expect(config().fail_mode).toBe("closed");
  });

  test.each([[["sometimes"]], [["OPEN"]], [["open", "closed"]]])("refuses %j and changes nothing", async (args: string[]) => {
    await airlock("fail-mode", "closed");
    const before = readFileSync(join(home, "config.json"), "utf8");
    const r = await airlock("fail-mode", ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("fail-mode takes open or closed");
    expect(readFileSync(join(home, "config.json"), "utf8")).toBe(before);
  });
});

describe("without a gateway or daemon", () => {
  test("status --json: the mode and settings, not signed in, the daemon not reachable (exit 0)", async () => {
    await airlock("auto-off");
    await airlock("approve", "kubectl get *");
    const r = await airlock("status", "--json");
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ mode: "auto-off", fail_mode: "closed", patterns: 1, gateway_url: "http://127.0.0.1:8787", signed_in: null, pairing: null, daemon: { reachable: false } });
    expect(s.problems.join("\n")).toContain("auto is off but no approver is paired");
  });

  test("pair without sign-in says to sign in (exit 1)", async () => {
    const r = await airlock("pair");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not signed in");
    expect(r.stderr).toContain("airlock sign-in");
  });

  test("a credential file others can read is refused with the chmod fix", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "credentials.json"), JSON.stringify({ gateway_url: "http://127.0.0.1:9", token: "x".repeat(40), user: "user:a", signed_in_at: "2026-01-01T00:00:00Z" }), { mode: 0o644 });
    const r = await airlock("pair");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("chmod 600");
  });

  test("sign-in to a gateway that is not there: unavailable (exit 1), nothing stored", async () => {
    const r = await airlock("sign-in", "--gateway", "http://127.0.0.1:9", "--no-browser");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot reach the gateway at http://127.0.0.1:9");
    expect(existsSync(join(home, "credentials.json"))).toBe(false);
  });

  test("approver: bad --auto, a bad code, no key file, then no terminal — what was typed is checked first", async () => {
    expect((await airlock("approver", "--auto", "maybe")).stderr).toContain("--auto must be approve or deny");
    // no key file yet: that is the first thing to fix, even without a terminal
    expect((await airlock("approver")).stderr).toContain("no approver key file");
    expect((await airlock("approver", "--code", "12345")).stderr).toContain("--code must be 6 characters");
    expect((await airlock("approver", "--code", "K7M2QP")).stderr).toContain("no terminal to ask on");
    const bad = await airlock("approver", "--auto", "approve", "--code", "O0I1L!");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--code must be 6 characters");
    const none = await airlock("approver", "--auto", "approve");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no approver key file");
  });

  test("sign-out and unpair when there is nothing: say so, exit 0", async () => {
    const out = await airlock("sign-out");
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("not signed in");
  });
});
