/**
 * The details of the audit events both store backends append (sqlite.ts, postgres.ts), built in one
 * place so the two record the same fields.
 */
import type { PublicKeys } from "../protocol/approvals";
import type { TokenRecord } from "../protocol/records";
import type { NewClient, NewSession, VerificationInput } from "./types";

/** token.created / client.enrollment_token.created */
export function tokenCreatedDetails(record: TokenRecord): Record<string, unknown> {
  return { kind: record.kind, name: record.name, client_id: record.client_id, expires_at: record.expires_at };
}

/** session.created */
export function sessionCreatedDetails(session: NewSession, clientId: string | null): Record<string, unknown> {
  return {
    agent: session.agent,
    role: session.role,
    user: session.user,
    host: session.host,
    cwd: session.cwd,
    pid: session.pid ?? null,
    client_id: clientId,
  };
}

/** client.enrolled */
export function clientEnrolledDetails(client: NewClient, enrollmentId: string, tokenId: string): Record<string, unknown> {
  return {
    name: client.name,
    hostname: client.hostname,
    user: client.user,
    version: client.version,
    enrollment_token: enrollmentId,
    token: tokenId,
  };
}

/** pairing.claimed */
export function pairingClaimedDetails(
  row: { client_id: string; user: string },
  claim: { approver: PublicKeys; label: string | null },
  tokenId: string,
): Record<string, unknown> {
  return {
    client_id: row.client_id,
    user: row.user,
    approver_label: claim.label ?? null,
    approver: { sign_key: claim.approver.sign_key, box_key: claim.approver.box_key },
    token: tokenId,
  };
}

/** approval.verified / approval.rejected */
export function verificationDetails(row: { pairing_id: string; client_id: string; status: string }, result: VerificationInput): Record<string, unknown> {
  return {
    pairing_id: row.pairing_id,
    client_id: row.client_id,
    status: row.status,
    reason: result.reason,
    verify_ms: result.verify_ms,
    total_ms: result.total_ms,
  };
}
