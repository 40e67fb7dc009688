/**
 * The daemon's socket client. Plain fetch over the Unix socket (no ofetch): the shim loads this on
 * every protected command and its start-up budget is a few milliseconds.
 */
import type { CheckResponse } from "../protocol/daemon";

export class DaemonUnavailable extends Error {
  override readonly name = "DaemonUnavailable";
}

export interface DaemonClient {
  request<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T>;
}

export function createDaemonClient(socket: string): DaemonClient {
  return {
    async request<T>(method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`http://airlock-daemon${path}`, {
          method,
          unix: socket,
          headers: body === undefined ? {} : { "content-type": "application/json" },
          body: body === undefined ? null : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        } as RequestInit);
      } catch (error) {
        const code = (error as { code?: string }).code;
        const why =
          (error as Error).name === "TimeoutError"
            ? `no answer within ${timeoutMs} ms`
            : code === "ENOENT"
              ? "no socket there (the daemon is not running)"
              : code === "ECONNREFUSED"
                ? "nothing answers on the socket (the daemon is not running)"
                : (error as Error).message;
        throw new DaemonUnavailable(`the Airlock daemon is not reachable at ${socket}: ${why}`);
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new DaemonUnavailable(`the daemon at ${socket} answered ${res.status} with something that is not JSON`);
      }
      if (!res.ok) {
        const message = (json as { message?: string }).message ?? `status ${res.status}`;
        const error = new Error(`daemon ${method} ${path}: ${res.status}: ${message}`) as Error & { status: number; body: unknown };
        error.status = res.status;
        error.body = json;
        throw error;
      }
      return json as T;
    },
  };
}

/** A check answer is only trusted when it has the shape of one. */
export function isCheckResponse(value: unknown): value is CheckResponse {
  const v = value as CheckResponse;
  return (
    typeof v === "object" &&
    v !== null &&
    (v.verdict === "allow" || v.verdict === "block" || v.verdict === "require_approval") &&
    typeof v.reason === "string" &&
    typeof v.decision_id === "string"
  );
}
