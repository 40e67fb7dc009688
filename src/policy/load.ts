/**
 * Loads the `policies/` tree (policies, roles, test files, known agents) and the tool profiles
 * from source texts. Pure: the caller reads the files (a folder on disk, or the binary's embedded
 * seed). Every problem is reported with its file and JSON path; nothing stops at the first one.
 */
import * as v from "valibot";
import { AirlockError } from "../protocol/errors";
import { splitWords } from "../shell/words";
import { compileProfile, type CompiledProfile } from "./profiles";
import {
  KnownAgents,
  Policy,
  PolicyTestFile,
  Role,
  ToolProfile,
  type KnownAgents as KnownAgentsT,
  type Policy as PolicyT,
  type PolicyTestFile as PolicyTestFileT,
  type Role as RoleT,
  type ToolProfile as ToolProfileT,
} from "./schema";

export interface SourceFile {
  /** path shown in problems, e.g. `policies/policies/aws-guard.json` */
  path: string;
  text: string;
}

export interface PolicySources {
  policies: SourceFile[];
  roles: SourceFile[];
  tests: SourceFile[];
  profiles: SourceFile[];
  agents: SourceFile | null;
}

export interface Problem {
  severity: "error" | "warning";
  file: string;
  /** JSON path inside the file (`rules[2].action`), or "" for the whole file */
  path: string;
  message: string;
}

export interface Loaded<T> {
  value: T;
  file: string;
}

export interface LoadedPolicies {
  policies: Map<string, Loaded<PolicyT>>;
  roles: Map<string, Loaded<RoleT>>;
  tests: Loaded<PolicyTestFileT>[];
  profiles: Map<string, CompiledProfile>;
  profileList: ToolProfileT[];
  agents: KnownAgentsT | null;
  problems: Problem[];
}

/** `["rules", 2, "action"]` → `rules[2].action` */
export function jsonPath(keys: readonly unknown[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Every valibot issue of a failed parse, as problems of one file. */
export function issuesToProblems(file: string, issues: readonly v.BaseIssue<unknown>[]): Problem[] {
  return issues.map((issue) => ({
    severity: "error" as const,
    file,
    path: jsonPath(issue.path?.map((p) => p.key) ?? []),
    message: issue.message,
  }));
}

function stem(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base.endsWith(".json") ? base.slice(0, -5) : base;
}

function parseFile<S extends v.GenericSchema>(
  schema: S,
  file: SourceFile,
  problems: Problem[],
): v.InferOutput<S> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(file.text);
  } catch (error) {
    problems.push({ severity: "error", file: file.path, path: "", message: `invalid JSON: ${(error as Error).message}` });
    return undefined;
  }
  const result = v.safeParse(schema, json);
  if (!result.success) {
    problems.push(...issuesToProblems(file.path, result.issues));
    return undefined;
  }
  return result.output;
}

export function lintPolicy(policy: PolicyT, file: string, problems: Problem[]): void {
  const seen = new Map<string, string>();
  const note = (pattern: string, where: string, action: string) => {
    const split = splitWords(pattern);
    const key = split.ok ? split.words.join("\u0000") : pattern;
    const before = seen.get(key);
    if (before !== undefined) {
      const [prevWhere, prevAction] = before.split("\u0000") as [string, string];
      problems.push({
        severity: prevAction === action ? "warning" : "error",
        file,
        path: where,
        message:
          prevAction === action
            ? `duplicate pattern ${JSON.stringify(pattern)} (also at ${prevWhere})`
            : `pattern ${JSON.stringify(pattern)} is ${action} here but ${prevAction} at ${prevWhere}; one policy must not contradict itself`,
      });
    } else {
      seen.set(key, `${where}\u0000${action}`);
    }
  };
  policy.blocked_commands.forEach((p, i) => note(p, `blocked_commands[${i}]`, "block"));
  policy.rules.forEach((r, i) => {
    if (r.command !== undefined) note(r.command, `rules[${i}].command`, r.action);
  });
  // tool rules: the same tool pattern and path twice
  const tools = new Map<string, { where: string; action: string }>();
  policy.rules.forEach((r, i) => {
    if (r.tool === undefined) return;
    const key = `${r.tool}\u0000${r.path ?? ""}`;
    const where = `rules[${i}].tool`;
    const what = r.path === undefined ? `tool ${JSON.stringify(r.tool)}` : `tool ${JSON.stringify(r.tool)} with path ${JSON.stringify(r.path)}`;
    const before = tools.get(key);
    if (before === undefined) {
      tools.set(key, { where, action: r.action });
      return;
    }
    problems.push({
      severity: before.action === r.action ? "warning" : "error",
      file,
      path: where,
      message:
        before.action === r.action
          ? `duplicate ${what} (also at ${before.where})`
          : `${what} is ${r.action} here but ${before.action} at ${before.where}; one policy must not contradict itself`,
    });
  });
}

