/**
 * Records as the gateway API returns them (wire version v1). Policy and role documents are the
 * JSON of DESIGN 3; the policy engine validates them (src/policy/schema.ts) before they are stored.
 */

export type JsonObject = { [key: string]: unknown };

export type VerdictKind = "allow" | "require_approval" | "block";

export const SESSION_STATUSES = ["ready", "running", "exited", "revoked"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** `user`: from sign-in (device flow); `approver`: from claiming a pairing code, bound to that pairing */
export const TOKEN_KINDS = ["admin", "viewer", "client", "enrollment", "user", "approver"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface PolicyRecord {
  id: string;
  version: number;
  /** the policy document (DESIGN 3), including id, name, status */
  document: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface RoleRecord {
  id: string;
  version: number;
  /** the role document (DESIGN 3): id, name, description, policies, default_action */
  document: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface TokenRecord {
  id: string;
  kind: TokenKind;
  name: string;
  /** the client a client token belongs to */
  client_id: string | null;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** enrollment tokens: when it was used (single use) */
  used_at: string | null;
  revoked_at: string | null;
}

export interface ClientRecord {
  id: string;
  name: string;
  hostname: string;
  user: string;
  version: string;
  created_at: string;
  last_seen_at: string | null;
  revoked_at: string | null;
}

export interface SessionRecord {
  id: string;
  client_id: string | null;
  agent: string;
  role: string;
  user: string;
  host: string;
  cwd: string;
  pid: number | null;
  status: SessionStatus;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  revoked_by: string | null;
}

export interface DecisionRecord {
  /** chosen by the deciding client (idempotency key) */
  id: string;
  client_id: string | null;
  session_id: string | null;
  role: string | null;
  agent: string | null;
  /** executable basename of the deciding command, if any */
  tool: string | null;
  /** the command as given (argv joined, or the shell string) */
  command: string;
  normalized: string[];
  verdict: VerdictKind;
  policy: string | null;
  rule: string | null;
  pattern: string | null;
  reason: string;
  /** where it was decided: shim, hook, check, gateway */
  source: string;
  cwd: string | null;
  decided_at: string;
  received_at: string;
}

export interface AuditEventRecord {
  seq: number;
  id: string;
  type: string;
  code: string;
  actor: string;
  target: string;
  details: JsonObject;
  created_at: string;
  prev_hash: string;
  hash: string;
}

export interface Page<T> {
  items: T[];
  /** pass back as `cursor` for the next page; null on the last page */
  next_cursor: string | null;
}
