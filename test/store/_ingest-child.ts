/**
 * Child process of test/store/ingest.test.ts: ingests batches of 200 decisions into the store at
 * argv[2] until killed, printing each batch number once ingestDecisions has resolved (the store's
 * acknowledgement), "checkpointing" once the background checkpointer has completed a checkpoint,
 * and "writer" once its writer thread has committed a batch (from then on every batch goes through it).
 */
import { openSqliteStore } from "../../src/store/sqlite";

const store = openSqliteStore(process.argv[2]!);
const internals = store as unknown as { checkpointer: { completed: number } | null; writer: { answered: number } | null };
let said = false;
let saidWriter = false;
for (let b = 0; ; b++) {
  const batch = Array.from({ length: 200 }, (_, i) => ({
    id: `b${b}-${i}`,
    session_id: "s1",
    role: "default-agent",
    agent: "claude",
    tool: "terraform",
    command: `terraform apply ${"x".repeat(400)} ${b}-${i}`,
    normalized: ["terraform apply"],
    verdict: "block" as const,
    policy: "infra-mutation-block",
    rule: "blocked_commands[0]",
    pattern: "terraform apply",
    reason: "kill -9 test",
    source: "shim",
    cwd: "/work",
    decided_at: new Date().toISOString(),
  }));
  await store.ingestDecisions(null, batch, "admin:child");
  process.stdout.write(`${b}\n`);
  if (!said && (internals.checkpointer?.completed ?? 0) > 0) {
    said = true;
    process.stdout.write("checkpointing\n");
  }
  if (!saidWriter && (internals.writer?.answered ?? 0) > 0) {
    saidWriter = true;
    process.stdout.write("writer\n");
  }
  if (b % 8 === 0) await Bun.sleep(1); // let the event loop turn now and then, like a server
}
