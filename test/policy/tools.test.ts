/** Tool rules: the policy extension for hooks' file edits and MCP calls (docs/policies.md, Tool rules). */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { compilePolicySet, evaluateArgv, evaluateTool, type CompiledPolicySet } from "../../src/policy/engine";
import { loadPolicySources } from "../../src/policy/load";
import { runPolicyTests } from "../../src/policy/policy-tests";
import { Policy, PolicyTestCase, type Policy as PolicyT, type Role } from "../../src/policy/schema";
import { checkPathGlob, compilePathGlob, compileToolPattern, globMatches, normalizePath, pathForms } from "../../src/policy/tools";
import { validatePolicyDocument } from "../../src/policy/validate";
import { seedPolicyFiles } from "../../src/config/assets";
import { shellAnalyzer } from "../support/shell";

const policy = (over: Partial<PolicyT> & Pick<PolicyT, "id">): PolicyT => ({ name: over.id, status: "active", blocked_commands: [], rules: [], ...over });
const role = (id: string, policies: string[], default_action: Role["default_action"] = "allow"): Role => ({ id, name: id, policies, default_action });
const set = (policies: PolicyT[], r: Role | null = null): CompiledPolicySet => compilePolicySet({ role: r, policies, profiles: new Map() });

const matches = (glob: string, path: string, root: string | null = "/home/dev/project") => globMatches(compilePathGlob(glob), pathForms(path, root));

