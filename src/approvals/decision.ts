/**
 * Signed decisions (docs/approvals.md, Signed decision): the approver signs the canonical JSON of
 * `{request id, decision, action hash, expiry, nonce}` with Ed25519; the daemon accepts it only
 * for the pending request, the exact action, before expiry, once, under the paired key.
 */
import * as v from "valibot";
import { DecisionPayload, type DecisionValue, type SignedDecision, type VerifyFailure } from "../protocol/approvals";
import { ApprovalCryptoError, b64u, canonicalJson, fromB64u, randomBytes, utf8 } from "./encoding";
import { importSignPublic } from "./keys";

export const DECISION_DOMAIN = "airlock.approval-decision.v1";

/**
 * The approver's answer. `expires_at` is the request's expiry (the decision's is the earlier of it
 * and `now + ttlMs`, default 5 minutes).
 */
export async function signDecision(input: {
  request_id: string;
  action_hash: string;
  expires_at: string;
  decision: DecisionValue;
  approverSign: CryptoKey;
  now?: Date;
  ttlMs?: number;
  /** known-answer tests only */
  nonce?: Uint8Array;
}): Promise<SignedDecision> {
  const now = input.now ?? new Date();
  const expires = Math.min(Date.parse(input.expires_at), now.getTime() + (input.ttlMs ?? 5 * 60_000));
  if (!Number.isFinite(expires)) throw new ApprovalCryptoError("malformed", "expires_at must be an ISO-8601 time");
  const payload: DecisionPayload = {
    domain: DECISION_DOMAIN,
    v: 1,
    request_id: input.request_id,
    decision: input.decision,
    action_hash: input.action_hash,
    expires_at: new Date(expires).toISOString(),
    nonce: b64u(input.nonce ?? randomBytes(16)),
    decided_at: now.toISOString(),
  };
  const text = canonicalJson(payload);
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, input.approverSign, utf8(text));
  return { payload: text, sig: b64u(sig) };
}

export type VerifyResult =
  | { ok: true; decision: DecisionValue; payload: DecisionPayload }
  | { ok: false; reason: VerifyFailure; message: string };

const fail = (reason: VerifyFailure, message: string): VerifyResult => ({ ok: false, reason, message });

/**
 * The daemon's check of a signed decision, in an order that never trusts unsigned content: the
 * signature under the paired key first, then the request, the action, the expiry and replay.
 * `seen(request_id, nonce)` answers whether either was already used (the caller records them
 * after an `ok`). `approverSignKey: null` = no pairing → `unpaired`.
 */
export async function verifyDecision(
  signed: SignedDecision,
  expect: { request_id: string; action_hash: string; approverSignKey: string | null; now: Date; seen: (request_id: string, nonce: string) => boolean },
): Promise<VerifyResult> {
  if (expect.approverSignKey === null) return fail("unpaired", "no approver is paired with this workstation");
  if (typeof signed?.payload !== "string" || typeof signed?.sig !== "string") return fail("malformed", "a signed decision is {payload, sig}");
  let key: CryptoKey;
  let sig: Uint8Array<ArrayBuffer>;
  try {
    key = await importSignPublic(expect.approverSignKey);
    sig = fromB64u(signed.sig);
  } catch (error) {
    return fail("malformed", (error as Error).message);
  }
  if (sig.length !== 64) return fail("malformed", "an Ed25519 signature is 64 bytes");
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify({ name: "Ed25519" }, key, sig, utf8(signed.payload));
  } catch {
    valid = false;
  }
  if (!valid) return fail("bad_signature", "the decision is not signed by the paired approver");
  let json: unknown;
  try {
    json = JSON.parse(signed.payload);
  } catch {
    return fail("malformed", "the decision payload is not JSON");
  }
  const parsed = v.safeParse(DecisionPayload, json);
  if (!parsed.success) return fail("malformed", `the decision payload is invalid: ${(parsed.issues[0].path ?? []).map((p) => String(p.key)).join(".")} ${parsed.issues[0].message}`);
  const payload = parsed.output;
  if (canonicalJson(payload) !== signed.payload) return fail("malformed", "the decision payload is not canonical JSON");
  if (payload.request_id !== expect.request_id) return fail("wrong_request", `the decision answers request ${payload.request_id}, not ${expect.request_id}`);
  if (payload.action_hash !== expect.action_hash) return fail("action_mismatch", "the decision was signed for a different action");
  if (Date.parse(payload.expires_at) <= expect.now.getTime()) return fail("expired", `the decision expired at ${payload.expires_at}`);
  if (expect.seen(payload.request_id, payload.nonce)) return fail("replayed", "this decision was already used");
  return { ok: true, decision: payload.decision, payload };
}
