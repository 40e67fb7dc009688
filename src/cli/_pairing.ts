/**
 * Shared by sign-in, sign-out, pair, unpair and status: the gateway the user signed in to, the
 * browser opener, and unpairing on both ends.
 */
import { hostname } from "node:os";
import { createGatewayClient, type GatewayClient } from "../client/gateway";
import type { AirlockPaths } from "../config/paths";
import { err } from "../config/stdio";
import { AirlockError, isAirlockError } from "../protocol/errors";
import type { Credentials } from "./_credentials";
import { pairingDaemon } from "./_daemon-api";

/** The gateway client acting as the signed-in user. */
export function userClient(creds: Credentials, timeoutMs = 15_000): GatewayClient {
  return createGatewayClient({ baseUrl: creds.gateway_url, token: creds.token, timeoutMs });
}

export function thisHost(): string {
  try {
    return hostname() || "workstation";
  } catch {
    return "workstation";
  }
}

/** Tries to open `url` in a browser (xdg-open / open); never fails, says so when it could not. */
export function openBrowser(url: string): boolean {
  const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? null : "xdg-open";
  if (!opener || Bun.which(opener) === null) return false;
  try {
    const child = Bun.spawn([opener, url], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    child.unref();
    return true;
  } catch {
    return false;
  }
}

export interface UnpairReport {
  /** the pairing id the daemon held (or the pending one), null when there was none */
  pairing_id: string | null;
  daemon: "removed" | "none" | "unreachable";
  gateway: "removed" | "already_removed" | "skipped" | "unreachable" | "refused";
  /** what went wrong at the gateway, when it did */
  gateway_error?: string;
}

/**
 * Removes the pairing on both ends: DELETE at the gateway (when signed in and reachable), then at
 * the daemon. The daemon's copy is what lets approvals be trusted, so it is removed whatever the
 * gateway says; a daemon that cannot be reached is an error (its pairing would stay).
 */
export async function unpairEverywhere(paths: AirlockPaths, creds: Credentials | null, options: { pairingId?: string | null } = {}): Promise<UnpairReport> {
  const daemon = pairingDaemon(paths);
  let pairingId: string | null = options.pairingId ?? null;
  let daemonState: UnpairReport["daemon"] = "none";
  let daemonError: unknown = null;
  try {
    const current = await daemon.pairing();
    if (current) pairingId = current.pairing_id;
  } catch (error) {
    daemonError = error;
    daemonState = "unreachable";
  }
  const report: UnpairReport = { pairing_id: pairingId, daemon: daemonState, gateway: "skipped" };
  if (pairingId !== null && creds !== null) {
    try {
      await userClient(creds).deletePairing(pairingId);
      report.gateway = "removed";
    } catch (error) {
      if (isAirlockError(error) && error.code === "not_found") report.gateway = "already_removed";
      else if (isAirlockError(error) && error.code === "unavailable") {
        report.gateway = "unreachable";
        report.gateway_error = error.message;
      } else {
        report.gateway = "refused";
        report.gateway_error = error instanceof Error ? error.message : String(error);
      }
    }
  }
  if (daemonError === null && pairingId !== null) {
    try {
      report.daemon = (await daemon.removePairing()) ? "removed" : "none";
    } catch (error) {
      daemonError = error;
      report.daemon = "unreachable";
    }
  }
  if (daemonError !== null) {
    if (report.gateway === "removed") err("airlock: the pairing was removed at the gateway, but not on this workstation's daemon\n");
    throw daemonError instanceof AirlockError ? daemonError : new AirlockError("unavailable", String(daemonError));
  }
  return report;
}

/** Where a person enters a pairing code. */
export function approverUrl(gatewayUrl: string): string {
  return `${gatewayUrl.replace(/\/+$/, "")}/approver`;
}
