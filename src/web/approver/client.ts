/**
 * The approver's fetch to the gateway: the approver token (never the admin token) in the
 * Authorization header, errors as the gateway's `{code, message, details}`.
 */
import type { ErrorBody } from "../../protocol/errors";
import { jsonRequest, readJson, withDetails } from "../fetch-json";

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, jsonRequest(method, token, body));
  } catch {
    throw new GatewayError(0, "unavailable", "The gateway did not answer. Check the connection and try again.");
  }
  const json = await readJson(res);
  if (!res.ok) {
    const e = (json ?? {}) as Partial<ErrorBody>;
    throw new GatewayError(res.status, e.code ?? "http_error", withDetails(e.message ?? `HTTP ${res.status}`, e.details ?? []));
  }
  return json as T;
}

export const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));
