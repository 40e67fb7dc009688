/**
 * Policy, role, tool-profile and policy-test schemas (DESIGN 3). Every field has a description;
 * objects are strict so a typo (`blocked_comands`) is an error, not a silently ignored field.
 */
import * as v from "valibot";
import { splitWords } from "../shell/words";
import { checkPathGlob, checkToolPattern } from "./tools";

export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const Id = (what: string) =>
  v.pipe(
    v.string(`${what} must be a string`),
    v.regex(ID_PATTERN, `${what} must be 1-63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit`),
    v.description(`Stable identifier of the ${what}.`),
  );

const Name = v.pipe(
  v.string("name must be a string"),
  v.trim(),
  v.minLength(1, "name must not be empty"),
  v.maxLength(120, "name must be at most 120 characters"),
  v.description("Human-readable name."),
);

const Description = v.pipe(
  v.string("description must be a string"),
  v.maxLength(2000, "description must be at most 2000 characters"),
  v.description("What this is for, shown in the UI and in explanations."),
);

/** A command pattern: literal shell words, matched as a word-level prefix (DESIGN 3). */
export const Pattern = v.pipe(
  v.string("a command pattern must be a string"),
  v.maxLength(1000, "a command pattern must be at most 1000 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const split = splitWords(dataset.value);
    if (!split.ok) addIssue({ message: `invalid command pattern ${JSON.stringify(dataset.value)}: ${split.error}` });
  }),
  v.description(
    "Literal command words, split with shell quoting rules; matches a command whose normalized words begin with these words.",
  ),
);

export const ACTIONS = ["block", "require_approval", "allow"] as const;
export type Action = (typeof ACTIONS)[number];

/** A tool pattern: agent tool names separated by `|`, `*` and `?` as wildcards (docs/policies.md, Tool rules). */
export const ToolPattern = v.pipe(
  v.string("tool must be a string"),
  v.minLength(1, "tool must not be empty"),
  v.maxLength(500, "tool must be at most 500 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const check = checkToolPattern(dataset.value);
    if (!check.ok) addIssue({ message: `invalid tool pattern ${JSON.stringify(dataset.value)}: ${check.error}` });
  }),
  v.description("Agent tool names this rule applies to, e.g. `Write|Edit` or `mcp__github__*` (`*`, `?` wildcards; `|` separates names)."),
);

/** A path glob for file tools (docs/policies.md, Tool rules). */
export const PathGlob = v.pipe(
  v.string("path must be a string"),
  v.maxLength(1000, "path must be at most 1000 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const check = checkPathGlob(dataset.value);
    if (!check.ok) addIssue({ message: `invalid path glob ${JSON.stringify(dataset.value)}: ${check.error}` });
  }),
  v.description("File path glob for file tools, e.g. `**/.env` or `infra/prod/**`, matched relative to the session's working folder and as an absolute path."),
);

export const Rule = v.pipe(
  v.strictObject({
    command: v.optional(v.pipe(Pattern, v.description("The command pattern this rule applies to (shell commands)."))),
    tool: v.optional(ToolPattern),
    path: v.optional(PathGlob),
    action: v.pipe(
      v.picklist(ACTIONS, `action must be one of ${ACTIONS.join(", ")}`),
      v.description("What happens when the pattern matches."),
    ),
    reason: v.optional(
      v.pipe(v.string("reason must be a string"), v.maxLength(500, "reason must be at most 500 characters")),
    ),
  }),
  v.check((r) => r.command !== undefined || r.tool !== undefined, "a rule needs a command pattern, a tool, or both"),
  v.check((r) => r.path === undefined || r.tool !== undefined, "a rule with a path must name the tool it applies to"),
);

/** A tool call an inline example or a test case stands for: literal names, no wildcards. */
export const ToolCallExample = v.strictObject({
  tool: v.pipe(
    v.string("tool must be a string"),
    v.regex(/^[A-Za-z0-9_.:@/-]+$/, "tool must be a tool name (letters, digits, _ . : @ / -)"),
    v.description("The tool the agent calls, e.g. `Write` or `mcp__github__create_issue`."),
  ),
  path: v.optional(v.pipe(v.string("path must be a string"), v.minLength(1, "path must not be empty"), v.description("The file the tool touches."))),
});

const ExampleList = (what: string) =>
  v.pipe(
    v.array(
      v.union(
        [v.pipe(v.string(`each ${what} must be a string`), v.minLength(1, `${what} must not be empty`)), ToolCallExample],
        `each ${what} must be a shell string or a tool call {"tool", "path"?}`,
      ),
      `${what} must be a list`,
    ),
  );

export const PolicyExamples = v.strictObject({
  block: v.optional(ExampleList("block example")),
  require_approval: v.optional(ExampleList("require_approval example")),
  allow: v.optional(ExampleList("allow example")),
});

