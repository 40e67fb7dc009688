/**
 * Rows to records, for both store backends (sqlite.ts, postgres.ts). A row's integer columns may
 * arrive as strings (PostgreSQL's BIGINT): each mapper makes them numbers.
 */
import { canonicalJson } from "../audit/canonical";
import type { AuditEvent } from "../audit/chain";
import type { DecisionRecord, JsonObject, PolicyRecord, RoleRecord, SessionRecord, TokenRecord } from "../protocol/records";
import { sha256Hex } from "./_hash";
import type { RoleBundle } from "./types";

type Int = number | string;

export interface TokenRow extends TokenRecord {
  hash: string;
}
export interface DocRow {
  id: string;
  version: number;
  document: string;
  created_at: string;
  updated_at: string;
}

export const TOKEN_COLS = "id, kind, name, hash, client_id, created_at, created_by, expires_at, last_used_at, used_at, revoked_at";
export const DECISION_COLS = "rid, id, client_id, session_id, role, agent, tool, command, normalized, verdict, policy, rule, pattern, reason, source, cwd, decided_at, received_at";
export const AUDIT_COLS = "seq, id, type, code, actor, target, details, created_at, prev_hash, hash";

export function tokenRecord(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    client_id: r.client_id,
    created_at: r.created_at,
    created_by: r.created_by,
    expires_at: r.expires_at,
    last_used_at: r.last_used_at,
    used_at: r.used_at,
    revoked_at: r.revoked_at,
  };
}

export function docRecord(r: DocRow): PolicyRecord & RoleRecord {
  return { id: r.id, version: Number(r.version), document: JSON.parse(r.document) as JsonObject, created_at: r.created_at, updated_at: r.updated_at };
}

export function sessionRecord(r: Omit<SessionRecord, "pid" | "exit_code"> & { pid: Int | null; exit_code: Int | null }): SessionRecord {
  return {
    id: r.id,
    client_id: r.client_id,
    agent: r.agent,
    role: r.role,
    user: r.user,
    host: r.host,
    cwd: r.cwd,
    pid: r.pid === null ? null : Number(r.pid),
    status: r.status,
    created_at: r.created_at,
    updated_at: r.updated_at,
    started_at: r.started_at,
    ended_at: r.ended_at,
    exit_code: r.exit_code === null ? null : Number(r.exit_code),
    revoked_by: r.revoked_by,
  };
}

export function decisionRecord(r: Omit<DecisionRecord, "normalized"> & { normalized: string }): DecisionRecord {
  return {
    id: r.id,
    client_id: r.client_id,
    session_id: r.session_id,
    role: r.role,
    agent: r.agent,
    tool: r.tool,
    command: r.command,
    normalized: JSON.parse(r.normalized) as string[],
    verdict: r.verdict,
    policy: r.policy,
    rule: r.rule,
    pattern: r.pattern,
    reason: r.reason,
    source: r.source,
    cwd: r.cwd,
    decided_at: r.decided_at,
    received_at: r.received_at,
  };
}

export function auditEvent(r: Omit<AuditEvent, "details" | "seq"> & { seq: Int; details: string }): AuditEvent {
  return {
    seq: Number(r.seq),
    id: r.id,
    type: r.type,
    code: r.code,
    actor: r.actor,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
    created_at: r.created_at,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

/** role bundle ETags remembered */
const ETAG_MEMO = 256;

/**
 * A role and its policies from the rows `[role, ...policies]` (one snapshot), with the bundle's ETag.
 * The ETag is content-addressed: any change to the role or an attached policy (versions, times,
 * documents) changes it; nothing else does, and a recreated role never reuses an old one. The
 * records are a pure function of the rows' text, so the hash is remembered in `etags` by that text
 * (a check asks for the bundle on every call; its canonical JSON and hash cost ~0.5 ms).
 */
export function roleBundle(rows: readonly DocRow[], etags: Map<string, string>): RoleBundle {
  const role = docRecord(rows[0]!);
  const policies = rows.slice(1).map(docRecord);
  const key = JSON.stringify(rows.map((r) => [r.id, Number(r.version), r.created_at, r.updated_at, r.document]));
  let etag = etags.get(key);
  if (etag === undefined) {
    etag = sha256Hex(canonicalJson({ role, policies }));
    if (etags.size >= ETAG_MEMO) etags.clear();
    etags.set(key, etag);
  }
  return { role, policies, etag };
}
