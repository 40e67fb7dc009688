import { expect, test } from "bun:test";
import { profileFiles, seedPolicyFiles } from "../../src/config/assets";
import { loadPolicySources } from "../../src/policy/load";
import { basename } from "../../src/policy/matcher";
import { PROTECTED_TOOLS } from "../../src/shim/tools";
import { splitWords } from "../../src/shell/words";

test("every tool with a profile is a protected tool the binary answers to", () => {
  const tools = profileFiles().map((f) => JSON.parse(f.text).tool as string);
  expect(tools.length).toBeGreaterThanOrEqual(9);
  expect(tools.filter((t) => !PROTECTED_TOOLS.has(t))).toEqual([]);
});

test("every tool a seed policy names is a protected tool (airlock itself is seen by hooks, never shimmed)", () => {
  const loaded = loadPolicySources(seedPolicyFiles());
  expect(loaded.problems.filter((p) => p.severity === "error")).toEqual([]);
  const named = new Set<string>();
  for (const { value } of loaded.policies.values()) {
    for (const pattern of [...value.blocked_commands, ...value.rules.filter((r) => r.action !== "allow").flatMap((r) => (r.command === undefined ? [] : [r.command]))]) {
      const split = splitWords(pattern);
      if (split.ok) named.add(basename(split.words[0]!));
    }
  }
  expect([...named].filter((t) => !PROTECTED_TOOLS.has(t) && t !== "airlock")).toEqual([]);
  expect(PROTECTED_TOOLS.has("airlock")).toBe(false); // a shim named airlock would shadow the CLI
});
