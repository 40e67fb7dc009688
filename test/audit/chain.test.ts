import { describe, expect, test } from "bun:test";
import { canonicalJson } from "../../src/audit/canonical";
import { GENESIS_HASH, hashEvent, sealEvent, verifyChain, type AuditEvent } from "../../src/audit/chain";
import { AUDIT_EVENTS } from "../../src/audit/events";

const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

function chain(n: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const head = out.at(-1) ?? null;
    out.push(
      sealEvent(
        head,
        { id: `ev${i + 1}`, type: "policy.updated", code: "AL0202", actor: "admin:t1", target: `policy:p${i}`, details: { version: i }, created_at: `2026-11-22T00:00:0${i % 10}.000Z` },
        sha256,
      ),
    );
  }
  return out;
}

describe("canonical JSON", () => {
  const cases: [unknown, string][] = [
    [{ b: 1, a: [true, null, "x"] }, `{"a":[true,null,"x"],"b":1}`],
    [{ z: { y: 2, x: 1 } }, `{"z":{"x":1,"y":2}}`],
    [{ a: undefined, b: "é\n" }, `{"b":"é\\n"}`],
    [[1.5, -0, 1e21], `[1.5,0,1e+21]`],
    ["", `""`],
  ];
  for (const [value, text] of cases) test(text, () => expect(canonicalJson(value)).toBe(text));
  test("refuses values JSON cannot hold", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
  });
});

describe("event registry", () => {
  test("codes are unique and well-formed", () => {
    const codes = Object.values(AUDIT_EVENTS);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^AL\d{4}$/);
    for (const type of Object.keys(AUDIT_EVENTS)) expect(type).toMatch(/^[a-z_]+(\.[a-z_]+)+$/);
  });
});

describe("hash chain", () => {
  test("a known-answer vector", () => {
    const e = sealEvent(null, { id: "e1", type: "store.initialized", code: "AL0001", actor: "system", target: "store", details: {}, created_at: "2026-01-01T00:00:00.000Z" }, sha256);
    expect(e.prev_hash).toBe(GENESIS_HASH);
    expect(e.seq).toBe(1);
    const text = `${GENESIS_HASH}\n{"actor":"system","code":"AL0001","created_at":"2026-01-01T00:00:00.000Z","details":{},"id":"e1","prev_hash":"${GENESIS_HASH}","seq":1,"target":"store","type":"store.initialized"}`;
    expect(e.hash).toBe(sha256(text));
  });

  test("an intact chain verifies and reports its head", () => {
    const events = chain(5);
    const r = verifyChain(events, sha256, { seq: 5, hash: events[4]!.hash });
    expect(r).toEqual({ ok: true, checked: 5, head: { seq: 5, hash: events[4]!.hash } });
  });

  test("an empty chain verifies", () => {
    expect(verifyChain([], sha256).ok).toBe(true);
  });

  test("an edited event is named as altered", () => {
    const events = chain(5);
    events[2] = { ...events[2]!, details: { version: 99 } };
    expect(verifyChain(events, sha256).problem).toMatchObject({ kind: "altered", seq: 3, id: "ev3" });
  });

  test("a removed event is named", () => {
    const events = chain(5);
    events.splice(1, 1);
    expect(verifyChain(events, sha256).problem).toMatchObject({ kind: "removed", seq: 2 });
  });

  test("an inserted event is named", () => {
    const events = chain(5);
    // a row written by hand: it cannot know the hash its predecessor really has
    const forged = { ...events[2]!, id: "forged", prev_hash: "b".repeat(64), hash: "f".repeat(64) };
    events.splice(2, 0, forged);
    expect(verifyChain(events, sha256).problem).toMatchObject({ kind: "inserted", seq: 3, id: "forged" });
  });

  test("an appended event that does not link is named as inserted", () => {
    const events = chain(3);
    const body = { ...events[2]!, seq: 4, id: "tail", prev_hash: "a".repeat(64) };
    events.push({ ...body, hash: hashEvent(body, sha256) });
    expect(verifyChain(events, sha256).problem).toMatchObject({ kind: "inserted", seq: 4, id: "tail" });
  });

  test("removing the newest events is seen against the recorded head", () => {
    const events = chain(5);
    const head = { seq: 5, hash: events[4]!.hash };
    expect(verifyChain(events.slice(0, 3), sha256, head).problem).toMatchObject({ kind: "truncated", seq: 4 });
  });
});
