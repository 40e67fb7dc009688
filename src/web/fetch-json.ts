/**
 * The JSON requests the admin UI (api.ts) and the approver page (approver/client.ts) send to the
 * gateway: the token in the Authorization header (never in a URL), the body as JSON; the answer's
 * text read as JSON.
 */
import type { ErrorDetail } from "../protocol/errors";

/** fetch's init for a JSON request with `token` as the bearer (none when null) and `extra` headers */
export function jsonRequest(method: string, token: string | null, body?: unknown, extra: Record<string, string> = {}): RequestInit {
  const headers: Record<string, string> = { accept: "application/json", ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
}

/** the answer's body as JSON; null when it is empty or not JSON */
export async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** `message (path: detail; ...)`: an error's message with the field-level details the gateway gave */
export function withDetails(message: string, details: readonly ErrorDetail[]): string {
  const lines = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
  return lines.length > 0 ? `${message} (${lines.join("; ")})` : message;
}
