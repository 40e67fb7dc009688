/**
 * The tamper-evident audit chain (DESIGN 6): each event carries `prev_hash` and
 * `hash = SHA-256(prev_hash + "\n" + canonical JSON of the event without its hash)`. `seq` is part
 * of the hashed content and gapless, so an edit, a removal or an insertion breaks the chain at a
 * nameable event; the store also keeps the chain's head, so removing the newest events is seen too.
 *
 * Pure: the SHA-256 function is passed in (the store uses the runtime's BoringSSL hasher, which is
 * synchronous so the hash is computed inside the same database transaction as the state change).
 */
import { canonicalJson, canonicalString } from "./canonical";
import type { AuditEventType } from "./events";

/** SHA-256 of a UTF-8 string, as lowercase hex. */
export type Sha256Hex = (data: string) => string;

export const GENESIS_HASH = "0".repeat(64);

/** a hash as the chain writes it, and an id as the store makes them: canonical JSON writes such strings as they are */
const HEX = /^[0-9a-f]*$/;
const UUID_LIKE = /^[0-9a-f-]*$/;

export interface AuditEventBody {
  seq: number;
  id: string;
  type: AuditEventType;
  code: string;
  actor: string;
  target: string;
  details: Record<string, unknown>;
  /** ISO-8601 UTC */
  created_at: string;
  prev_hash: string;
}

export interface AuditEvent extends AuditEventBody {
  hash: string;
}

export function hashEvent(body: AuditEventBody, sha256: Sha256Hex): string {
  const { seq, id, type, code, actor, target, details, created_at, prev_hash } = body;
  return sha256(`${prev_hash}\n${canonicalJson({ seq, id, type, code, actor, target, details, created_at, prev_hash })}`);
}

/** canonicalJson of one member: strings directly, anything else through canonicalJson. */
function member(value: unknown): string {
  return typeof value === "string" ? canonicalString(value) : canonicalJson(value);
}

/**
 * `hashEvent` without canonicalJson's generic walk: the members are written in their canonical
 * (code-unit) order, and `canonicalDetails`, canonicalJson of `body.details` when the caller has it
 * already (the store renders a decision event's details itself), is spliced in. The hashed text is byte-identical, so the hash
 * is `hashEvent`'s for every event (test/audit/fast-hash.test.ts holds them equal); an event with
 * an undefined member (which canonicalJson drops) goes through `hashEvent` itself.
 */
export function hashEventFast(body: AuditEventBody, sha256: Sha256Hex, canonicalDetails?: string): string {
  const { seq, id, type, code, actor, target, details, created_at, prev_hash } = body;
  if (seq === undefined || id === undefined || type === undefined || code === undefined || actor === undefined || target === undefined || details === undefined || created_at === undefined || prev_hash === undefined) {
    return hashEvent(body, sha256);
  }
  const rendered = canonicalDetails ?? canonicalJson(details);
  if (!Number.isSafeInteger(seq) || typeof created_at !== "string" || typeof prev_hash !== "string" || !HEX.test(prev_hash) || typeof id !== "string" || !UUID_LIKE.test(id)) {
    return sha256(
      `${prev_hash}\n{"actor":${member(actor)},"code":${member(code)},"created_at":${member(created_at)},"details":${rendered},"id":${member(id)},"prev_hash":${member(prev_hash)},"seq":${member(seq)},"target":${member(target)},"type":${member(type)}}`,
    );
  }
  return sha256(chainedEventText(eventTextParts({ type, code, actor, target }), seq, canonicalJson(created_at), prev_hash, rendered, id));
}

/**
 * The hashed text of an event, split around what is rendered per event or decided by the chain's
 * head: `[before, after]`, canonical JSON of the members before `created_at` (actor, code) and after
 * `seq` (target, type). An event's `details` and `id` and the head's `created_at`, `prev_hash` and
 * `seq` are joined in by `chainedEventText`. The store renders these outside the transaction (on
 * the request thread), its writer thread only joins them.
 */
export function eventTextParts(event: { type: unknown; code: unknown; actor: unknown; target: unknown }): [string, string] {
  return [`{"actor":${member(event.actor)},"code":${member(event.code)},"created_at":`, eventTextAfter(event)];
}

