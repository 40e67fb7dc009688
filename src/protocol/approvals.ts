/**
 * Wire schemas of sign-in (device flow), pairing and approvals (docs/approvals.md), shared by the
 * gateway, the daemon, the CLI, the headless approver and the browser approver.
 */
import * as v from "valibot";

const NonEmpty = (max = 256) => v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"), v.maxLength(max, `must be at most ${max} characters`));
const IsoTime = v.pipe(v.string("must be a string"), v.isoTimestamp("must be an ISO-8601 timestamp"));
const Id = v.pipe(v.string("must be a string"), v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be 1-128 characters of letters, digits, '.', '_', ':', '-'"));

/** base64url without padding, of exactly `bytes` bytes when given */
export const B64u = (bytes?: number, max = 1 << 16) =>
  v.pipe(
    v.string("must be a string"),
    v.maxLength(max, `must be at most ${max} characters`),
    v.regex(/^[A-Za-z0-9_-]*$/, "must be base64url (A-Z a-z 0-9 - _, no padding)"),
    v.check((s) => bytes === undefined || s.length === Math.ceil((bytes * 4) / 3), `must encode exactly ${bytes ?? 0} bytes`),
  );

/** the alphabet of pairing codes, user codes and fingerprints: no 0/O, 1/I/L */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CodeChars = (n: number) => new RegExp(`^[${CODE_ALPHABET}]{${n}}$`);

/** a pairing code as typed by a person: case, spaces and dashes do not matter */
export const PairingCodeInput = v.pipe(
  v.string("must be a string"),
  v.maxLength(32, "must be at most 32 characters"),
  v.transform((s) => s.toUpperCase().replace(/[\s-]/g, "")),
  v.regex(CodeChars(6), `must be 6 characters of ${CODE_ALPHABET}`),
);
/** a device-flow user code as typed: `ABCD-EFGH`, case, spaces and dashes do not matter */
export const UserCodeInput = v.pipe(
  v.string("must be a string"),
  v.maxLength(32, "must be at most 32 characters"),
  v.transform((s) => s.toUpperCase().replace(/[\s-]/g, "")),
  v.regex(CodeChars(8), `must be 8 characters of ${CODE_ALPHABET}`),
);

export const PublicKeys = v.strictObject({ sign_key: B64u(32), box_key: B64u(32) });
export type PublicKeys = v.InferOutput<typeof PublicKeys>;

// ------------------------------------------------------------------ device flow (RFC 8628 shape)

export const DeviceStartBody = v.strictObject({ client_name: v.optional(NonEmpty(128)) });
export interface DeviceStartResponse {
  device_code: string;
  /** shown as ABCD-EFGH */
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}
export const DeviceTokenBody = v.strictObject({ device_code: NonEmpty(128) });
export interface DeviceTokenResponse {
  access_token: string;
  token_type: "Bearer";
  /** the actor the token acts as, e.g. `user:alice` */
  user: string;
}
export const DeviceApproveBody = v.strictObject({ user_code: UserCodeInput, approve: v.boolean("must be true or false") });
export const DEVICE_STATUSES = ["pending", "approved", "denied", "expired", "used"] as const;
export interface DeviceRequestRecord {
  user_code: string;
  client_name: string | null;
  status: (typeof DEVICE_STATUSES)[number];
  created_at: string;
  expires_at: string;
}

// ------------------------------------------------------------------ pairing

export const PAIRING_STATUSES = ["pending", "paired", "removed"] as const;
export type PairingStatus = (typeof PAIRING_STATUSES)[number];

export interface PairingRecord {
  id: string;
  status: PairingStatus;
  client_id: string;
  /** the signed-in user who paired (`user:alice`) */
  user: string;
  label: string | null;
  approver_label: string | null;
  daemon: PublicKeys;
  approver: PublicKeys | null;
  created_at: string;
  paired_at: string | null;
  removed_at: string | null;
  /** an approver socket of this pairing is connected right now */
  approver_online: boolean;
}

export const CreatePairingBody = v.strictObject({ client_id: Id, daemon: PublicKeys, label: v.optional(NonEmpty(128)) });
export interface CreatePairingResponse {
  pairing: PairingRecord;
  code: string;
  expires_at: string;
}
export const PairingListQuery = v.strictObject({
  status: v.optional(v.picklist(PAIRING_STATUSES, `must be one of ${PAIRING_STATUSES.join(", ")}`)),
  client_id: v.optional(Id),
});
export const ClaimPairingBody = v.strictObject({ code: PairingCodeInput, approver: PublicKeys, label: v.optional(NonEmpty(128)) });
export interface ClaimPairingResponse {
  pairing: PairingRecord;
  approver_token: string;
}

// ------------------------------------------------------------------ approvals

export const APPROVAL_STATUSES = ["pending", "approved", "denied", "expired"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** the sealed action: see docs/approvals.md, Approval request envelope */
export const Envelope = v.strictObject({
  v: v.literal(1, "must be 1"),
  epk: B64u(32),
  iv: B64u(12),
  ct: B64u(undefined, 65536),
  sig: B64u(64),
});
export type Envelope = v.InferOutput<typeof Envelope>;

export const CreateApprovalBody = v.strictObject({
  id: Id,
  pairing_id: Id,
  session_id: v.nullable(Id),
  expires_at: IsoTime,
  envelope: Envelope,
});

/** `payload` is the canonical JSON the approver signed, kept verbatim */
export const SignedDecisionSchema = v.strictObject({ payload: NonEmpty(2048), sig: B64u(64) });
export type SignedDecision = v.InferOutput<typeof SignedDecisionSchema>;

export interface ApprovalRecord {
  id: string;
  pairing_id: string;
  client_id: string;
  session_id: string | null;
  status: ApprovalStatus;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  envelope: Envelope;
  decision: SignedDecision | null;
  /** the daemon's verifier result, once reported */
  verification: { ok: boolean; reason: string; verify_ms: number; total_ms: number; at: string } | null;
}

export const ApprovalListQuery = v.strictObject({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,3}$/, "must be a whole number"), v.transform(Number), v.minValue(1, "must be at least 1"), v.maxValue(500, "must be at most 500")), "50"),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512, "is too long"))),
  status: v.optional(v.picklist(APPROVAL_STATUSES, `must be one of ${APPROVAL_STATUSES.join(", ")}`)),
  pairing_id: v.optional(Id),
});
export const ApprovalWaitQuery = v.strictObject({
  wait: v.optional(v.pipe(v.string(), v.regex(/^\d{1,2}$/, "must be a whole number of seconds"), v.transform(Number), v.maxValue(30, "must be at most 30")), "0"),
});
export const VerificationBody = v.strictObject({
  ok: v.boolean("must be true or false"),
  reason: NonEmpty(512),
  verify_ms: v.pipe(v.number("must be a number"), v.minValue(0, "must not be negative")),
  total_ms: v.pipe(v.number("must be a number"), v.minValue(0, "must not be negative")),
});

