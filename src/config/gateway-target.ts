/**
 * Which gateway the CLI talks to, and with which credential.
 *
 * URL:   --gateway URL > AIRLOCK_GATEWAY_URL > config.json `gateway_url` > http://127.0.0.1:8787
 * Token: --token-file FILE > AIRLOCK_TOKEN > AIRLOCK_ADMIN_TOKEN > none
 *
 * A token never travels in argv (any local user can read another's command line in `ps`), so
 * there is no `--token` flag; `--token-file` names a file that only its owner may read.
 */
import { readFileSync, statSync } from "node:fs";
import { AirlockError } from "../protocol/errors";
import type { AirlockEnv } from "./env";
import { readConfigFile } from "./file";
import { airlockPaths } from "./paths";

export const DEFAULT_GATEWAY_URL = "http://127.0.0.1:8787";

export type UrlSource = "--gateway" | "AIRLOCK_GATEWAY_URL" | "config.json gateway_url" | "default";
export type TokenSource = "--token-file" | "AIRLOCK_TOKEN" | "AIRLOCK_ADMIN_TOKEN" | "none";

export interface GatewayTarget {
  url: string;
  urlSource: UrlSource;
  token: string | undefined;
  tokenSource: TokenSource;
}

const TOKEN_SHAPE = /^\S{32,256}$/;

/** Reads a token file, refusing one that its group or other users could read. */
export function readTokenFile(path: string): string {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new AirlockError("usage", `--token-file ${path} is not a regular file`);
    mode = st.mode & 0o777;
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AirlockError("usage", code === "ENOENT" ? `--token-file ${path} does not exist` : `cannot read --token-file ${path}: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AirlockError(
      "usage",
      `refusing --token-file ${path}: its mode is ${mode.toString(8).padStart(4, "0")}, so other users can read it; run 'chmod 600 ${path}' (and consider rotating the token)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AirlockError("usage", `cannot read --token-file ${path}: ${(error as Error).message}`);
  }
  const token = text.trim();
  if (token === "") throw new AirlockError("usage", `--token-file ${path} is empty`);
  if (!TOKEN_SHAPE.test(token)) throw new AirlockError("usage", `--token-file ${path} does not hold a token: expected one line of 32-256 characters without spaces`);
  return token;
}

/** Resolves the gateway URL and credential; the config file is read only when neither flag nor env names a URL. */
export function resolveGatewayTarget(env: AirlockEnv, flags: { gateway?: string | undefined; tokenFile?: string | undefined } = {}): GatewayTarget {
  let url: string;
  let urlSource: UrlSource;
  if (flags.gateway !== undefined) {
    if (flags.gateway.trim() === "") throw new AirlockError("usage", "--gateway is empty: give a URL like http://127.0.0.1:8787");
    url = flags.gateway;
    urlSource = "--gateway";
  } else if (env.AIRLOCK_GATEWAY_URL !== undefined) {
    url = env.AIRLOCK_GATEWAY_URL;
    urlSource = "AIRLOCK_GATEWAY_URL";
  } else {
    const fromFile = readConfigFile(airlockPaths(env).config).gateway_url;
    url = fromFile ?? DEFAULT_GATEWAY_URL;
    urlSource = fromFile === undefined ? "default" : "config.json gateway_url";
  }

  if (flags.tokenFile !== undefined) return { url, urlSource, token: readTokenFile(flags.tokenFile), tokenSource: "--token-file" };
  if (env.AIRLOCK_TOKEN !== undefined) return { url, urlSource, token: env.AIRLOCK_TOKEN, tokenSource: "AIRLOCK_TOKEN" };
  if (env.AIRLOCK_ADMIN_TOKEN !== undefined) return { url, urlSource, token: env.AIRLOCK_ADMIN_TOKEN, tokenSource: "AIRLOCK_ADMIN_TOKEN" };
  return { url, urlSource, token: undefined, tokenSource: "none" };
}