export function loadPolicySources(sources: PolicySources, options: { requireFileNameMatch?: boolean } = {}): LoadedPolicies {
  const nameMatch = options.requireFileNameMatch ?? true;
  const problems: Problem[] = [];
  const policies = new Map<string, Loaded<PolicyT>>();
  const roles = new Map<string, Loaded<RoleT>>();
  const tests: Loaded<PolicyTestFileT>[] = [];
  const profiles = new Map<string, CompiledProfile>();
  const profileList: ToolProfileT[] = [];

  for (const file of sources.policies) {
    const policy = parseFile(Policy, file, problems);
    if (!policy) continue;
    if (nameMatch && stem(file.path) !== policy.id) {
      problems.push({ severity: "error", file: file.path, path: "id", message: `policy id ${JSON.stringify(policy.id)} must match the file name (${policy.id}.json)` });
    }
    const dup = policies.get(policy.id);
    if (dup) {
      problems.push({ severity: "error", file: file.path, path: "id", message: `duplicate policy id ${JSON.stringify(policy.id)} (also in ${dup.file})` });
      continue;
    }
    lintPolicy(policy, file.path, problems);
    policies.set(policy.id, { value: policy, file: file.path });
  }

  for (const file of sources.roles) {
    const role = parseFile(Role, file, problems);
    if (!role) continue;
    if (stem(file.path) !== role.id) {
      problems.push({ severity: "error", file: file.path, path: "id", message: `role id ${JSON.stringify(role.id)} must match the file name (${role.id}.json)` });
    }
    const dup = roles.get(role.id);
    if (dup) {
      problems.push({ severity: "error", file: file.path, path: "id", message: `duplicate role id ${JSON.stringify(role.id)} (also in ${dup.file})` });
      continue;
    }
    role.policies.forEach((id, i) => {
      if (!policies.has(id)) {
        problems.push({ severity: "error", file: file.path, path: `policies[${i}]`, message: `unknown policy ${JSON.stringify(id)}` });
      }
    });
    roles.set(role.id, { value: role, file: file.path });
  }

  for (const file of sources.tests) {
    const test = parseFile(PolicyTestFile, file, problems);
    if (!test) continue;
    if (test.role !== undefined && !roles.has(test.role)) {
      problems.push({ severity: "error", file: file.path, path: "role", message: `unknown role ${JSON.stringify(test.role)}` });
      continue;
    }
    let missing = false;
    test.policies?.forEach((id, i) => {
      if (!policies.has(id)) {
        missing = true;
        problems.push({ severity: "error", file: file.path, path: `policies[${i}]`, message: `unknown policy ${JSON.stringify(id)}` });
      }
    });
    if (!missing) tests.push({ value: test, file: file.path });
  }

  for (const file of sources.profiles) {
    const profile = parseFile(ToolProfile, file, problems);
    if (!profile) continue;
    if (profiles.has(profile.tool)) {
      problems.push({ severity: "error", file: file.path, path: "tool", message: `duplicate profile for ${profile.tool}` });
      continue;
    }
    profiles.set(profile.tool, compileProfile(profile));
    profileList.push(profile);
  }

  const agents = sources.agents ? (parseFile(KnownAgents, sources.agents, problems) ?? null) : null;

  return { policies, roles, tests, profiles, profileList, agents, problems };
}

/** The role and its attached policies (all of them: the engine keeps only the active ones). */
export function resolveRole(loaded: LoadedPolicies, roleId: string): { role: RoleT; policies: PolicyT[] } {
  const role = loaded.roles.get(roleId)?.value;
  if (!role) {
    const known = [...loaded.roles.keys()].sort().join(", ") || "none";
    throw new AirlockError("not_found", `unknown role ${JSON.stringify(roleId)} (known roles: ${known})`);
  }
  const policies = role.policies.map((id) => {
    const policy = loaded.policies.get(id)?.value;
    if (!policy) throw new AirlockError("invalid_policy", `role ${role.id} attaches unknown policy ${JSON.stringify(id)}`);
    return policy;
  });
  return { role, policies };
}

export function errorCount(problems: readonly Problem[]): number {
  return problems.filter((p) => p.severity === "error").length;
}

export function formatProblem(p: Problem): string {
  return `${p.file}${p.path ? `: ${p.path}` : ""}: ${p.severity === "warning" ? "warning: " : ""}${p.message}`;
}
