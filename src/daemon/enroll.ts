/**
 * Enrollment: a one-time enrollment token (from an admin) is exchanged at
 * `POST /api/v1/clients/enroll` for this workstation's own client credential, stored in
 * daemon.db (mode 0600). A running daemon notices the new row within a second and starts syncing;
 * a daemon started later reads it at start. Enrolling again replaces the previous credential (and
 * forgets its change-feed cursor and cached bundles, which belonged to the old gateway).
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { VERSION } from "../config/version";
import { openDaemonDb, type EnrollmentRow } from "./db";
import { requestEnrollment } from "./gateway-api";
import { localUser } from "./identity";

export interface EnrollOptions {
  gatewayUrl: string;
  /** the one-time enrollment token */
  token: string;
  /** AIRLOCK_HOME */
  home: string;
  /** the client's name at the gateway (default: the host name) */
  name?: string;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
}

export type PublicEnrollment = Omit<EnrollmentRow, "client_token">;

export interface EnrollResult {
  gateway_url: string;
  client_id: string;
  name: string;
  /** the enrollment this one replaced, if any */
  previous: PublicEnrollment | null;
}

function hide(row: EnrollmentRow | null): PublicEnrollment | null {
  if (!row) return null;
  const { client_token: _secret, ...rest } = row;
  return rest;
}

export async function enrollClient(options: EnrollOptions): Promise<EnrollResult> {
  const user = localUser();
  const host = hostname() || "localhost";
  const name = options.name ?? host;
  const answer = await requestEnrollment({
    baseUrl: options.gatewayUrl,
    enrollmentToken: options.token,
    body: { name, hostname: host, user, version: VERSION },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const db = openDaemonDb(join(options.home, "daemon.db"), options.now ? { now: options.now } : {});
  try {
    const previous = hide(db.enrollment());
    db.setEnrollment({ gateway_url: answer.baseUrl, client_id: answer.client.id, client_token: answer.token, name });
    return { gateway_url: answer.baseUrl, client_id: answer.client.id, name, previous };
  } finally {
    db.close();
  }
}

/** The stored enrollment without its secret; null when not enrolled (daemon.db is not created). */
export function readEnrollment(home: string): PublicEnrollment | null {
  const path = join(home, "daemon.db");
  if (!existsSync(path)) return null;
  const db = openDaemonDb(path);
  try {
    return hide(db.enrollment());
  } finally {
    db.close();
  }
}
