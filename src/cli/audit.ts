/**
 * `airlock audit verify [--db FILE]`: checks the audit hash chain, of a SQLite store file directly
 * (no gateway needed) or through the gateway (GET /api/v1/audit/verify). Exit 0 intact, 1 broken.
 * `airlock audit export [--output FILE]`: the audit trail as JSONL (GET /api/v1/audit/export),
 * streamed to stdout or written atomically to FILE with mode 0600.
 */
import { defineCommand } from "citty";
import { existsSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { AuditVerifyResult } from "../client/gateway";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { printJson, remoteArgs, withGateway } from "./_remote";
import { err, out } from "../config/stdio";

function report(result: AuditVerifyResult, source: string, json: boolean): number {
  if (json) {
    printJson({ ...result, source });
    return result.ok ? 0 : 1;
  }
  if (result.ok) {
    out(`ok: ${result.checked} events, head seq ${result.head?.seq ?? 0} (${source})\n`);
    return 0;
  }
  const p = result.problem;
  const where = p ? `event ${p.seq}${p.id ? ` (${p.id})` : ""}` : "an unknown event";
  out(`FAILED: the audit chain is broken at ${where}: ${p?.message ?? "no detail"} (${source}; ${result.checked} events checked)\n`);
  return 1;
}

async function verifyDatabase(file: string) {
  const path = resolve(file);
  if (!existsSync(path)) throw new AirlockError("usage", `--db ${file}: no such file`);
  if (!statSync(path).isFile()) throw new AirlockError("usage", `--db ${file} is not a file`);
  const [{ openSqliteStore }, { verifyStoreAudit }] = await Promise.all([import("../store/sqlite"), import("../store/verify")]);
  let store;
  try {
    store = openSqliteStore(path);
  } catch (error) {
    if (isAirlockError(error)) throw error;
    throw new AirlockError("invalid_input", `cannot open ${file} as an Airlock database: ${(error as Error).message}`, [], { cause: error });
  }
  try {
    return await verifyStoreAudit(store);
  } finally {
    await store.close();
  }
}

const verify = defineCommand({
  meta: {
    name: "verify",
    description: "Check the hash chain (each event's hash, its link, the recorded head): 'ok: N events, head seq S' and exit 0, or the broken event and exit 1",
  },
  args: {
    db: { type: "string", description: "Verify this SQLite store file directly instead of asking the gateway" },
    ...remoteArgs,
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; to verify a database file use --db FILE`);
    if (args.db !== undefined) {
      if (args.gateway !== undefined) throw new AirlockError("usage", "give --db (a store file) or --gateway (a running gateway), not both");
      return report(await verifyDatabase(args.db), `sqlite ${args.db}`, Boolean(args.json));
    }
    return withGateway(args, async ({ client }) => report(await client.verifyAudit(), client.baseUrl, Boolean(args.json)));
  },
});

async function writeStdout(chunk: Uint8Array): Promise<void> {
  if (!process.stdout.write(chunk)) await new Promise<void>((done) => process.stdout.once("drain", () => done()));
}

function countLines(chunk: Uint8Array): number {
  let n = 0;
  for (const byte of chunk) if (byte === 10) n++;
  return n;
}

/** Writes the stream to a temp file beside `target` (0600), fsyncs, then renames it into place. */
async function writeAtomically(target: string, chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: number; events: number; last: number }> {
  const dir = dirname(target);
  if (!existsSync(dir)) throw new AirlockError("usage", `--output ${target}: the folder ${dir} does not exist`);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  const handle = await open(temp, "wx", 0o600);
  let done = false;
  try {
    await handle.chmod(0o600);
    let bytes = 0;
    let events = 0;
    let last = 10;
    for await (const chunk of chunks) {
      await handle.write(chunk);
      bytes += chunk.byteLength;
      events += countLines(chunk);
      if (chunk.byteLength > 0) last = chunk[chunk.byteLength - 1]!;
    }
    if (last !== 10) throw new AirlockError("unavailable", "the export ended in the middle of an event; nothing was written");
    await handle.sync();
    await handle.close();
    done = true;
    await rename(temp, target);
    return { bytes, events, last };
  } catch (error) {
    if (!done) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  }
}

const exportCommand = defineCommand({
  meta: {
    name: "export",
    description: "Export every event as JSON lines, oldest first, with seq, prev_hash and hash: to stdout, or atomically to a 0600 FILE with --output",
  },
  args: {
    output: { type: "string", alias: "o", description: "Write to FILE (atomically, mode 0600) instead of stdout" },
    ...remoteArgs,
    json: { type: "boolean", description: "With --output: print {output, events, bytes} as JSON (the export itself is always JSON lines)" },
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; to write a file use --output FILE`);
    if (args.output !== undefined && args.output.trim() === "") throw new AirlockError("usage", "--output is empty");
    return withGateway(args, async ({ client }) => {
      const stream = await client.exportAudit();
      if (args.output === undefined) {
        for await (const chunk of stream) await writeStdout(chunk);
        return 0;
      }
      const target = resolve(args.output);
      const { bytes, events } = await writeAtomically(target, stream);
      if (args.json) printJson({ output: target, events, bytes });
      else err(`airlock: exported ${events} audit events (${bytes} bytes) to ${args.output}\n`);
      return 0;
    });
  },
});

export const auditCommand = defineCommand({
  meta: {
    name: "audit",
    description:
      "The tamper-evident audit trail: every event carries prev_hash and hash, so an edited, removed or inserted event is named.\n\n" +
      "  airlock audit verify                               # through the gateway (admin or viewer token)\n" +
      "  airlock audit verify --db ~/.airlock/gateway.db    # the SQLite file itself, no gateway needed\n" +
      "  airlock audit export > audit.jsonl\n" +
      "  airlock audit export --output audit-$(date +%F).jsonl --json   # prints {output, events, bytes}\n",
  },
  subCommands: { verify, export: exportCommand },
});