/** `eventTextParts(event)[1]` alone */
export function eventTextAfter(event: { type: unknown; target: unknown }): string {
  return `,"target":${member(event.target)},"type":${member(event.type)}}`;
}

/**
 * `prev_hash + "\n" + canonicalJson(event)` from `eventTextParts`, the event's `seq` (a safe
 * integer), its `created_at` as canonical JSON, `prevHash` (lowercase hex: canonical JSON writes
 * it as it is), its details as canonical JSON and its `id`, a UUID (hex digits and dashes, written
 * as they are). Self-contained (no free variables): the store's writer thread runs this very
 * function from its source text.
 */
export function chainedEventText(parts: readonly [string, string], seq: number, createdAtJson: string, prevHash: string, canonicalDetails: string, id: string): string {
  return prevHash + "\n" + parts[0] + createdAtJson + ',"details":' + canonicalDetails + ',"id":"' + id + '","prev_hash":"' + prevHash + '","seq":' + seq + parts[1];
}

/** Seals the next event onto a chain whose newest event is `head` (null: an empty chain). */
export function sealEvent(
  head: { seq: number; hash: string } | null,
  event: Omit<AuditEventBody, "seq" | "prev_hash">,
  sha256: Sha256Hex,
): AuditEvent {
  const body: AuditEventBody = { ...event, seq: (head?.seq ?? 0) + 1, prev_hash: head?.hash ?? GENESIS_HASH };
  return { ...body, hash: hashEvent(body, sha256) };
}

export type ChainProblem = "altered" | "inserted" | "removed" | "truncated";

export interface VerifyResult {
  ok: boolean;
  /** events checked */
  checked: number;
  /** the newest event's seq and hash, when the chain is intact */
  head: { seq: number; hash: string } | null;
  /** the first problem found, naming the event */
  problem?: { kind: ChainProblem; seq: number; id: string | null; message: string };
}

/**
 * Verifies events given in seq order. `expectedHead` is the head the store recorded; pass null when
 * there is none to compare against (an export checked on its own).
 */
export function verifyChain(
  events: Iterable<AuditEvent>,
  sha256: Sha256Hex,
  expectedHead: { seq: number; hash: string } | null = null,
): VerifyResult {
  let prev: { seq: number; hash: string } | null = null;
  let checked = 0;
  const fail = (kind: ChainProblem, seq: number, id: string | null, message: string): VerifyResult => ({
    ok: false,
    checked,
    head: null,
    problem: { kind, seq, id, message },
  });
  for (const e of events) {
    checked++;
    const expectedSeq: number = (prev?.seq ?? 0) + 1;
    const expectedPrev: string = prev?.hash ?? GENESIS_HASH;
    const selfOk = hashEvent(e, sha256) === e.hash;
    if (!selfOk) {
      if (e.prev_hash === expectedPrev && e.seq === expectedSeq) {
        return fail("altered", e.seq, e.id, `event ${e.seq} (${e.id}) was altered: its content no longer matches its hash`);
      }
      return fail("inserted", e.seq, e.id, `event ${e.seq} (${e.id}) does not belong to the chain: it was inserted or rewritten`);
    }
    if (e.prev_hash !== expectedPrev || e.seq !== expectedSeq) {
      if (e.seq > expectedSeq) {
        const range = e.seq - expectedSeq === 1 ? `event ${expectedSeq}` : `events ${expectedSeq}-${e.seq - 1}`;
        return fail("removed", expectedSeq, null, `${range} ${e.seq - expectedSeq === 1 ? "was" : "were"} removed before event ${e.seq} (${e.id})`);
      }
      return fail("inserted", e.seq, e.id, `event ${e.seq} (${e.id}) does not link to event ${prev?.seq ?? 0}: it was inserted or the chain was rewritten`);
    }
    prev = { seq: e.seq, hash: e.hash };
  }
  if (expectedHead && (prev === null || prev.seq !== expectedHead.seq || prev.hash !== expectedHead.hash)) {
    const last = prev?.seq ?? 0;
    if (last < expectedHead.seq) {
      return fail("truncated", last + 1, null, `events ${last + 1}-${expectedHead.seq} were removed from the end of the chain`);
    }
    return fail("inserted", last, null, `the chain ends at event ${last} but the recorded head is event ${expectedHead.seq}`);
  }
  return { ok: true, checked, head: prev };
}
