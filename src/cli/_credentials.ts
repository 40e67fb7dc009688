/**
 * Secret-holding JSON files of the approvals CLI: `credentials.json` (sign-in), the headless
 * approver's key file, and the pending sign-in / pairing of `--no-wait`. Written atomically with
 * mode 0600; a file that group or others can read is refused (the fix is printed).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import type { AirlockPaths } from "../config/paths";
import { AirlockError } from "../protocol/errors";

export const Credentials = v.object({
  gateway_url: v.pipe(v.string(), v.url()),
  token: v.pipe(v.string(), v.minLength(16)),
  user: v.string(),
  signed_in_at: v.string(),
});
export type Credentials = v.InferOutput<typeof Credentials>;

/** Reads a 0600 JSON file; null when it does not exist. */
export function readSecretJson<T>(path: string, schema: v.GenericSchema<unknown, T>, what: string): T | null {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new AirlockError("invalid_input", `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AirlockError("invalid_input", `refusing ${what} ${path}: its mode is ${mode.toString(8).padStart(4, "0")}, so other users can read it; run 'chmod 600 ${path}'`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new AirlockError("invalid_input", `${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const r = v.safeParse(schema, json);
  if (!r.success) {
    throw new AirlockError(
      "invalid_input",
      `${what} ${path} is not in the expected shape`,
      r.issues.map((i) => ({ path: (i.path ?? []).map((p) => String(p.key)).join("."), message: i.message })),
    );
  }
  return r.output;
}

/** Writes JSON atomically with mode 0600 (temp file + rename), creating the folder 0700. */
export function writeSecretJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Removes a file; true when it existed. */
export function removeFile(path: string): boolean {
  try {
    statSync(path);
  } catch {
    return false;
  }
  rmSync(path, { force: true });
  return true;
}

export function readCredentials(paths: AirlockPaths): Credentials | null {
  return readSecretJson(paths.credentials, Credentials, "the sign-in credential");
}

/** The credential, or a clear error saying how to get one. */
export function requireCredentials(paths: AirlockPaths): Credentials {
  const c = readCredentials(paths);
  if (!c) throw new AirlockError("unauthorized", `not signed in (no ${paths.credentials}); run 'airlock sign-in' first`);
  return c;
}