export const POLICY_STATUSES = ["active", "disabled"] as const;

export const Policy = v.strictObject({
  id: Id("policy id"),
  name: Name,
  status: v.pipe(
    v.picklist(POLICY_STATUSES, `status must be one of ${POLICY_STATUSES.join(", ")}`),
    v.description("Only active policies take part in a role's effective policy."),
  ),
  description: v.optional(Description),
  blocked_commands: v.optional(
    v.pipe(v.array(Pattern, "blocked_commands must be a list of command patterns"), v.description("Shorthand for rules with action block.")),
    [],
  ),
  rules: v.optional(v.array(Rule, "rules must be a list of rules"), []),
  tests: v.optional(
    v.pipe(
      PolicyExamples,
      v.description("Shell commands (strings) and tool calls ({tool, path?}) this policy alone must block, require approval for, or allow; checked by `airlock policy test` and lint."),
    ),
  ),
});

export const DEFAULT_ACTIONS = ["allow", "require_approval"] as const;

export const Role = v.strictObject({
  id: Id("role id"),
  name: Name,
  description: v.optional(Description),
  policies: v.pipe(
    v.array(Id("policy id"), "policies must be a list of policy ids"),
    v.description("Policies attached to this role; the active ones are combined."),
  ),
  default_action: v.pipe(
    v.picklist(DEFAULT_ACTIONS, `default_action must be one of ${DEFAULT_ACTIONS.join(", ")}`),
    v.description("Verdict for a command no rule matches."),
  ),
});

const OptionName = v.pipe(
  v.string("an option name must be a string"),
  v.regex(/^--?[A-Za-z0-9][A-Za-z0-9_-]*$/, "an option name looks like -n, --namespace or -chdir"),
);

export const ToolOption = v.strictObject({
  names: v.pipe(v.array(OptionName), v.minLength(1, "names must list at least one option name")),
  value: v.pipe(v.boolean("value must be true or false"), v.description("Whether the option takes a value (`--opt v`, `--opt=v`, `-ov`).")),
});

export const ToolProfile = v.strictObject({
  tool: v.pipe(
    v.string("tool must be a string"),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, "tool must be an executable name"),
    v.description("Executable basename this profile applies to."),
  ),
  description: v.optional(Description),
  options_anywhere: v.pipe(
    v.boolean("options_anywhere must be true or false"),
    v.description("Whether the tool accepts its global options after the subcommand too (cobra, aws, gcloud)."),
  ),
  options: v.array(ToolOption, "options must be a list"),
});

export const KnownAgent = v.strictObject({
  id: Id("agent id"),
  label: Name,
  process_names: v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1, "process_names must not be empty")),
});

export const KnownAgents = v.strictObject({
  agents: v.array(KnownAgent),
});

export const VERDICTS = ["allow", "require_approval", "block"] as const;
export type VerdictKind = (typeof VERDICTS)[number];

export const PolicyTestCase = v.pipe(
  v.strictObject({
    command: v.optional(v.pipe(v.string(), v.minLength(1, "command must not be empty"))),
    argv: v.optional(v.pipe(v.array(v.string()), v.minLength(1, "argv must not be empty"))),
    tool: v.optional(ToolCallExample.entries.tool),
    path: v.optional(ToolCallExample.entries.path),
    expect: v.picklist(VERDICTS, `expect must be one of ${VERDICTS.join(", ")}`),
    policy: v.optional(Id("policy id")),
    note: v.optional(v.string()),
  }),
  v.check(
    (c) => [c.command, c.argv, c.tool].filter((x) => x !== undefined).length === 1,
    "a test case needs exactly one of command, argv or tool",
  ),
  v.check((c) => c.path === undefined || c.tool !== undefined, "path belongs to a tool case"),
);

export const PolicyTestFile = v.pipe(
  v.strictObject({
    description: v.optional(Description),
    role: v.optional(Id("role id")),
    policies: v.optional(v.array(Id("policy id"))),
    cases: v.pipe(v.array(PolicyTestCase), v.minLength(1, "cases must not be empty")),
  }),
  v.check((f) => (f.role === undefined) !== (f.policies === undefined), "a test file names exactly one of role or policies"),
);

export type Policy = v.InferOutput<typeof Policy>;
export type Rule = v.InferOutput<typeof Rule>;
export type ToolCallExample = v.InferOutput<typeof ToolCallExample>;
export type Role = v.InferOutput<typeof Role>;
export type ToolProfile = v.InferOutput<typeof ToolProfile>;
export type ToolOption = v.InferOutput<typeof ToolOption>;
export type KnownAgents = v.InferOutput<typeof KnownAgents>;
export type PolicyTestCase = v.InferOutput<typeof PolicyTestCase>;
export type PolicyTestFile = v.InferOutput<typeof PolicyTestFile>;
