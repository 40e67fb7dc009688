/**
 * The approver's fetch to the gateway: the approver token (never the admin token) in the
 * Authorization header, errors as the gateway's `{code, message, details}`.
 */
import type { ErrorBody } from "../../protocol/errors";

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
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new GatewayError(0, "unavailable", "The gateway did not answer. Check the connection and try again.");
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = (json ?? {}) as Partial<ErrorBody>;
    const details = (e.details ?? []).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
    const message = e.message ?? `HTTP ${res.status}`;
    throw new GatewayError(res.status, e.code ?? "http_error", details.length ? `${message} (${details.join("; ")})` : message);
  }
  return json as T;
}

export const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));
