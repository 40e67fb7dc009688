/**
 * Rows of the sign-in, pairing and approval tables (migration 2) and their records, for sqlite.ts.
 * An approval row holds ids, times, status, the envelope (ciphertext) and the signed decision:
 * nothing here ever sees an action in clear.
 */
import type { ApprovalRecord, Envelope, PairingRecord } from "../protocol/approvals";
import type { DeviceRequest, StoredPairing } from "./types";

export interface DeviceRow {
  rid: number;
  id: string;
  device_hash: string;
  user_code: string;
  client_name: string | null;
  status: DeviceRequest["status"];
  interval: number;
  created_at: string;
  expires_at: string;
  last_polled_at: string | null;
  decided_at: string | null;
  decided_by: string | null;
  user: string | null;
  token_id: string | null;
}
export const DEVICE_COLS = "rid, id, device_hash, user_code, client_name, status, interval, created_at, expires_at, last_polled_at, decided_at, decided_by, user, token_id";

/** still waiting for a person or a poll, and past its expiry */
export function deviceExpired(r: DeviceRow, now: string): boolean {
  return (r.status === "pending" || r.status === "approved") && r.expires_at <= now;
}

export function deviceRequest(r: DeviceRow, now: string): DeviceRequest {
  return {
    id: r.id,
    user_code: r.user_code,
    client_name: r.client_name,
    status: deviceExpired(r, now) ? "expired" : r.status,
    created_at: r.created_at,
    expires_at: r.expires_at,
    interval: r.interval,
    decided_at: r.decided_at,
    decided_by: r.decided_by,
    user: r.user,
  };
}

/** a pairing's row: the record's plain columns, the keys one column each, the code while it can be claimed */
export interface PairingRow extends Pick<PairingRecord, "id" | "status" | "client_id" | "user" | "label" | "approver_label" | "created_at" | "paired_at" | "removed_at"> {
  rid: number;
  daemon_sign_key: string;
  daemon_box_key: string;
  approver_sign_key: string | null;
  approver_box_key: string | null;
  code_hash: string | null;
  code_expires_at: string | null;
  removed_by: string | null;
}
export const PAIRING_COLS =
  "rid, id, status, client_id, user, label, approver_label, daemon_sign_key, daemon_box_key, approver_sign_key, approver_box_key, code_hash, code_expires_at, created_at, paired_at, removed_at, removed_by";

export function pairingRecord(r: PairingRow): StoredPairing {
  return {
    id: r.id,
    status: r.status,
    client_id: r.client_id,
    user: r.user,
    label: r.label,
    approver_label: r.approver_label,
    daemon: { sign_key: r.daemon_sign_key, box_key: r.daemon_box_key },
    approver: r.approver_sign_key !== null && r.approver_box_key !== null ? { sign_key: r.approver_sign_key, box_key: r.approver_box_key } : null,
    created_at: r.created_at,
    paired_at: r.paired_at,
    removed_at: r.removed_at,
  };
}

/** an approval's row: the record's plain columns, the envelope, decision and verification as text */
export interface ApprovalRow extends Pick<ApprovalRecord, "id" | "pairing_id" | "client_id" | "session_id" | "status" | "created_at" | "expires_at" | "decided_at"> {
  rid: number;
  decided_by: string | null;
  envelope: string;
  decision_payload: string | null;
  decision_sig: string | null;
  verification: string | null;
}
export const APPROVAL_COLS =
  "rid, id, pairing_id, client_id, session_id, status, created_at, expires_at, decided_at, decided_by, envelope, decision_payload, decision_sig, verification";

export function approvalRecord(r: ApprovalRow): ApprovalRecord {
  return {
    id: r.id,
    pairing_id: r.pairing_id,
    client_id: r.client_id,
    session_id: r.session_id,
    status: r.status,
    created_at: r.created_at,
    expires_at: r.expires_at,
    decided_at: r.decided_at,
    envelope: JSON.parse(r.envelope) as Envelope,
    decision: r.decision_payload !== null && r.decision_sig !== null ? { payload: r.decision_payload, sig: r.decision_sig } : null,
    verification: r.verification === null ? null : (JSON.parse(r.verification) as ApprovalRecord["verification"]),
  };
}

/** the envelope as stored: its five fields in a fixed order, whatever the input's order */
export function envelopeJson(e: Envelope): string {
  return JSON.stringify({ v: e.v, epk: e.epk, iv: e.iv, ct: e.ct, sig: e.sig });
}

/** A poll of a pending sign-in: `slow_down` (the interval grows by 5 s) when it came sooner than the interval allows. */
export function pendingPoll(row: Pick<DeviceRow, "last_polled_at" | "interval">, now: string): { status: "slow_down" | "pending"; interval: number } {
  const tooSoon = row.last_polled_at !== null && Date.parse(now) - Date.parse(row.last_polled_at) < row.interval * 1000;
  return { status: tooSoon ? "slow_down" : "pending", interval: tooSoon ? row.interval + 5 : row.interval };
}
