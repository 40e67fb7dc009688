/**
 * Shared by the commands that talk to a gateway: the common options (`--gateway`, `--token-file`,
 * `--json`), the client, credential hints on 401/403, and plain-text tables for stdout.
 */
import { createGatewayClient, type GatewayClient } from "../client/gateway";
import { readEnv } from "../config/env";
import { resolveGatewayTarget, type GatewayTarget } from "../config/gateway-target";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { out } from "../config/stdio";

export const remoteArgs = {
  gateway: { type: "string", description: "Gateway URL (default: env AIRLOCK_GATEWAY_URL, then gateway_url in $AIRLOCK_HOME/config.json, then http://127.0.0.1:8787)" },
  "token-file": { type: "string", description: "Read the token from FILE (mode 0600 or stricter). Default: env AIRLOCK_TOKEN, then AIRLOCK_ADMIN_TOKEN. There is no --token flag: argv is visible to every local user" },
  json: { type: "boolean", description: "Print JSON on stdout instead of a table" },
} as const;

export interface RemoteFlags {
  gateway?: string | undefined;
  "token-file"?: string | undefined;
}

export interface Remote {
  client: GatewayClient;
  target: GatewayTarget;
}

/** The gateway client for these flags; `needToken` refuses early (before any request) when there is no credential. */
export function connect(flags: RemoteFlags, options: { needToken?: boolean } = {}): Remote {
  const target = resolveGatewayTarget(readEnv(), { gateway: flags.gateway, tokenFile: flags["token-file"] });
  if ((options.needToken ?? true) && target.token === undefined) {
    throw new AirlockError(
      "unauthorized",
      `no credential for the gateway at ${target.url}: set AIRLOCK_TOKEN to an admin or viewer token, or pass --token-file FILE`,
    );
  }
  return { client: createGatewayClient({ baseUrl: target.url, token: target.token }), target };
}

/** Adds where the credential came from to a 401 or 403, so the fix is obvious. */
export function explainAuth(error: unknown, target: GatewayTarget): unknown {
  if (!isAirlockError(error)) return error;
  const from = target.tokenSource === "--token-file" ? "the --token-file" : target.tokenSource;
  if (error.code === "unauthorized" && target.token !== undefined) {
    return new AirlockError(error.code, error.message, [...error.details, { message: `the token from ${from} was refused: check that it is current and not revoked` }], { cause: error });
  }
  if (error.code === "forbidden" && /viewer|needs admin/.test(error.message)) {
    return new AirlockError(error.code, error.message, [...error.details, { message: `the token from ${from} is read-only; writes need an admin token` }], { cause: error });
  }
  return error;
}

/** Runs `fn` against the gateway named by the flags, explaining credential failures. */
export async function withGateway<T>(flags: RemoteFlags, fn: (remote: Remote) => Promise<T>, options: { needToken?: boolean } = {}): Promise<T> {
  const remote = connect(flags, options);
  try {
    return await fn(remote);
  } catch (error) {
    throw explainAuth(error, remote.target);
  }
}

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
}

/** A plain table: upper-case headers, columns padded to their widest cell, no colour (pipes stay clean). */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join("\n")}\n`;
}

/** Key/value lines for one record (`show`, `server status`). */
export function formatFields(fields: readonly [string, string | number | null | undefined][]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`.trimEnd()).join("\n") + "\n";
}

function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value).replace(/[\r\n\t]+/g, " ");
}

/** `2026-05-01T10:00:00.000Z` → `2026-05-01 10:00:00Z`, shorter in a table. */
export function shortTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** Exactly one positional argument, named for the error. */
export function onePositional(args: { _: string[] }, what: string, usage: string): string {
  const [first, ...rest] = args._;
  if (first === undefined || first === "") throw new AirlockError("usage", `missing ${what}: ${usage}`);
  if (rest.length > 0) throw new AirlockError("usage", `expected one ${what}, got ${args._.length}: ${args._.join(" ")}`);
  return first;
}
