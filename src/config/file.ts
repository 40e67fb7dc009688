/** `$AIRLOCK_HOME/config.json`: one valibot schema, every problem reported with its path. */
import { readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import { AirlockError } from "../protocol/errors";

export const ConfigFile = v.strictObject({
  gateway_url: v.optional(v.pipe(v.string(), v.url("gateway_url must be a URL"))),
  default_role: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "default_role must be a role id"))),
  /** `airlock auto-on` (true, the default): policy-only gating; `auto-off` (false): every command of a governed agent needs approval unless it matches `auto_approve` (docs/approvals.md) */
  auto: v.optional(v.boolean("auto must be true or false"), true),
  /** availability failures of approvals (no pairing, gateway down, timeout): block (closed) or allow (open) */
  fail_mode: v.optional(v.picklist(["open", "closed"], "fail_mode must be open or closed"), "closed"),
  /** local auto-approve patterns (`airlock approve <pattern>`), used while auto is off */
  auto_approve: v.optional(v.array(v.pipe(v.string(), v.minLength(1, "auto_approve patterns must not be empty"), v.maxLength(512, "auto_approve patterns must be at most 512 characters"))), []),
  bundle_max_age_seconds: v.optional(
    v.pipe(v.number("bundle_max_age_seconds must be a number"), v.integer("bundle_max_age_seconds must be whole seconds"), v.minValue(10, "bundle_max_age_seconds must be at least 10")),
    6 * 3600,
  ),
});

export type ConfigFile = v.InferOutput<typeof ConfigFile>;

export const DEFAULT_ROLE = "default-agent";

/** Reads the config file; a missing file is the defaults, an invalid one an error naming the field. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return v.parse(ConfigFile, {});
    throw new AirlockError("invalid_input", `cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AirlockError("invalid_input", `${path} is not valid JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(ConfigFile, json);
  if (!result.success) {
    throw new AirlockError(
      "invalid_input",
      `invalid config file ${path}`,
      result.issues.map((i) => ({ path: (i.path ?? []).map((p) => String(p.key)).join("."), message: i.message })),
    );
  }
  return result.output;
}

/** Changes some fields of config.json atomically (temp file + rename, mode 0600), keeping the rest. */
export function updateConfigFile(path: string, patch: Partial<ConfigFile>): ConfigFile {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") readConfigFile(path); // throws the precise problem
  }
  const next = { ...current, ...patch };
  const result = v.safeParse(ConfigFile, next);
  if (!result.success) {
    throw new AirlockError("invalid_input", `invalid config change`, result.issues.map((i) => ({ path: (i.path ?? []).map((p) => String(p.key)).join("."), message: i.message })));
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return result.output;
}
