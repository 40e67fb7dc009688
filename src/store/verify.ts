/**
 * `airlock audit verify` for a live store: reads every event in seq order and checks the hash chain
 * (src/audit/chain.ts) against the head the store recorded, so an edited, removed, inserted or
 * truncated event is named.
 *
 * Streaming: `verifyChain` takes a whole chain from genesis at once, and a million events held in
 * memory cost ~2 GB. `verifyAuditStream` applies verifyChain's rules (same checks, same order, same
 * problem kinds and messages; the tests hold the two equal on every tamper case) one event at a
 * time, so memory stays flat; short chains (≤ IN_MEMORY events) go through verifyChain itself.
 *
 * Concurrent appends: the head is read before and after the walk; if it moved, the walk is retried
 * (a few times); a store that never stops writing is verified as a chain that must pass through the
 * head seen before the walk.
 */
import { GENESIS_HASH, hashEvent, verifyChain, type AuditEvent, type ChainProblem, type VerifyResult } from "../audit/chain";
import { sha256Hex } from "./_hash";
import type { Store } from "./types";

type Head = { seq: number; hash: string };

const ATTEMPTS = 3;
/** chains up to this many events are collected and handed to verifyChain as they are */
const IN_MEMORY = 10_000;

/** verifyChain's rules, one event at a time. */
class ChainCursor {
  private prev: Head | null = null;
  checked = 0;

  private fail(kind: ChainProblem, seq: number, id: string | null, message: string): VerifyResult {
    return { ok: false, checked: this.checked, head: null, problem: { kind, seq, id, message } };
  }

  /** null while the chain holds, else the first problem */
  push(e: AuditEvent): VerifyResult | null {
    const prev = this.prev;
    this.checked++;
    const expectedSeq = (prev?.seq ?? 0) + 1;
    const expectedPrev = prev?.hash ?? GENESIS_HASH;
    if (hashEvent(e, sha256Hex) !== e.hash) {
      if (e.prev_hash === expectedPrev && e.seq === expectedSeq) {
        return this.fail("altered", e.seq, e.id, `event ${e.seq} (${e.id}) was altered: its content no longer matches its hash`);
      }
      return this.fail("inserted", e.seq, e.id, `event ${e.seq} (${e.id}) does not belong to the chain: it was inserted or rewritten`);
    }
    if (e.prev_hash !== expectedPrev || e.seq !== expectedSeq) {
      if (e.seq > expectedSeq) {
        const range = e.seq - expectedSeq === 1 ? `event ${expectedSeq}` : `events ${expectedSeq}-${e.seq - 1}`;
        return this.fail("removed", expectedSeq, null, `${range} ${e.seq - expectedSeq === 1 ? "was" : "were"} removed before event ${e.seq} (${e.id})`);
      }
      return this.fail("inserted", e.seq, e.id, `event ${e.seq} (${e.id}) does not link to event ${prev?.seq ?? 0}: it was inserted or the chain was rewritten`);
    }
    this.prev = { seq: e.seq, hash: e.hash };
    return null;
  }

  end(expectedHead: Head | null): VerifyResult {
    const prev = this.prev;
    if (expectedHead && (prev === null || prev.seq !== expectedHead.seq || prev.hash !== expectedHead.hash)) {
      const last = prev?.seq ?? 0;
      if (last < expectedHead.seq) {
        return this.fail("truncated", last + 1, null, `events ${last + 1}-${expectedHead.seq} were removed from the end of the chain`);
      }
      return this.fail("inserted", last, null, `the chain ends at event ${last} but the recorded head is event ${expectedHead.seq}`);
    }
    return { ok: true, checked: this.checked, head: prev };
  }
}

/**
 * Verifies events given oldest first against the recorded head (null: none to compare with), as
 * `verifyChain` does, without holding the chain in memory. `onEvent` sees every event read.
 */
export async function verifyAuditStream(
  events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>,
  expectedHead: Head | null,
  onEvent?: (e: AuditEvent) => void,
): Promise<VerifyResult> {
  const buffered: AuditEvent[] = [];
  let cursor: ChainCursor | null = null;
  for await (const e of events) {
    onEvent?.(e);
    if (cursor === null) {
      buffered.push(e);
      if (buffered.length <= IN_MEMORY) continue;
      cursor = new ChainCursor(); // a long chain: stream from here on
      for (const b of buffered) {
        const problem = cursor.push(b);
        if (problem) return problem;
      }
      buffered.length = 0;
      continue;
    }
    const problem = cursor.push(e);
    if (problem) return problem;
  }
  return cursor === null ? verifyChain(buffered, sha256Hex, expectedHead) : cursor.end(expectedHead);
}

export async function verifyStoreAudit(store: Store): Promise<VerifyResult> {
  for (let attempt = 1; ; attempt++) {
    const before = await store.auditHead();
    let at: AuditEvent | null = null; // the event at the `before` head's seq
    let first: AuditEvent | null = null;
    const watch = (e: AuditEvent) => {
      first ??= e;
      if (before && e.seq === before.seq) at = e;
    };
    if (attempt < ATTEMPTS) {
      const result = await verifyAuditStream(store.iterateAudit(), before, watch);
      const after = await store.auditHead();
      if (before?.seq === after?.seq && before?.hash === after?.hash) {
        const stray = first as AuditEvent | null;
        if (before === null && stray !== null && result.ok) {
          // the store records an empty chain, yet there are events: none of them were appended by it
          return {
            ok: false,
            checked: result.checked,
            head: null,
            problem: { kind: "inserted", seq: stray.seq, id: stray.id, message: `event ${stray.seq} (${stray.id}) exists but the store records an empty chain: it was inserted` },
          };
        }
        return result;
      }
      continue; // appended to meanwhile: walk again
    }
    // still moving: the chain must be intact and pass through the head seen before the walk
    const result = await verifyAuditStream(store.iterateAudit(), null, watch);
    if (!result.ok || before === null) return result;
    const seen = at as AuditEvent | null;
    if (seen?.hash === before.hash) return result;
    const last = result.head?.seq ?? 0;
    return {
      ok: false,
      checked: result.checked,
      head: null,
      problem:
        last < before.seq
          ? { kind: "truncated", seq: last + 1, id: null, message: `events ${last + 1}-${before.seq} were removed from the end of the chain` }
          : { kind: "inserted", seq: before.seq, id: seen?.id ?? null, message: `event ${before.seq} is not the recorded head: the chain was rewritten` },
    };
  }
}
