/**
 * The daemon socket routes of pairing (docs/approvals.md, Daemon socket API), with failures as
 * AirlockErrors that say what to do: not running → start it; an API error keeps its code.
 */
import { createDaemonClient, DaemonUnavailable } from "../client/daemon";
import type { AirlockPaths } from "../config/paths";
import type { DaemonIdentity, DaemonPairing, PublicKeys } from "../protocol/approvals";
import { AirlockError, ERROR_CODES, type ErrorCode } from "../protocol/errors";

export interface PairingDaemon {
  identity(): Promise<DaemonIdentity>;
  /** the stored pairing, or null when there is none */
  pairing(): Promise<DaemonPairing | null>;
  storePairing(body: { pairing_id: string; approver: PublicKeys; fingerprint: string; label?: string | null }): Promise<DaemonPairing>;
  /** true when a pairing was removed */
  removePairing(): Promise<boolean>;
}

export function pairingDaemon(paths: AirlockPaths, timeoutMs = 5000): PairingDaemon {
  const client = createDaemonClient(paths.socket);
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await client.request<T>(method, path, body, timeoutMs);
    } catch (error) {
      throw daemonError(error, paths.socket);
    }
  };
  return {
    identity: () => call<DaemonIdentity>("GET", "/v1/identity"),
    async pairing() {
      try {
        const p = await call<DaemonPairing | { pairing: DaemonPairing | null } | null>("GET", "/v1/pairing");
        if (p && typeof p === "object" && "pairing" in p) return p.pairing;
        return p && typeof p === "object" && "pairing_id" in p ? p : null;
      } catch (error) {
        if (error instanceof AirlockError && error.code === "not_found") return null;
        throw error;
      }
    },
    async storePairing(body) {
      const r = await call<DaemonPairing | { pairing: DaemonPairing }>("POST", "/v1/pairing", body);
      return "pairing" in r ? r.pairing : r;
    },
    async removePairing() {
      try {
        await call<unknown>("DELETE", "/v1/pairing");
        return true;
      } catch (error) {
        if (error instanceof AirlockError && error.code === "not_found") return false;
        throw error;
      }
    },
  };
}

function daemonError(error: unknown, socket: string): AirlockError {
  if (error instanceof AirlockError) return error;
  if (error instanceof DaemonUnavailable) {
    return new AirlockError("unavailable", `${error.message}; start it with 'airlock daemon start' (or 'airlock dev up')`, [], { cause: error });
  }
  const e = error as Error & { status?: number; body?: { code?: unknown; message?: unknown; details?: unknown } };
  if (typeof e.status === "number") {
    const bodyCode = e.body?.code;
    const code: ErrorCode =
      typeof bodyCode === "string" && (ERROR_CODES as readonly string[]).includes(bodyCode)
        ? (bodyCode as ErrorCode)
        : e.status === 404
          ? "not_found"
          : e.status === 409
            ? "conflict"
            : e.status >= 400 && e.status < 500
              ? "invalid_input"
              : "internal";
    return new AirlockError(code, e.message, [], { cause: error });
  }
  return new AirlockError("internal", `daemon at ${socket}: ${e.message ?? String(error)}`, [], { cause: error });
}