describe("path globs", () => {
  test.each([
    ["**/.env", ".env", true],
    ["**/.env", "/home/dev/project/.env", true],
    ["**/.env", "/home/dev/project/services/api/.env", true],
    ["**/.env", "/etc/other/.env", true],
    ["**/.env", ".env.example", false],
    ["**/.env", "src/env.ts", false],
    [".env", "deep/down/.env", true],
    ["*.pem", "certs/server.pem", true],
    ["*.pem", ".hidden.pem", true],
    ["**/*.{pem,key}", "tls/private.key", true],
    ["**/*.{pem,key}", "tls/private.keys", false],
    ["infra/prod/**", "/home/dev/project/infra/prod/main.tf", true],
    ["infra/prod/**", "infra/prod/modules/vpc/main.tf", true],
    ["infra/prod/**", "infra/staging/main.tf", false],
    ["infra/prod/**", "/elsewhere/infra/prod/main.tf", false],
    ["infra/prod/", "infra/prod/main.tf", true],
    ["/etc/**", "/etc/hosts", true],
    ["/etc/**", "etc/hosts", false],
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/deep/a.ts", false],
    ["src/?.ts", "src/a.ts", true],
    ["src/[ab].ts", "src/b.ts", true],
    ["src/[!ab].ts", "src/b.ts", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
  ] as const)("%p vs %p → %p", (glob, path, expected) => {
    expect(matches(glob, path)).toBe(expected);
  });

  test("paths are normalized before matching: .. and . cannot walk around a glob", () => {
    expect(matches("infra/prod/**", "infra/staging/../prod/main.tf")).toBe(true);
    expect(matches("**/.env", "src/../.env")).toBe(true);
    expect(matches("**/.env", "/home/dev/project/./a//b/.env")).toBe(true);
    expect(normalizePath("/a/../../b")).toBe("/b");
    expect(normalizePath("../x/./y")).toBe("../x/y");
  });

  test("matching ignores case: macOS and Windows file systems do", () => {
    expect(matches("**/.env", "config/.ENV")).toBe(true);
    expect(matches("infra/prod/**", "Infra/PROD/x.tf")).toBe(true);
  });

  test("a relative path outside the working folder is matched by its absolute form only", () => {
    expect(pathForms("../other/.env", "/home/dev/project")).toEqual({ absolute: "home/dev/other/.env", relative: null });
    expect(matches("**/.env", "../other/.env")).toBe(true);
    expect(matches("other/**", "../other/x")).toBe(false);
  });

  test("malformed globs are refused with a reason", () => {
    expect(checkPathGlob("a/**b").error).toContain("whole path segment");
    expect(checkPathGlob("a/{b,c").error).toContain("'{'");
    expect(checkPathGlob("a/[bc").error).toContain("'['");
    expect(checkPathGlob("../x").error).toContain("'..'");
    expect(checkPathGlob("").ok).toBe(false);
    expect(checkPathGlob("**/.env").ok).toBe(true);
  });
});

describe("tool patterns", () => {
  test("exact names, | alternatives and wildcards; case-sensitive", () => {
    expect(compileToolPattern("Write").test("Write")).toBe(true);
    expect(compileToolPattern("Write").test("write")).toBe(false);
    expect(compileToolPattern("Write").test("WriteX")).toBe(false);
    expect(compileToolPattern("Write|Edit").test("Edit")).toBe(true);
    expect(compileToolPattern("mcp__github__*").test("mcp__github__create_issue")).toBe(true);
    expect(compileToolPattern("mcp__github__*").test("mcp__gitlab__create_issue")).toBe(false);
    expect(compileToolPattern("mcp__*__delete_?").test("mcp__db__delete_x")).toBe(true);
    expect(compileToolPattern("a.b").test("aXb")).toBe(false);
  });
});

describe("the schema", () => {
  const parse = (rule: unknown) => v.safeParse(Policy, { id: "p", name: "P", status: "active", rules: [rule] });
  const messages = (rule: unknown) => {
    const r = parse(rule);
    return r.success ? [] : r.issues.map((i) => i.message);
  };

  test("a rule names a command, a tool, or both; a path needs a tool", () => {
    expect(parse({ command: "terraform apply", action: "block" }).success).toBe(true);
    expect(parse({ tool: "Write", path: "**/.env", action: "block" }).success).toBe(true);
    expect(parse({ tool: "mcp__github__*", action: "require_approval", reason: "a human looks" }).success).toBe(true);
    expect(parse({ command: "rm -rf", tool: "Delete", action: "block" }).success).toBe(true);
    expect(messages({ action: "block" })).toEqual(["a rule needs a command pattern, a tool, or both"]);
    expect(messages({ path: "**/.env", action: "block" })).toContain("a rule with a path must name the tool it applies to");
    expect(messages({ tool: "Wr ite", action: "block" })[0]).toContain("invalid tool pattern");
    expect(messages({ tool: "Write|", action: "block" })[0]).toContain("empty");
    expect(messages({ tool: "Write", path: "a/**b", action: "block" })[0]).toContain("invalid path glob");
    expect(messages({ tool: "Write", paths: "x", action: "block" }).length).toBeGreaterThan(0); // strict: a typo is an error
  });

  test("policies written before tool rules still parse unchanged", () => {
    for (const file of seedPolicyFiles().policies) {
      const doc = JSON.parse(file.text);
      const r = v.safeParse(Policy, doc);
      expect(r.success).toBe(true);
    }
  });

  test("a test case is exactly one of command, argv or tool; path only with tool", () => {
    expect(v.safeParse(PolicyTestCase, { tool: "Write", path: ".env", expect: "block" }).success).toBe(true);
    expect(v.safeParse(PolicyTestCase, { tool: "Write", command: "ls", expect: "block" }).success).toBe(false);
    expect(v.safeParse(PolicyTestCase, { command: "ls", path: ".env", expect: "allow" }).success).toBe(false);
    expect(v.safeParse(PolicyTestCase, { tool: "mcp__*", expect: "allow" }).success).toBe(false); // a call, not a pattern
  });
});

describe("evaluateTool", () => {
  const guard = policy({
    id: "file-guard",
    rules: [
      { tool: "Write|Edit", path: "**/.env", action: "block", reason: "secrets" },
      { tool: "mcp__github__*", action: "require_approval" },
      { tool: "mcp__github__get_*", action: "allow" },
    ],
  });
  const prod = policy({ id: "prod", rules: [{ tool: "Write|Edit", path: "infra/prod/**", action: "require_approval", reason: "prod changes need a human" }] });
  const s = set([guard, prod], role("r", ["file-guard", "prod"]));

  test("a matching block names policy, rule, pattern and the call", () => {
    const verdict = evaluateTool(s, { tool: "Write", path: "/home/dev/project/.env", root: "/home/dev/project" });
    expect(verdict).toMatchObject({
      verdict: "block",
      source: "rule",
      role: "r",
      policy: "file-guard",
      rule: "rules[0]",
      pattern: 'tool "Write|Edit" path "**/.env"',
      command: "Write /home/dev/project/.env",
      normalized: ["Write /home/dev/project/.env"],
    });
    expect(verdict.reason).toBe('blocked by policy file-guard (rules[0] tool "Write|Edit" path "**/.env"): secrets');
  });

  test("precedence: block > require_approval > allow, whatever the order of the rules", () => {
    expect(evaluateTool(s, { tool: "mcp__github__create_issue" }).verdict).toBe("require_approval");
    // an allow rule never beats a require_approval rule that also matches
    expect(evaluateTool(s, { tool: "mcp__github__get_issue" }).verdict).toBe("require_approval");
    const both = set([prod, policy({ id: "b", rules: [{ tool: "Edit", path: "infra/**", action: "block" }] })]);
    expect(evaluateTool(both, { tool: "Edit", path: "infra/prod/x.tf" })).toMatchObject({ verdict: "block", policy: "b" });
  });

  test("the first matching rule of the same strength decides (policy order, then rule order)", () => {
    const a = policy({ id: "a", rules: [{ tool: "Write", action: "block", reason: "first" }] });
    const b = policy({ id: "b", rules: [{ tool: "Write", action: "block", reason: "second" }] });
    expect(evaluateTool(set([a, b]), { tool: "Write", path: "x" }).policy).toBe("a");
    expect(evaluateTool(set([b, a]), { tool: "Write", path: "x" }).policy).toBe("b");
  });

  test("relative globs see the path relative to the session's working folder", () => {
    expect(evaluateTool(s, { tool: "Edit", path: "/repo/infra/prod/main.tf", root: "/repo" }).verdict).toBe("require_approval");
    expect(evaluateTool(s, { tool: "Edit", path: "/repo/infra/prod/main.tf", root: "/elsewhere" }).verdict).toBe("allow");
  });

  test("a rule with a path does not match a call without one; a call no rule names is allowed", () => {
    expect(evaluateTool(s, { tool: "Write" }).verdict).toBe("allow");
    const other = evaluateTool(s, { tool: "Edit", path: "src/main.ts" });
    expect(other).toMatchObject({ verdict: "allow", source: "default", policy: null, rule: null });
    expect(other.reason).toContain("no tool rule matched");
  });

  test("a role's default_action governs shell commands, not tool calls", () => {
    const approvals = set([guard], role("ask-all", ["file-guard"], "require_approval"));
    expect(evaluateTool(approvals, { tool: "Edit", path: "src/main.ts" }).verdict).toBe("allow");
    expect(evaluateArgv(approvals, ["make", "deploy"]).verdict).toBe("require_approval");
  });

  test("disabled policies take no part", () => {
    expect(evaluateTool(set([{ ...guard, status: "disabled" }]), { tool: "Write", path: ".env" }).verdict).toBe("allow");
  });

  test("tool rules leave command verdicts alone, and a rule with both applies to each", () => {
    const both = policy({ id: "both", rules: [{ command: "terraform apply", tool: "mcp__terraform__apply", action: "block" }] });
    const b = set([both]);
    expect(evaluateArgv(b, ["terraform", "apply"]).verdict).toBe("block");
    expect(evaluateTool(b, { tool: "mcp__terraform__apply" }).verdict).toBe("block");
    expect(evaluateArgv(set([guard]), ["Write", ".env"]).verdict).toBe("allow");
  });

  test("a require_approval tool rule gives the set approvals (unknown commands then need a human)", () => {
    expect(set([policy({ id: "t", rules: [{ tool: "mcp__*", action: "require_approval" }] })]).hasApprovals).toBe(true);
    expect(set([policy({ id: "t", rules: [{ tool: "Write", path: ".env", action: "block" }] })]).hasApprovals).toBe(false);
  });
});

describe("lint and tests", () => {
  const file = (doc: unknown) => ({ policies: [{ path: "policies/policies/p.json", text: JSON.stringify(doc) }], roles: [], tests: [], profiles: [], agents: null });

  test("the same tool and path twice: a warning with one action, an error with two", () => {
    const same = loadPolicySources(file({ id: "p", name: "P", status: "active", rules: [{ tool: "Write", path: ".env", action: "block" }, { tool: "Write", path: ".env", action: "block" }] }));
    expect(same.problems).toMatchObject([{ severity: "warning", path: "rules[1].tool" }]);
    const contradiction = loadPolicySources(file({ id: "p", name: "P", status: "active", rules: [{ tool: "Write", path: ".env", action: "block" }, { tool: "Write", path: ".env", action: "allow" }] }));
    expect(contradiction.problems).toMatchObject([{ severity: "error", path: "rules[1].tool" }]);
    expect(contradiction.problems[0]!.message).toContain("contradict");
  });

  test("inline examples may be tool calls, and a failing one is reported like a command", async () => {
    const analyzer = await shellAnalyzer();
    const loaded = loadPolicySources(
      file({ id: "p", name: "P", status: "active", rules: [{ tool: "Write", path: "**/.env", action: "block" }], tests: { block: [{ tool: "Write", path: "a/.env" }, { tool: "Write", path: "a/b.ts" }], allow: ["ls"] } }),
    );
    const results = runPolicyTests(loaded, analyzer);
    expect(results.map((r) => [r.path, r.command, r.ok])).toEqual([
      ["tests.block[0]", "Write a/.env", true],
      ["tests.block[1]", "Write a/b.ts", false],
      ["tests.allow[0]", "ls", true],
    ]);
  });

  test("the gateway's validation runs tool examples too", async () => {
    const analyzer = await shellAnalyzer();
    const doc = { id: "p", name: "P", status: "active", rules: [{ tool: "Edit", path: "infra/prod/**", action: "require_approval" }], tests: { require_approval: [{ tool: "Edit", path: "infra/prod/x.tf" }], block: [{ tool: "Edit", path: "infra/dev/x.tf" }] } };
    const { policy: parsed, problems } = validatePolicyDocument(doc, new Map(), analyzer);
    expect(parsed).not.toBeNull();
    expect(problems.map((p) => p.path)).toEqual(["tests.block[0]"]);
    expect(problems[0]!.message).toContain('"Edit infra/dev/x.tf": expected block, got allow');
  });

  test("the seed file-guard blocks secrets for every seed role, and its examples pass", async () => {
    const analyzer = await shellAnalyzer();
    const loaded = loadPolicySources(seedPolicyFiles());
    expect(loaded.problems.filter((p) => p.severity === "error")).toEqual([]);
    for (const id of loaded.roles.keys()) expect(loaded.roles.get(id)!.value.policies).toContain("file-guard");
    const failed = runPolicyTests(loaded, analyzer).filter((r) => !r.ok);
    expect(failed).toEqual([]);
  });
});
