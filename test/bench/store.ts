/**
 * SQLite store micro-benchmark, into a temp file (WAL, synchronous=NORMAL), every decision audited
 * (hash-chained event in the same transaction):
 * - decisions ingested per second, one per call (each its own BEGIN IMMEDIATE transaction), and 16
 *   single-decision batches per transaction (the gateway's group commit);
 * - decisions ingested per second in batches of 1,000;
 * - a filtered audit page (50 rows, type + since) once the trail holds 1,000,000 events.
 * The 1M-event trail is built through the store API itself (ingestDecisions in batches of 1,000,
 * with session and policy events mixed in), so it is the real schema, indexes and chain.
 *
 * Run: bun run test/bench/store.ts [events=1000000] [--verify]
 * Targets (issue): single ≥ 5,000/s over HTTP (the store alone must be far faster: this bench's bar
 * is 2×, 10,000/s), batched ≥ 100,000 decisions/s, filtered audit page p50 ≤ 20 ms at 1M events.
 * Decision ids are UUIDv7 (time-ordered, as daemons should make them); one line shows UUIDv4.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VerdictKind } from "../../src/protocol/records";
import { openSqliteStore } from "../../src/store/sqlite";
import type { AuditFilter, DecisionInput, Store } from "../../src/store/types";
import { verifyStoreAudit } from "../../src/store/verify";
import { report, summarize } from "./_stats";

const VERDICTS: VerdictKind[] = ["allow", "allow", "allow", "allow", "allow", "allow", "require_approval", "block"];
const COMMANDS = ["terraform plan -out=tfplan", "kubectl get pods -n prod", "terraform apply -auto-approve", "helm upgrade web ./chart", "aws s3 ls s3://bucket", "git status"];

class Clock {
  t = Date.parse("2026-03-01T00:00:00.000Z");
  readonly now = () => new Date(this.t);
}

/** time-ordered ids (UUIDv7), as a daemon should choose them; `random` = UUIDv4 for comparison */
function decisions(n: number, i0: number, clock: Clock, session: string, random = false): DecisionInput[] {
  const at = clock.now().toISOString();
  return Array.from({ length: n }, (_, k) => {
    const i = i0 + k;
    const verdict = VERDICTS[i % VERDICTS.length]!;
    return {
      id: random ? crypto.randomUUID() : Bun.randomUUIDv7(),
      session_id: session,
      role: "default-agent",
      agent: "claude",
      tool: COMMANDS[i % COMMANDS.length]!.split(" ")[0]!,
      command: COMMANDS[i % COMMANDS.length]!,
      normalized: [COMMANDS[i % COMMANDS.length]!],
      verdict,
      policy: verdict === "allow" ? null : "infra-mutation-block",
      rule: verdict === "allow" ? null : "blocked_commands[0]",
      pattern: null,
      reason: verdict === "allow" ? "no rule matched" : "infrastructure mutation",
      source: "shim",
      cwd: "/home/dev/project",
      decided_at: at,
    };
  });
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString("en-US")}/s`;
}

async function sessionEvents(store: Store, id: string): Promise<void> {
  await store.createSession(
    { id, client_id: "c1", agent: "claude", role: "default-agent", user: "dev", host: "laptop", cwd: "/home/dev/project", pid: 1234, token_hash: new Bun.CryptoHasher("sha256").update(id).digest("hex") },
    "client:c1",
  );
  await store.transitionSession(id, "running", "client:c1");
}

export async function benchStore(totalEvents = 1_000_000, verify = false): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-store-"));
  const path = join(dir, "gateway.db");
  const clock = new Clock();
  const store = openSqliteStore(path, { now: clock.now });
  let ok = true;
  try {
    await store.createPolicy({ id: "infra-mutation-block", name: "Infra", status: "active", blocked_commands: ["terraform apply"], rules: [] }, "system");
    const enroll = "e".repeat(64);
    await store.createToken({ id: "enroll", kind: "enrollment", name: "bench", hash: enroll }, "system");
    await store.enrollClient(enroll, { id: "c1", name: "bench", hostname: "bench", user: "dev", version: "0" }, { id: "ct", kind: "client", name: "c1", hash: "c".repeat(64) });
    await sessionEvents(store, "s0");
    let made = 0;

    // warm-up
    for (let i = 0; i < 500; i++) await store.ingestDecisions("c1", decisions(1, made++, clock, "s0"), "client:c1");

    // 1. one decision per call
    const single = 20_000;
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < single; i++) {
      const batch = decisions(1, made++, clock, "s0");
      const s = performance.now();
      await store.ingestDecisions("c1", batch, "client:c1");
      lat.push((performance.now() - s) * 1000);
      if (i % 1000 === 0) clock.t += 1000;
    }
    const singleMs = performance.now() - t0;
    const singleRate = single / (singleMs / 1000);
    const singleOk = singleRate >= 10_000;
    ok &&= singleOk;
    console.log(
      `ingest, 1 decision per call (own transaction + audit event)   ${rate(single, singleMs)} (${(singleRate / 5000).toFixed(1)}× the 5,000/s HTTP target; store-alone bar ≥ 10,000/s: ${singleOk ? "met" : "MISSED"})`,
    );
    report("  per call", summarize(lat), "µs");

    // 1b. the gateway's group commit: 16 single-decision requests in one transaction
    const grouped = store as Store & { ingestDecisionBatches?: (b: { clientId: string | null; decisions: DecisionInput[]; actor: string }[]) => Promise<unknown> };
    if (grouped.ingestDecisionBatches) {
      const groups = 1_250;
      const prepared = Array.from({ length: groups }, () => Array.from({ length: 16 }, () => ({ clientId: "c1", decisions: decisions(1, made++, clock, "s0"), actor: "client:c1" })));
      const tg = performance.now();
      for (const group of prepared) await grouped.ingestDecisionBatches(group);
      const groupMs = performance.now() - tg;
      console.log(`ingest, 16 single-decision batches per group commit            ${rate(groups * 16, groupMs)} (each batch keeps its own result)`);
    }

    // 2. batches of 1,000
    const batches = 200;
    const prepared = Array.from({ length: batches }, (_, b) => decisions(1000, made + b * 1000, clock, "s0"));
    made += batches * 1000;
    const t1 = performance.now();
    for (const batch of prepared) await store.ingestDecisions("c1", batch, "client:c1");
    const batchMs = performance.now() - t1;
    const batchRate = (batches * 1000) / (batchMs / 1000);
    const batchOk = batchRate >= 100_000;
    ok &&= batchOk;
    console.log(`ingest, batches of 1,000 (one transaction + 1,000 audit events) ${rate(batches * 1000, batchMs)}  target ≥ 100,000/s: ${batchOk ? "met" : "MISSED"}`);
    const randomIds = Array.from({ length: 50 }, (_, b) => decisions(1000, made + b * 1000, clock, "s0", true));
    made += 50 * 1000;
    const t1r = performance.now();
    for (const batch of randomIds) await store.ingestDecisions("c1", batch, "client:c1");
    const randomMs = performance.now() - t1r;
    console.log(`  same with random UUIDv4 decision ids (not a target)            ${rate(50 * 1000, randomMs)}`);

    // 3. grow the trail to `totalEvents` through the store, with sparse non-decision events
    const t2 = performance.now();
    let head = (await store.auditHead())!.seq;
    let sessions = 1;
    const startedAt = head;
    while (head < totalEvents) {
      clock.t += 1000;
      const n = Math.min(1000, totalEvents - head);
      if (n > 50 && sessions % 10 === 0) {
        await sessionEvents(store, `s${sessions}`);
        await store.updatePolicy("infra-mutation-block", { id: "infra-mutation-block", name: "Infra", status: "active", blocked_commands: ["terraform apply"], rules: [], rev: sessions }, "admin:root");
      }
      sessions++;
      await store.ingestDecisions("c1", decisions(Math.max(1, n - 3), made, clock, "s0"), "client:c1");
      made += n;
      head = (await store.auditHead())!.seq;
    }
    const buildMs = performance.now() - t2;
    console.log(
      `built ${head.toLocaleString("en-US")} audit events (${(head - startedAt).toLocaleString("en-US")} via ingest batches) in ${(buildMs / 1000).toFixed(1)} s (${rate(head - startedAt, buildMs)}); file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB + WAL`,
    );

    // 4. filtered audit pages at that size
    const span = clock.t - Date.parse("2026-03-01T00:00:00.000Z");
    const sinceAt = (fraction: number) => new Date(Date.parse("2026-03-01T00:00:00.000Z") + span * fraction).toISOString();
    const queries: [string, AuditFilter][] = [
      ["type=decision.blocked since=last 10%", { type: "decision.blocked", since: sinceAt(0.9) }],
      ["type=decision.blocked since=first 10%", { type: "decision.blocked", since: sinceAt(0.1) }],
      ["type=session. (prefix, sparse) since=last 50%", { type: "session.", since: sinceAt(0.5) }],
      ["type=decision. (prefix, 3 types) since=last 25%", { type: "decision.", since: sinceAt(0.75) }],
      ["type=policy.updated since=last 1% (fewer than 50 match)", { type: "policy.updated", since: sinceAt(0.99) }],
      ["type=decision.approval_required since+until (a day's middle)", { type: "decision.approval_required", since: sinceAt(0.4), until: sinceAt(0.6) }],
    ];
    for (const [name, filter] of queries) {
      for (let i = 0; i < 20; i++) await store.listAudit(filter, { limit: 50 });
      const samples: number[] = [];
      let rows = 0;
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        const page = await store.listAudit(filter, { limit: 50 });
        samples.push(performance.now() - s);
        rows = page.items.length;
      }
      ok = report(`audit page (50) ${name} [${rows} rows]`, summarize(samples), "ms", { p50: 20 }) && ok;
    }
    const first = await store.listAudit({ type: "decision.blocked", since: sinceAt(0.1) }, { limit: 50 });
    const next: number[] = [];
    let cursor = first.next_cursor;
    for (let i = 0; i < 200 && cursor; i++) {
      const s = performance.now();
      const page = await store.listAudit({ type: "decision.blocked", since: sinceAt(0.1) }, { limit: 50, cursor });
      next.push(performance.now() - s);
      cursor = page.next_cursor;
    }
    ok = report("audit page (50) type=decision.blocked, following cursors", summarize(next), "ms", { p50: 20 }) && ok;

    if (verify) {
      const s = performance.now();
      const result = await verifyStoreAudit(store);
      console.log(`verifyStoreAudit: ${result.ok ? "ok" : "FAILED"}, ${result.checked.toLocaleString("en-US")} events in ${((performance.now() - s) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return ok;
}

if (import.meta.main) {
  const n = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  await benchStore(n ? Number(n) : 1_000_000, process.argv.includes("--verify"));
}
