/**
 * Policy, role, tool-profile and policy-test schemas (DESIGN 3). Every field has a description;
 * objects are strict so a typo (`blocked_comands`) is an error, not a silently ignored field.
 */
import * as v from "valibot";
import { splitWords } from "../shell/words";

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

export const Rule = v.strictObject({
  command: v.pipe(Pattern, v.description("The command pattern this rule applies to.")),
  action: v.pipe(
    v.picklist(ACTIONS, `action must be one of ${ACTIONS.join(", ")}`),
    v.description("What happens when the pattern matches."),
  ),
  reason: v.optional(
    v.pipe(v.string("reason must be a string"), v.maxLength(500, "reason must be at most 500 characters")),
  ),
});

const CommandList = (what: string) =>
  v.pipe(v.array(v.pipe(v.string(`each ${what} must be a string`), v.minLength(1, `${what} must not be empty`)), `${what} must be a list of strings`));

export const PolicyExamples = v.strictObject({
  block: v.optional(CommandList("block example")),
  require_approval: v.optional(CommandList("require_approval example")),
  allow: v.optional(CommandList("allow example")),
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
      v.description("Shell commands this policy alone must block, require approval for, or allow; checked by `airlock policy test` and lint."),
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
    expect: v.picklist(VERDICTS, `expect must be one of ${VERDICTS.join(", ")}`),
    policy: v.optional(Id("policy id")),
    note: v.optional(v.string()),
  }),
  v.check((c) => (c.command === undefined) !== (c.argv === undefined), "a test case needs exactly one of command or argv"),
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
export type Role = v.InferOutput<typeof Role>;
export type ToolProfile = v.InferOutput<typeof ToolProfile>;
export type ToolOption = v.InferOutput<typeof ToolOption>;
export type KnownAgents = v.InferOutput<typeof KnownAgents>;
export type PolicyTestCase = v.InferOutput<typeof PolicyTestCase>;
export type PolicyTestFile = v.InferOutput<typeof PolicyTestFile>;
