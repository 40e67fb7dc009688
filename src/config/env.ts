/**
 * Every `AIRLOCK_*` environment variable, read in one place through one schema (DESIGN 1).
 * Nothing is read at import time: call `readEnv()`.
 */
import * as v from "valibot";
import { AirlockError } from "../protocol/errors";

const NonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));
const Opt = <T extends v.GenericSchema<unknown, string>>(schema: T) => v.optional(schema);

export const EnvSchema = v.object({
  AIRLOCK_HOME: v.pipe(Opt(NonEmpty), v.description("State folder (default ~/.airlock).")),
  AIRLOCK_LISTEN: v.pipe(
    Opt(v.pipe(v.string(), v.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be host:port"))),
    v.description("Gateway listen address, host:port."),
  ),
  AIRLOCK_GATEWAY_URL: v.pipe(Opt(v.pipe(v.string(), v.url("must be a URL"))), v.description("Gateway base URL.")),
  AIRLOCK_DATABASE_URL: v.pipe(Opt(NonEmpty), v.description("PostgreSQL URL for a shared control plane.")),
  AIRLOCK_ADMIN_TOKEN: v.pipe(
    Opt(v.pipe(v.string(), v.minLength(32, "must be at least 32 characters"))),
    v.description("Bootstrap admin token used on a store's first start instead of a random one."),
  ),
  AIRLOCK_TOKEN: v.pipe(
    Opt(v.pipe(v.string(), v.regex(/^\S{32,256}$/, "must be a token: 32-256 characters without spaces"))),
    v.description("The credential the CLI sends to the gateway: an admin or viewer token (never a flag: argv is visible to other users)."),
  ),
  AIRLOCK_LOG: v.pipe(
    v.optional(v.picklist(["silent", "error", "warn", "info", "debug", "trace"], "must be one of silent, error, warn, info, debug, trace")),
    v.description("Log level."),
  ),
  AIRLOCK_KNOWN_AGENTS: v.pipe(Opt(v.string()), v.description("Comma-separated process names that replace the known-agents list.")),
  AIRLOCK_SESSION_ID: v.pipe(Opt(NonEmpty), v.description("Set for governed agents.")),
  AIRLOCK_SESSION_TOKEN: v.pipe(Opt(NonEmpty), v.description("Set for governed agents.")),
  AIRLOCK_SOCKET: v.pipe(Opt(NonEmpty), v.description("Daemon socket path, set for governed agents.")),
  AIRLOCK_APPROVAL_TIMEOUT: v.pipe(
    Opt(v.pipe(v.string(), v.regex(/^\d{1,4}(\.\d{1,3})?$/, "must be a number of seconds"))),
    v.description("How long a shim waits for a human's approval, seconds (default 120; read in lean.ts)."),
  ),
  AIRLOCK_TEST_HOOK_FAULT: v.pipe(
    Opt(v.picklist(["throw"], "must be throw")),
    v.description("TEST ONLY: `throw` injects an internal error into `airlock hook` (read in lean.ts), to prove it answers deny."),
  ),
});

export type AirlockEnv = v.InferOutput<typeof EnvSchema> & { HOME: string | undefined };

export function readEnv(env: Record<string, string | undefined> = process.env): AirlockEnv {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== "") picked[key] = value;
  }
  const result = v.safeParse(EnvSchema, picked);
  if (!result.success) {
    throw new AirlockError(
      "invalid_input",
      "invalid environment",
      result.issues.map((i) => ({ path: String(i.path?.[0]?.key ?? ""), message: i.message })),
    );
  }
  return { ...result.output, HOME: env.HOME };
}

