/**
 * The store's fast seal must produce byte-identical hashed text to the generic one:
 * `canonicalString` is `JSON.stringify` for strings, and `hashEventFast` (with or without the
 * details pre-rendered) is `hashEvent`, for ordinary and hostile values alike. A difference here
 * would change the hash of an event, which must never happen.
 */
import { describe, expect, test } from "bun:test";
import { canonicalJson, canonicalString } from "../../src/audit/canonical";
import { GENESIS_HASH, hashEvent, hashEventFast, sealEvent, verifyChain, type AuditEvent, type AuditEventBody } from "../../src/audit/chain";
import type { VerdictKind } from "../../src/protocol/records";
import { decisionEventDetails } from "../../src/store/sqlite";

/** the hashed text itself, so a failure shows the bytes rather than two digests */
const identity = (s: string) => s;
const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

/** a deterministic generator (mulberry32) */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** strings drawn from the characters that matter to JSON: quotes, backslashes, controls, DEL, U+2028, lone and paired surrogates, non-ASCII */
const ALPHABET = ['"', "\\", "/", "\u0000", "\u0001", "\n", "\r", "\t", "\u001f", "\u007f", "\u2028", "\u2029", "\ud800", "\udfff", "\ud83d\ude00", "é", "日", "a", "Z", "0", " ", "{", "}", ":"];

function hostileString(next: () => number): string {
  const n = Math.floor(next() * 12);
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return s;
}

const FIXED = ["", "plain", 'q"uote', "back\\slash", "nul\u0000", "ctl\u001f", "del\u007f", "ls\u2028ps\u2029", "lone \ud800 high", "lone \udc00 low", "pair 😀", "trailing high \ud83d", "é日本"];

describe("canonicalString is JSON.stringify", () => {
  test("fixed cases", () => {
    for (const s of FIXED) expect(canonicalString(s)).toBe(JSON.stringify(s));
  });

  test("every single UTF-16 code unit", () => {
    for (let c = 0; c <= 0xffff; c++) {
      const s = `x${String.fromCharCode(c)}y`;
      if (canonicalString(s) !== JSON.stringify(s)) throw new Error(`differs at U+${c.toString(16)}`);
    }
  });

  test("50,000 random hostile strings", () => {
    const next = random(1);
    for (let i = 0; i < 50_000; i++) {
      const s = hostileString(next);
      if (canonicalString(s) !== JSON.stringify(s)) throw new Error(`differs for ${JSON.stringify(s)}`);
    }
  });
});

/** a decision event's details, as the store builds them */
function decisionDetails(next: () => number): Record<string, unknown> {
  const maybe = () => (next() < 0.3 ? null : hostileString(next));
  // (the verdict is validated against its three values; it is rendered like any string all the same)
  return { verdict: next() < 0.9 ? ["allow", "block", "require_approval"][Math.floor(next() * 3)]! : hostileString(next), command: hostileString(next), policy: maybe(), rule: maybe(), session_id: maybe() };
}

type Details = { verdict: VerdictKind; command: string; policy: string | null; rule: string | null; session_id: string | null };

/** the store's rendering of those details in canonical key order (the hashed form) */
const renderCanonical = (d: Record<string, unknown>) => decisionEventDetails(d as Details).canonical;

/** ...and in insertion order, as the `details` column stores them */
const renderStored = (d: Record<string, unknown>) => decisionEventDetails(d as Details).stored;

function body(next: () => number, seq: number, details: Record<string, unknown>): AuditEventBody {
  return {
    seq,
    id: next() < 0.9 ? crypto.randomUUID() : hostileString(next),
    type: "decision.blocked",
    code: "AL0602",
    actor: next() < 0.9 ? "client:cl_0123" : hostileString(next),
    target: `decision:${hostileString(next)}`,
    details,
    created_at: new Date(1_700_000_000_000 + Math.floor(next() * 1e10)).toISOString(),
    prev_hash: next() < 0.1 ? GENESIS_HASH : sha256(String(seq)),
  };
}

describe("hashEventFast is hashEvent", () => {
  test("decision events with the store's pre-rendered details: same hashed bytes, same stored text", () => {
    const next = random(2);
    for (let i = 0; i < 20_000; i++) {
      const details = decisionDetails(next);
      expect(renderCanonical(details)).toBe(canonicalJson(details));
      expect(renderStored(details)).toBe(JSON.stringify(details));
      const b = body(next, i + 1, details);
      const fast = hashEventFast(b, identity, renderCanonical(details));
      const slow = hashEvent(b, identity);
      if (fast !== slow) throw new Error(`differs:\n${fast}\n${slow}`);
    }
  });

  test("any event, details rendered by canonicalJson (nested, numbers, booleans, arrays, undefined members)", () => {
    const next = random(3);
    const value = (depth: number): unknown => {
      const r = next();
      if (depth > 2 || r < 0.3) return hostileString(next);
      if (r < 0.4) return null;
      if (r < 0.5) return next() < 0.5;
      if (r < 0.6) return [0, -0, 1.5, 1e21, -7, 123456789012][Math.floor(next() * 6)];
      if (r < 0.75) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
      if (r < 0.8) return undefined;
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [hostileString(next), value(depth + 1)]));
    };
    for (let i = 0; i < 5_000; i++) {
      const details = value(0) as Record<string, unknown>;
      const b = body(next, i + 1, details && typeof details === "object" && !Array.isArray(details) ? details : { v: details });
      expect(hashEventFast(b, identity)).toBe(hashEvent(b, identity));
    }
  });

  test("an event with an undefined member hashes as canonicalJson drops it", () => {
    const b = { ...body(random(4), 1, { a: 1 }), target: undefined } as unknown as AuditEventBody;
    expect(hashEventFast(b, identity)).toBe(hashEvent(b, identity));
    expect(hashEvent(b, identity)).not.toContain('"target"');
  });

  test("a chain sealed with the fast hash verifies with the generic one", () => {
    const next = random(5);
    const events: AuditEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const head = events.at(-1) ?? null;
      const details = decisionDetails(next);
      const b: AuditEventBody = { ...body(next, (head?.seq ?? 0) + 1, details), prev_hash: head?.hash ?? GENESIS_HASH };
      events.push({ ...b, hash: hashEventFast(b, sha256, renderCanonical(details)) });
      // and equal to what sealEvent would have made of the same event
      const sealed = sealEvent(head, { id: b.id, type: b.type, code: b.code, actor: b.actor, target: b.target, details, created_at: b.created_at }, sha256);
      expect(sealed.hash).toBe(events.at(-1)!.hash);
    }
    expect(verifyChain(events, sha256).ok).toBe(true);
  });
});
