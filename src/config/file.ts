/** `$AIRLOCK_HOME/config.json`: one valibot schema, every problem reported with its path. */
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { AirlockError } from "../protocol/errors";

export const ConfigFile = v.strictObject({
  gateway_url: v.optional(v.pipe(v.string(), v.url("gateway_url must be a URL"))),
  default_role: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "default_role must be a role id"))),
  fail_mode: v.optional(v.picklist(["open", "closed"], "fail_mode must be open or closed"), "closed"),
  auto_approve: v.optional(v.array(v.string()), []),
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