/** approver WebSocket messages (GET /api/v1/approver/ws) */
export const ApproverClientMessage = v.variant("type", [
  v.strictObject({ type: v.literal("auth"), token: NonEmpty(256) }),
  v.strictObject({ type: v.literal("ping") }),
]);
export type ApproverServerMessage =
  | { type: "ready"; pairing: PairingRecord; pending: ApprovalRecord[] }
  | { type: "request"; approval: ApprovalRecord }
  | { type: "resolved"; id: string; status: ApprovalStatus }
  | { type: "unpaired"; pairing_id: string }
  | { type: "pong" }
  | { type: "error"; code: string; message: string };

// ------------------------------------------------------------------ the action and the decision (signed content)

export const DECISION_VALUES = ["approve", "deny"] as const;
export type DecisionValue = (typeof DECISION_VALUES)[number];

/** what the human sees and what the signature is bound to (hashed as canonical JSON) */
export const ApprovalAction = v.strictObject({
  v: v.literal(1),
  request_id: Id,
  command: NonEmpty(65536),
  cwd: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
  agent: v.nullable(NonEmpty(128)),
  session_id: v.nullable(Id),
  role: v.nullable(NonEmpty(128)),
  tool: v.nullable(NonEmpty(256)),
  policy: v.nullable(NonEmpty(128)),
  rule: v.nullable(NonEmpty(256)),
  reason: v.pipe(v.string(), v.maxLength(4096)),
  host: v.nullable(NonEmpty(256)),
  requested_at: IsoTime,
  expires_at: IsoTime,
});
export type ApprovalAction = v.InferOutput<typeof ApprovalAction>;

/** the signed decision's payload, parsed strictly by the verifier */
export const DecisionPayload = v.strictObject({
  domain: v.literal("airlock.approval-decision.v1"),
  v: v.literal(1),
  request_id: Id,
  decision: v.picklist(DECISION_VALUES),
  action_hash: B64u(32),
  expires_at: IsoTime,
  nonce: B64u(16),
  decided_at: IsoTime,
});
export type DecisionPayload = v.InferOutput<typeof DecisionPayload>;

export const VERIFY_FAILURES = ["malformed", "wrong_request", "action_mismatch", "expired", "replayed", "bad_signature", "unpaired"] as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[number];

// ------------------------------------------------------------------ daemon socket (docs/approvals.md, Daemon socket API)

export const WaitApprovalRequest = v.strictObject({
  timeout_ms: v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(0, "must not be negative"), v.maxValue(600_000, "must be at most 600000")),
});
export const WAIT_OUTCOMES = ["approved", "denied", "pending", "expired", "rejected", "unavailable"] as const;
export interface WaitApprovalResponse {
  status: (typeof WAIT_OUTCOMES)[number];
  reason: string;
}
export const StorePairingRequest = v.strictObject({ pairing_id: Id, approver: PublicKeys, fingerprint: NonEmpty(32), label: v.optional(v.nullable(NonEmpty(128))) });
export interface DaemonIdentity {
  client_id: string | null;
  keys: PublicKeys;
}
export interface DaemonPairing {
  pairing_id: string;
  approver: PublicKeys;
  fingerprint: string;
  label: string | null;
  paired_at: string;
}
