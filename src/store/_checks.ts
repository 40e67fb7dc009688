/**
 * Input checks both store backends share (sqlite.ts, postgres.ts): what the store accepts, and the
 * invalid_input / conflict / not_found errors it answers with, the same whichever database is behind.
 */
import type { AuditEventType } from "../audit/events";
import { AirlockError } from "../protocol/errors";
import { SESSION_STATUSES, TOKEN_KINDS, type JsonObject, type SessionStatus, type VerdictKind } from "../protocol/records";
import type { DecisionInput, NewSession, NewToken, PageRequest, VerificationInput } from "./types";

export const MAX_PAGE = 1_000;
export const VERDICTS: readonly VerdictKind[] = ["allow", "require_approval", "block"];
export const DECISION_EVENT: Record<VerdictKind, AuditEventType> = {
  allow: "decision.allowed",
  block: "decision.blocked",
  require_approval: "decision.approval_required",
};

export function invalid(path: string, message: string): AirlockError {
  return new AirlockError("invalid_input", message, [{ path, message }]);
}

const ISO_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** A time given to the store, as the canonical `toISOString()` form (so text order is time order). */
export function isoTime(value: unknown, path: string): string {
  if (typeof value === "string" && ISO_LIKE.test(value)) {
    const t = new Date(value);
    if (!Number.isNaN(t.getTime())) return t.toISOString();
  }
  throw invalid(path, `${path} must be an ISO-8601 time`);
}

export function optionalIso(value: unknown, path: string): string | null {
  return value === undefined || value === null ? null : isoTime(value, path);
}

export function documentId(document: JsonObject, what: string): string {
  if (typeof document !== "object" || document === null || Array.isArray(document)) throw invalid("document", `a ${what} document must be a JSON object`);
  const id = document.id;
  if (typeof id !== "string" || id.length === 0) throw invalid("id", `a ${what} document needs a non-empty string id`);
  return id;
}

/** The document to store under `id` on update: its id must be absent or the same. */
export function documentFor(id: string, document: JsonObject, what: string): JsonObject {
  if (typeof document !== "object" || document === null || Array.isArray(document)) throw invalid("document", `a ${what} document must be a JSON object`);
  if (document.id === undefined) return { ...document, id };
  if (document.id !== id) throw invalid("id", `the document's id (${String(document.id)}) does not match the ${what} being updated (${id})`);
  return document;
}

export function rolePolicyIds(document: JsonObject): string[] {
  const list = document.policies;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw invalid("policies", "a role's policies must be an array of policy ids");
  list.forEach((p, i) => {
    if (typeof p !== "string" || p.length === 0) throw invalid(`policies[${i}]`, "a policy id must be a non-empty string");
  });
  return list as string[];
}

export function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

export function pageLimit(page: PageRequest): number {
  const limit = page?.limit;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw invalid("limit", `limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

export function versionCheck(kind: string, id: string, current: number, ifVersion: number | undefined): void {
  if (ifVersion !== undefined && ifVersion !== current) {
    throw new AirlockError("conflict", `${kind} ${id} is at version ${current}, not ${ifVersion}`, [{ path: "version", message: `current version is ${current}` }]);
  }
}

export function clientNotFound(clientId: string): AirlockError {
  return new AirlockError("not_found", `client ${clientId} not found`);
}

/** A new token's own fields; returns its client id (required for a client token). */
export function checkNewToken(token: NewToken): string | null {
  if (typeof token?.id !== "string" || token.id.length === 0) throw invalid("id", "a token needs a non-empty id");
  if (!(TOKEN_KINDS as readonly string[]).includes(token.kind)) throw invalid("kind", `token kind must be one of ${TOKEN_KINDS.join(", ")}`);
  if (typeof token.hash !== "string" || !/^[0-9a-f]{64}$/.test(token.hash)) throw invalid("hash", "a token hash must be SHA-256 hex");
  if (typeof token.name !== "string") throw invalid("name", "a token needs a name");
  const clientId = token.client_id ?? null;
  if (token.kind === "client" && clientId === null) throw invalid("client_id", "a client token needs its client_id");
  return clientId;
}

/** A new session's id and token hash. */
export function checkNewSession(session: NewSession): void {
  if (typeof session?.id !== "string" || session.id.length === 0) throw invalid("id", "a session needs a non-empty id");
  if (typeof session.token_hash !== "string" || !/^[0-9a-f]{64}$/.test(session.token_hash)) throw invalid("token_hash", "a session token hash must be SHA-256 hex");
}

export function checkSessionStatus(status: string): void {
  if (!(SESSION_STATUSES as readonly string[]).includes(status)) throw invalid("status", `status must be one of ${SESSION_STATUSES.join(", ")}`);
}

/** ready → running → exited, and ready or running → revoked; anything else is a conflict. */
export function checkTransition(id: string, from: SessionStatus, to: SessionStatus): void {
  const legal = (from === "ready" && to === "running") || (from === "running" && to === "exited") || ((from === "ready" || from === "running") && to === "revoked");
  if (!legal) {
    throw new AirlockError("conflict", `session ${id} cannot go from ${from} to ${to}`, [{ path: "status", message: `illegal transition ${from} → ${to}` }]);
  }
}

/** a validated decision, its time canonical and `normalized` as the JSON text stored */
export interface ValidDecision {
  d: DecisionInput;
  decidedAt: string;
  normalized: string;
}

/**
 * Checks a batch before any transaction: a bad batch changes nothing. With `text`, each string field
 * of a decision is passed through it (on a copy) to make it storable.
 */
export function validDecisions(decisions: DecisionInput[], text?: (s: string) => string): ValidDecision[] {
  if (!Array.isArray(decisions)) throw invalid("decisions", "decisions must be an array");
  // a batch's decisions often share their decided_at: the last one's normalized form is reused
  // for the same text (the same string always normalizes to the same time)
  let lastAt: unknown;
  let lastIso = "";
  return decisions.map((raw, i): ValidDecision => {
    const at = (field: string) => `[${i}].${field}`;
    if (typeof raw?.id !== "string" || raw.id.length === 0) throw invalid(at("id"), "a decision needs a non-empty id");
    if (!VERDICTS.includes(raw.verdict)) throw invalid(at("verdict"), `verdict must be one of ${VERDICTS.join(", ")}`);
    if (typeof raw.command !== "string") throw invalid(at("command"), "command must be a string");
    if (!Array.isArray(raw.normalized)) throw invalid(at("normalized"), "normalized must be an array of strings");
    let d = raw;
    if (text) {
      d = { ...raw } as DecisionInput;
      for (const key of Object.keys(d) as (keyof DecisionInput)[]) {
        const v = d[key];
        if (typeof v === "string") (d as unknown as Record<string, unknown>)[key] = text(v);
      }
    }
    if (raw.decided_at !== lastAt || typeof lastAt !== "string") {
      lastIso = isoTime(raw.decided_at, at("decided_at"));
      lastAt = raw.decided_at;
    }
    return { d, decidedAt: lastIso, normalized: JSON.stringify(raw.normalized) };
  });
}

/** An approval's verification result as the daemon reports it. */
export function checkVerification(result: VerificationInput): void {
  if (typeof result?.ok !== "boolean") throw invalid("ok", "ok must be true or false");
  if (typeof result.reason !== "string") throw invalid("reason", "reason must be a string");
  for (const key of ["verify_ms", "total_ms"] as const) {
    if (typeof result[key] !== "number" || !Number.isFinite(result[key]) || result[key] < 0) throw invalid(key, `${key} must be a non-negative number`);
  }
}
