/**
 * The audit event registry: every event has a dotted type and a stable numeric code (like
 * Teleport's). Codes never change meaning once released; a test keeps them unique.
 */
export const AUDIT_EVENTS = {
  "store.initialized": "AL0001",
  "token.created": "AL0101",
  "token.revoked": "AL0102",
  "policy.created": "AL0201",
  "policy.updated": "AL0202",
  "policy.deleted": "AL0203",
  "role.created": "AL0301",
  "role.updated": "AL0302",
  "role.deleted": "AL0303",
  "client.enrollment_token.created": "AL0401",
  "client.enrolled": "AL0402",
  "client.revoked": "AL0403",
  "session.created": "AL0501",
  "session.started": "AL0502",
  "session.exited": "AL0503",
  "session.revoked": "AL0504",
  "decision.allowed": "AL0601",
  "decision.blocked": "AL0602",
  "decision.approval_required": "AL0603",
  "auth.device_started": "AL0701",
  "auth.device_approved": "AL0702",
  "auth.device_denied": "AL0703",
  "pairing.created": "AL0801",
  "pairing.claimed": "AL0802",
  "pairing.removed": "AL0803",
  "approval.requested": "AL0901",
  "approval.approved": "AL0902",
  "approval.denied": "AL0903",
  "approval.expired": "AL0904",
  "approval.verified": "AL0905",
  "approval.rejected": "AL0906",
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENTS;
export type AuditEventCode = (typeof AUDIT_EVENTS)[AuditEventType];

export function auditCode(type: AuditEventType): AuditEventCode {
  return AUDIT_EVENTS[type];
}

export function isAuditEventType(value: string): value is AuditEventType {
  return Object.hasOwn(AUDIT_EVENTS, value);
}

/** Who did it: `admin:<token id>`, `client:<client id>`, `session:<id>`, `system`. */
export type Actor = string;

/** What an event is about: `policy:<id>`, `session:<id>`, ... */
export type Target = string;
