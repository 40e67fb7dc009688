/** Shared by the commands that read policies: where they come from, and the warm-up of the shell analyzer. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { displayPath, readPolicyDir, readUserFile, seedPolicyFiles, shellWasm, profileFiles } from "../config/assets";
import { isTerminal } from "../config/stdio";
import { AirlockError } from "../protocol/errors";
import { errorCount, formatProblem, loadPolicySources, type LoadedPolicies, type Problem } from "../policy/load";
import { createShellAnalyzer } from "../shell/analyzer";
import type { ShellAnalyzer } from "../shell/types";

export interface PolicySource {
  loaded: LoadedPolicies;
  /** what the user should read as the origin: a folder, files, or the embedded seed */
  label: string;
}

/** `--policies DIR`, else `./policies` when it looks like a policies folder, else the embedded seed. */
export function loadPolicyFolder(dir: string | undefined): PolicySource {
  if (dir !== undefined) {
    const abs = resolve(dir);
    return { loaded: loadPolicySources(readPolicyDir(abs, displayPath(abs))), label: displayPath(abs) };
  }
  const local = resolve("policies");
  if (existsSync(join(local, "policies")) || existsSync(join(local, "roles"))) {
    return { loaded: loadPolicySources(readPolicyDir(local, "policies")), label: "policies" };
  }
  return { loaded: loadPolicySources(seedPolicyFiles()), label: "(embedded seed)" };
}

/** Policy files given one by one (`check --policy a.json b.json`): evaluated alone. */
export function loadPolicyFiles(paths: readonly string[]): PolicySource {
  const loaded = loadPolicySources(
    { policies: paths.map(readUserFile), roles: [], tests: [], profiles: profileFiles(), agents: null },
    { requireFileNameMatch: false },
  );
  return { loaded, label: paths.join(", ") };
}

/** Throws a usage-class error listing every problem when any is an error. */
export function assertNoErrors(problems: readonly Problem[], what: string): void {
  if (errorCount(problems) === 0) return;
  throw new AirlockError(
    "invalid_policy",
    `${what} ${errorCount(problems) === 1 ? "has 1 problem" : `have ${errorCount(problems)} problems`}`,
    problems.filter((p) => p.severity === "error").map((p) => ({ message: formatProblem(p) })),
  );
}

export async function loadAnalyzer(): Promise<ShellAnalyzer> {
  return createShellAnalyzer(await shellWasm());
}

const useColor = () => !process.env.NO_COLOR && isTerminal(1);
export const paint = {
  red: (s: string) => (useColor() ? `\u001b[31m${s}\u001b[39m` : s),
  green: (s: string) => (useColor() ? `\u001b[32m${s}\u001b[39m` : s),
  yellow: (s: string) => (useColor() ? `\u001b[33m${s}\u001b[39m` : s),
  dim: (s: string) => (useColor() ? `\u001b[2m${s}\u001b[22m` : s),
  bold: (s: string) => (useColor() ? `\u001b[1m${s}\u001b[22m` : s),
};
