/**
 * Decision ingest's write transaction, and the thread that runs it for a busy file store.
 *
 * `createIngestKernel` is the whole transaction of an ingest group: BEGIN IMMEDIATE, the chain's
 * head, each batch's client and duplicates, every new decision's audit event sealed onto the chain
 * (`chainedEventText` + SHA-256), multi-row INSERTs, the head and the decision totals, COMMIT. The
 * store runs it on its own connection (in-process) or, once it ingests in earnest, on a worker
 * thread's connection (`IngestWriter`), so that the request thread parses and validates the next
 * requests while this one writes. Both run the same function: the worker is built from its source
 * text (`Function.prototype.toString`, which survives `bun build --compile --minify --bytecode`),
 * which is why the kernel and `writerThreadMain` are self-contained: no free variables but their
 * parameters and the runtime's globals.
 *
 * The chain's hashes are computed on the request thread too, from the head the group is expected
 * to find (`hashesAhead`: the last answered group's head, or the head the store's own connection
 * left, followed through the groups still in flight). The kernel uses them only if it finds that very
 * head and accepts the decisions they assumed; anywhere else (another connection wrote, a decision
 * was stored already, a client is unknown) it hashes for itself, so a wrong guess costs time, never
 * a wrong hash. This takes ~1.7 ms per 1,000 decisions off the writer thread, ingest's bottleneck.
 *
 * Everything that needs no chain head is rendered before the transaction, on the request thread
 * (`INGEST_FIELDS` values per decision, see sqlite.ts `ingestValues`): the decision's columns, its
 * event's id, stored and canonical details and the hashed text's part after `seq`; per batch and
 * verdict, the event type, code and the part before `created_at` (`eventTextParts`). The worker
 * receives the values as one string and a table of lengths (a structured clone of ~20,000 strings
 * per 1,000 decisions costs the request thread ~1.5 ms; one string, well under half of that).
 *
 * Durability and isolation are the store's own: the worker's connection is opened with the main
 * connection's `synchronous` and `busy_timeout`, and a request is answered only after the worker's
 * COMMIT returned. Both connections take the write lock with BEGIN IMMEDIATE and read the chain's
 * head inside it, so their events interleave on one gapless chain.
 */
import type { Database } from "bun:sqlite";
import { chainedEventText } from "../audit/chain";
import { AirlockError } from "../protocol/errors";

/** values per decision in a group's flat `values` (the layout is `ingestValues`' in sqlite.ts) */
export const INGEST_FIELDS = 19;

export interface IngestBatch {
  clientId: string | null;
  actor: string;
  /** decisions of this batch in `values` (INGEST_FIELDS each, in order) */
  count: number;
  /** per verdict of its decisions: the event's type, code, and the hashed text's parts before and after (`eventTextParts`) */
  events: Record<string, [type: string, code: string, before: string, after: string]>;
}

/** The chain's head as `store_head` holds it: seq (0: an empty chain), hash, created_at. */
export type ChainHead = [seq: number, hash: string, createdAt: string];

export interface IngestGroup {
  /** the transaction's clock reading (received_at; events are stamped max(this, head time)) */
  now: string;
  batches: IngestBatch[];
  values: unknown[];
  /**
   * The new events' hashes, computed ahead on the request thread from the head this group was
   * expected to find (`hashesAhead`), 64 hex digits each in chain order. The transaction uses them
   * only if it finds that very head, and only while it accepts the decisions `hashesAhead` assumed
   * (none stored already, every client known); from the first difference on it hashes itself.
   */
  ahead?: { head: ChainHead; hashes: string };
}

export type IngestResult = { ok: true; accepted: number; duplicates: number } | { ok: false; missingClient: string } | { ok: false; error: unknown };

export interface IngestOutcome {
  results: IngestResult[];
  /** audit events committed (rows written), for the checkpointer */
  appended: number;
  /** the chain's head after the transaction (null: unknown, after an error) */
  head: ChainHead | null;
  /** events whose hashes came with the group (`IngestGroup.ahead`) */
  hashedAhead: number;
}

/**
 * The kernel for one connection. Each batch gets what its own `ingestDecisions` would give: an
 * unknown client fails that batch alone (found before any of its rows); duplicates are found by id
 * among the stored decisions and those added earlier in the group (the stored ones optimistically:
 * the group is first written without looking its ids up, as retried batches are rare, and an id
 * stored already fails its INSERT on decisions.id's UNIQUE index, rolling the group back to be
 * written again with the lookups; a lone decision is looked up at once); a database error rolls the
 * group back and, unless the database is busy (then every batch gets that error), each batch is
 * retried in its own transaction. SELF-CONTAINED (see the file comment).
 */
export function createIngestKernel(db: Database, chainedText: typeof chainedEventText, fields: number) {
  // decisions: ?1 client_id and ?2 received_at are shared by a statement's rows; audit events: ?1 actor, ?2 created_at
  const DECISION_HEAD =
    "INSERT OR FAIL INTO decisions (id, session_id, role, agent, tool, command, normalized, verdict, policy, rule, pattern, reason, source, cwd, decided_at, audit_seq, client_id, received_at) VALUES";
  const AUDIT_HEAD = "INSERT OR FAIL INTO audit_events (seq, id, type, code, target, details, prev_hash, hash, actor, created_at) VALUES";
  const DECISION_ROW = 16;
  const AUDIT_ROW = 8;
  /** rows per multi-row INSERT (bun's per-call costs dominate single-row inserts; SQLite allows 32,766 parameters) */
  const CHUNK = 100;
  const p = (sql: string) => db.prepare(sql);
  const begin = p("BEGIN IMMEDIATE");
  const commit = p("COMMIT");
  const rollback = p("ROLLBACK");
  const head = p("SELECT seq, hash, created_at FROM store_head WHERE one = 1");
  const setHead = p(
    "UPDATE store_head SET seq = ?, hash = ?, created_at = ?, decisions_allow = decisions_allow + ?, decisions_require_approval = decisions_require_approval + ?, decisions_block = decisions_block + ? WHERE one = 1",
  );
  const clientExists = p("SELECT 1 AS one FROM clients WHERE id = ?");
  const decisionExists = p("SELECT id FROM decisions WHERE id = ?");
  // ?1: a JSON array of ids
  const decisionsExisting = p("SELECT d.id FROM json_each(?1) AS j CROSS JOIN decisions AS d ON d.id = j.value");
  const inserts = new Map<string, ReturnType<typeof p>>();
  const insertSql = (table: "d" | "a", rows: number): ReturnType<typeof p> => {
    const key = table + rows;
    let stmt = inserts.get(key);
    if (!stmt) {
      const per = table === "d" ? DECISION_ROW : AUDIT_ROW;
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const cols: string[] = [];
        for (let c = 0; c < per; c++) cols.push(`?${3 + r * per + c}`);
        tuples.push(`(${cols.join(", ")}, ?1, ?2)`);
      }
      stmt = p(`${table === "d" ? DECISION_HEAD : AUDIT_HEAD} ${tuples.join(", ")}`);
      inserts.set(key, stmt);
    }
    return stmt;
  };
  const GENESIS = "0".repeat(64);

  /** rows collected into one flat parameter array, written CHUNK at a time; a new shared ?1 flushes the rows before it */
  class Rows {
    params: unknown[] = [];
    pending = 0;
    constructor(
      readonly table: "d" | "a",
      public shared1: unknown,
      readonly shared2: unknown,
    ) {
      this.params = [shared1, shared2];
    }
    setShared(value: unknown): void {
      if (value === this.shared1) return;
      this.flush();
      this.shared1 = value;
      this.params[0] = value;
    }
    added(): void {
      if (++this.pending === CHUNK) this.flush();
    }
    flush(): void {
      if (this.pending === 0) return;
      (insertSql(this.table, this.pending) as unknown as { run(params: unknown[]): unknown }).run(this.params);
      this.params = [this.shared1, this.shared2];
      this.pending = 0;
    }
  }

  const isBusy = (error: unknown): boolean => {
    const code = (error as { code?: unknown })?.code;
    return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
  };

  /** The batches at `which` (with their first value's index) in one transaction. Throws on a database error (rolled back). */
  function transaction(group: IngestGroup, which: number[], starts: number[], probe: boolean): IngestOutcome {
    const { now, batches, values } = group;
    begin.run();
    try {
      const row = head.get() as { seq: number; hash: string; created_at: string } | null;
      const ahead = group.ahead;
      const aheadHashes = ahead?.hashes ?? "";
      // hashes computed ahead hold only for the head they were computed from and the whole group
      let useAhead = ahead !== undefined && row !== null && which.length === batches.length && ahead.head[0] === row.seq && ahead.head[1] === row.hash && ahead.head[2] === row.created_at;
      let next = 0;
      const chained = row !== null && row.seq > 0;
      let seq = chained ? row.seq : 0;
      let prev = chained ? row.hash : GENESIS;
      // never older than the newest event: time ranges map onto seq ranges
      const createdAt = chained && row.created_at > now ? row.created_at : now;
      const createdJson = JSON.stringify(createdAt);
      const firstSeq = seq;
      let allow = 0;
      let approval = 0;
      let block = 0;
      const seen = new Set<unknown>();
      const clients = new Set<string>();
      const decisions = new Rows("d", null, now);
      const events = new Rows("a", null, createdAt);
      const results: IngestResult[] = [];
      for (const b of which) {
        const { clientId, actor, count } = batches[b]!;
        if (count === 0) {
          results.push({ ok: true, accepted: 0, duplicates: 0 });
          continue;
        }
        if (clientId !== null && !clients.has(clientId)) {
          if (!clientExists.get(clientId)) {
            useAhead = false; // its decisions were counted in
            results.push({ ok: false, missingClient: clientId });
            continue;
          }
          clients.add(clientId);
        }
        const start = starts[b]!;
        // which ids are stored already (under the write lock: nobody adds one meanwhile)
        const stored = new Set<unknown>();
        if (count === 1) {
          if (decisionExists.get(values[start] as string)) stored.add(values[start]);
        } else if (probe) {
          const ids: unknown[] = [];
          for (let k = 0; k < count; k++) ids.push(values[start + k * fields]);
          const json = JSON.stringify(ids);
          if (json.includes("\\ud")) {
            // an id that may hold a lone surrogate (JSON would decode it to other bytes than binding
            // does): look each up as a bound parameter
            for (const id of ids) if (decisionExists.get(id as string)) stored.add(id);
          } else {
            for (const r of decisionsExisting.all(json) as { id: string }[]) stored.add(r.id);
          }
        }
        decisions.setShared(clientId);
        events.setShared(actor);
        const kinds = batches[b]!.events;
        let accepted = 0;
        for (let k = 0; k < count; k++) {
          const v = start + k * fields;
          const id = values[v];
          if (seen.has(id)) continue;
          if (stored.has(id)) {
            useAhead = false; // counted in as new
            continue;
          }
          seen.add(id); // a repeat later in the batch (or group) is a duplicate too
          accepted++;
          seq++;
          const verdict = values[v + 7] as string;
          const [type, code, before, after] = kinds[verdict]!;
          const eventId = values[v + 15] as string;
          let hash: string;
          if (useAhead && next + 64 <= aheadHashes.length) {
            hash = aheadHashes.slice(next, next + 64);
            next += 64;
          } else {
            useAhead = false;
            hash = Bun.SHA256.hash(chainedText([before, values[v + 18] as string], seq, createdJson, prev, values[v + 17] as string, eventId), "hex") as unknown as string;
          }
          // audit: seq, id, type, code, target, details, prev_hash, hash
          const e = events.params;
          e.push(seq, eventId, type, code, "decision:" + (id as string), values[v + 16], prev, hash);
          events.added();
          prev = hash;
          // decision: id .. decided_at (15 values), audit_seq
          const d = decisions.params;
          for (let c = 0; c < 15; c++) d.push(values[v + c]);
          d.push(seq);
          decisions.added();
          if (verdict === "allow") allow++;
          else if (verdict === "block") block++;
          else approval++;
        }
        results.push({ ok: true, accepted, duplicates: count - accepted });
      }
      decisions.flush();
      events.flush();
      if (seq > firstSeq) setHead.run(seq, prev, createdAt, allow, approval, block);
      commit.run();
      const after: ChainHead | null = seq > firstSeq ? [seq, prev, createdAt] : row === null ? null : [row.seq, row.hash, row.created_at];
      return { results, appended: seq - firstSeq, head: after, hashedAhead: next / 64 };
    } catch (error) {
      if (db.inTransaction) rollback.run();
      throw error;
    }
  }

  return {
    /** finalizes the kernel's statements (before its connection closes) */
    close(): void {
      for (const stmt of [begin, commit, rollback, head, setHead, clientExists, decisionExists, decisionsExisting, ...inserts.values()]) stmt.finalize();
      inserts.clear();
    },
    run(group: IngestGroup): IngestOutcome {
      const starts: number[] = [];
      let at = 0;
      for (const b of group.batches) {
        starts.push(at);
        at += b.count * fields;
      }
      const all = group.batches.map((_, i) => i);
      try {
        try {
          // optimistic: a batch's ids are not looked up first, and an id stored already fails its
          // INSERT (decisions.id is UNIQUE); then the group is written again, looking them up
          return transaction(group, all, starts, false);
        } catch (error) {
          if ((error as { code?: unknown })?.code !== "SQLITE_CONSTRAINT_UNIQUE") throw error;
          return transaction(group, all, starts, true);
        }
      } catch (error) {
        // busy (the lock did not come within busy_timeout) is the same answer for all, without retries
        if (all.length === 1 || isBusy(error)) return { results: all.map(() => ({ ok: false, error })), appended: 0, head: null, hashedAhead: 0 };
      }
      // an error after writes began: each batch alone, so each gets exactly its own result or error
      const results: IngestResult[] = [];
      let appended = 0;
      let last: ChainHead | null = null;
      for (const i of all) {
        try {
          const one = transaction(group, [i], starts, true);
          results.push(one.results[0]!);
          appended += one.appended;
          last = one.head;
        } catch (error) {
          results.push({ ok: false, error });
          last = null;
        }
      }
      return { results, appended, head: last, hashedAhead: 0 };
    },
  };
}

const EMPTY: PackedValues = { text: "", lengths: new Int32Array(0) };

/** What crosses to the worker: the values as one string and their lengths (-1: null). */
export interface PackedValues {
  text: string;
  lengths: Int32Array;
}

/**
 * Packs a group's values when every one is a string or null and their text is well-formed UTF-16;
 * null otherwise (the group is then written in-process).
 */
export function packValues(values: readonly unknown[]): PackedValues | null {
  const lengths = new Int32Array(values.length);
  // concatenated, not joined: most values are themselves ropes (the rendered details and hashed
  // text), and one rope of them all is flattened in a single pass, where join flattens each first
  let text = "";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "string") {
      lengths[i] = v.length;
      text += v;
    } else if (v === null) {
      lengths[i] = -1;
    } else {
      return null;
    }
  }
  // a string crosses to a worker as UTF-8: a lone surrogate would arrive as U+FFFD (while lengths
  // count UTF-16 units, a well-formed text comes back unit for unit, pairs split across values included)
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return null;
  return { text, lengths };
}

/** An error as it crosses back from the worker (name, message and SQLite's code). */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
}

export function revive(e: ThreadError): Error {
  const error = e.name === "TypeError" ? new TypeError(e.message) : e.name === "RangeError" ? new RangeError(e.message) : new Error(e.message);
  if (e.name !== "TypeError" && e.name !== "RangeError") error.name = e.name;
  if (e.code !== undefined) (error as Error & { code?: string }).code = e.code;
  return error;
}

/**
 * The worker's message loop. SELF-CONTAINED: the worker's source is this function's text, called
 * with the kernel's and `chainedEventText`'s texts evaluated beside it.
 */
export function writerThreadMain(DatabaseClass: typeof Database, kernelFactory: typeof createIngestKernel, chainedText: typeof chainedEventText, fields: number): void {
  let db: Database | null = null;
  let kernel: ReturnType<typeof createIngestKernel> | null = null;
  const describe = (error: unknown) => {
    const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
    return {
      name: typeof e?.name === "string" ? e.name : "Error",
      message: typeof e?.message === "string" ? e.message : String(error),
      ...(typeof e?.code === "string" ? { code: e.code } : {}),
    };
  };
  const post = (message: unknown) => (self as unknown as { postMessage(m: unknown): void }).postMessage(message);
  (self as unknown as { onmessage: (event: MessageEvent) => void }).onmessage = (event: MessageEvent) => {
    const m = event.data as
      | { type: "open"; path: string; pragmas: string[] }
      | { type: "ingest"; id: number; now: string; batches: IngestBatch[]; text: string; lengths: Int32Array; ahead?: IngestGroup["ahead"] }
      | { type: "pragma"; pragma: string }
      | { type: "close" };
    if (m.type === "open") {
      try {
        db = new DatabaseClass(m.path, { readwrite: true, create: false, strict: true });
        for (const pragma of m.pragmas) db.run(`PRAGMA ${pragma}`);
        kernel = kernelFactory(db, chainedText, fields);
        post({ type: "ready" });
      } catch (error) {
        try {
          db?.close();
        } catch {}
        db = null;
        post({ type: "failed", error: describe(error) });
      }
    } else if (m.type === "ingest") {
      const { text, lengths } = m;
      const values = new Array<string | null>(lengths.length);
      let at = 0;
      for (let i = 0; i < lengths.length; i++) {
        const n = lengths[i]!;
        if (n < 0) values[i] = null;
        else {
          values[i] = text.slice(at, at + n);
          at += n;
        }
      }
      let outcome: IngestOutcome;
      try {
        if (!kernel) throw Object.assign(new Error("the store's writer thread has no database"), { code: "SQLITE_MISUSE" });
        outcome = kernel.run({ now: m.now, batches: m.batches, values, ...(m.ahead ? { ahead: m.ahead } : {}) });
      } catch (error) {
        outcome = { results: m.batches.map(() => ({ ok: false, error })), appended: 0, head: null, hashedAhead: 0 };
      }
      post({
        type: "done",
        id: m.id,
        appended: outcome.appended,
        head: outcome.head,
        hashedAhead: outcome.hashedAhead,
        results: outcome.results.map((r) => ("error" in r ? { ok: false, error: describe(r.error) } : r)),
      });
    } else if (m.type === "pragma") {
      try {
        db?.run(`PRAGMA ${m.pragma}`);
      } catch {}
    } else if (m.type === "close") {
      try {
        kernel?.close();
        db?.close();
      } catch {}
      db = null;
      kernel = null;
      post({ type: "closed" });
    }
  };
}

let writerUrl: string | null = null;

/** The worker's source: the three self-contained functions' texts, joined (a Blob URL works in a compiled binary). */
function writerSource(): string {
  writerUrl ??= URL.createObjectURL(
    new Blob(
      [
        `import { Database } from "bun:sqlite";\n(${writerThreadMain.toString()})(Database, ${createIngestKernel.toString()}, ${chainedEventText.toString()}, ${INGEST_FIELDS});\n`,
      ],
      { type: "application/javascript" },
    ),
  );
  return writerUrl;
}

/** at most this many groups handed to the worker and not yet answered (one written, one waiting: the worker never idles for a round trip) */
const IN_FLIGHT = 2;
/** queued submissions are merged into one transaction up to this many decisions (a submission larger than this goes alone) */
const MERGE_MAX_DECISIONS = 2_000;

export interface Submission {
  batches: IngestBatch[];
  /** as rendered (to write them in-process if the worker never got them); let go once sent */
  values: unknown[];
  packed: PackedValues;
  decisions: number;
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: unknown) => void;
}

interface InFlight {
  parts: { submission: Submission; batches: number }[];
  /** the head the group should leave if `hashesAhead` guessed right (null: sent without hashes) */
  end: ChainHead | null;
}

const GENESIS_HEX = "0".repeat(64);

/**
 * The events' hashes of a group as the kernel would compute them from `head`, in chain order, and
 * the head they lead to: every decision counted in but a repeat of an id earlier in the group (the
 * kernel's own rule), as if none were stored already and every client known. Runs on the request
 * thread, taking the chain's hashing off the writer's (which checks `head` before using them).
 */
export function hashesAhead(head: ChainHead, now: string, parts: readonly { batches: readonly IngestBatch[]; values: readonly unknown[] }[], fields: number): { hashes: string; end: ChainHead } {
  const chained = head[0] > 0;
  let seq = chained ? head[0] : 0;
  let prev = chained ? head[1] : GENESIS_HEX;
  const createdAt = chained && head[2] > now ? head[2] : now;
  const createdJson = JSON.stringify(createdAt);
  const first = seq;
  const seen = new Set<unknown>();
  let hashes = "";
  for (const { batches, values } of parts) {
    let start = 0;
    for (const batch of batches) {
      for (let k = 0; k < batch.count; k++) {
        const v = start + k * fields;
        const id = values[v];
        if (seen.has(id)) continue;
        seen.add(id);
        seq++;
        const before = batch.events[values[v + 7] as string]![2];
        prev = Bun.SHA256.hash(chainedEventText([before, values[v + 18] as string], seq, createdJson, prev, values[v + 17] as string, values[v + 15] as string), "hex") as unknown as string;
        hashes += prev;
      }
      start += batch.count * fields;
    }
  }
  return { hashes, end: seq > first ? [seq, prev, createdAt] : head };
}

/**
 * The writer thread, seen from the store: submissions queue here and go to the worker IN_FLIGHT at
 * a time, queued ones merged into one transaction (each batch keeps its own result). Each
 * submission resolves once the worker's COMMIT has returned.
 */
export class IngestWriter {
  private readonly worker: Worker;
  private status: "starting" | "ready" | "failed" | "closed" = "starting";
  private readonly queue: Submission[] = [];
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private referenced = false;
  private closing: Promise<void> | null = null;
  private onClosed: (() => void) | null = null;
  /** groups the worker has committed (or answered) so far */
  answered = 0;
  /** the head the next group will find if every group sent so far goes as guessed (null: unknown) */
  private guess: ChainHead | null = null;
  /** events committed with the hashes `hashesAhead` computed (the rest the worker hashed itself) */
  hashedAhead = 0;
  private lastSent = 0;

  constructor(
    path: string,
    pragmas: readonly string[],
    private readonly clock: () => string,
    /** after each answered group: the audit events it committed */
    private readonly onCommitted: (appended: number) => void,
    /** the worker could not open the database or died (or closes before it opened): submissions not yet sent are handed back to be written in-process */
    private readonly onFailure: (unsent: Submission[]) => void,
  ) {
    this.worker = new Worker(writerSource());
    (this.worker as unknown as { unref(): void }).unref(); // referenced only while it has work
    this.worker.onmessage = (event: MessageEvent) => this.message(event.data as WorkerMessage);
    this.worker.onerror = () => this.fail(new Error("the store's writer thread failed"));
    this.worker.postMessage({ type: "open", path, pragmas: [...pragmas] });
  }

  get ready(): boolean {
    return this.status === "ready";
  }

  /** nothing queued and nothing handed to the worker unanswered (its connection holds no lock) */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  /** Queues a group of batches (values packed); resolves with the kernel's outcome for them. */
  submit(batches: IngestBatch[], values: unknown[], packed: PackedValues): Promise<IngestOutcome> {
    return new Promise<IngestOutcome>((resolve, reject) => {
      let decisions = 0;
      for (const b of batches) decisions += b.count;
      this.queue.push({ batches, values, packed, decisions, resolve, reject });
      this.pump();
    });
  }

  pragma(pragma: string): void {
    if (this.status === "starting" || this.status === "ready") this.worker.postMessage({ type: "pragma", pragma });
  }

  private pump(): void {
    if (this.status !== "ready") return;
    while (this.queue.length > 0 && (this.inFlight.size < IN_FLIGHT || this.closing)) {
      const taken: Submission[] = [this.queue.shift()!];
      let size = taken[0]!.decisions;
      while (this.queue.length > 0 && size + this.queue[0]!.decisions <= MERGE_MAX_DECISIONS) {
        const next = this.queue.shift()!;
        size += next.decisions;
        taken.push(next);
      }
      this.send(taken);
    }
    this.reference(this.inFlight.size > 0);
  }

  /**
   * The store committed events on its own connection: the chain's head is `head` if no group is
   * with the worker, else unknown until the last one sent answers.
   */
  headMoved(head: ChainHead | null): void {
    this.guess = this.inFlight.size === 0 ? head : null;
  }

  private send(taken: Submission[]): void {
    const id = this.nextId++;
    // the transaction's clock reading is taken as it is handed over (received_at, created_at)
    const now = this.clock();
    let ahead: IngestGroup["ahead"];
    let end: ChainHead | null = null;
    if (this.guess !== null) {
      const computed = hashesAhead(this.guess, now, taken, INGEST_FIELDS);
      ahead = { head: this.guess, hashes: computed.hashes };
      end = computed.end;
    }
    this.guess = end;
    this.lastSent = id;
    let batches: IngestBatch[];
    let text: string;
    let lengths: Int32Array;
    if (taken.length === 1) {
      ({ batches } = taken[0]!);
      ({ text, lengths } = taken[0]!.packed);
    } else {
      batches = [];
      const texts: string[] = [];
      let total = 0;
      for (const s of taken) {
        for (const b of s.batches) batches.push(b);
        texts.push(s.packed.text);
        total += s.packed.lengths.length;
      }
      text = texts.join("");
      lengths = new Int32Array(total);
      let at = 0;
      for (const s of taken) {
        lengths.set(s.packed.lengths, at);
        at += s.packed.lengths.length;
      }
    }
    this.inFlight.set(id, { parts: taken.map((submission) => ({ submission, batches: submission.batches.length })), end });
    for (const s of taken) {
      // sent: nothing is written in-process from here on, so the request thread's heap lets them
      // go (emptied, not replaced: the caller may hold the same array while it waits)
      s.values.length = 0;
      s.packed = EMPTY;
    }
    this.worker.postMessage({ type: "ingest", id, now, batches, text, lengths, ...(ahead ? { ahead } : {}) }, [lengths.buffer]);
  }

  private message(m: WorkerMessage): void {
    if (m.type === "ready") {
      if (this.status !== "starting") return;
      this.status = "ready";
      this.pump();
    } else if (m.type === "done") {
      const flight = this.inFlight.get(m.id);
      if (!flight) return;
      this.inFlight.delete(m.id);
      this.answered++;
      this.hashedAhead += m.hashedAhead;
      // the last group sent tells the head for sure; an earlier one that went otherwise than guessed
      // leaves it unknown (the groups after it find another head and hash for themselves)
      if (m.id === this.lastSent) this.guess = m.head;
      else if (flight.end === null || m.head === null || flight.end.some((x, i) => x !== m.head![i])) this.guess = null;
      if (m.appended > 0) this.onCommitted(m.appended);
      let at = 0;
      for (const { submission, batches } of flight.parts) {
        const results = m.results.slice(at, at + batches).map((r): IngestResult => ("error" in r ? { ok: false, error: revive(r.error) } : r));
        at += batches;
        // the appended count belongs to the group; submissions report only their results
        submission.resolve({ results, appended: 0, head: null, hashedAhead: 0 });
      }
      this.pump();
    } else if (m.type === "failed") {
      this.fail(revive(m.error));
    } else if (m.type === "closed") {
      this.onClosed?.();
    }
  }

  private reference(on: boolean): void {
    if (on === this.referenced) return;
    this.referenced = on;
    const w = this.worker as unknown as { ref(): void; unref(): void };
    if (on) w.ref();
    else w.unref();
  }

  private fail(error: unknown): void {
    if (this.status === "failed" || this.status === "closed") return;
    this.status = "failed";
    this.worker.terminate();
    this.reference(false);
    // sent and unanswered: whether the worker committed them is unknown; the client retries (ingest is idempotent by decision id)
    const stopped = new AirlockError("unavailable", `the store's writer thread stopped (${String((error as Error)?.message ?? error)}): try again`);
    for (const flight of this.inFlight.values()) {
      for (const { submission } of flight.parts) submission.reject(stopped);
    }
    this.inFlight.clear();
    this.onFailure(this.queue.splice(0));
    this.onClosed?.();
  }

  /** Sends what is queued, lets the worker answer everything, then closes its connection. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(deadline);
        this.status = "closed";
        this.worker.terminate();
        resolve();
      };
      const deadline = setTimeout(done, 10_000);
      this.onClosed = done;
      if (this.status === "failed") return done();
      if (this.status === "starting") {
        // not open yet: whatever is queued is written in-process by the store before it closes
        this.onFailure(this.queue.splice(0));
      }
      this.pump();
      this.reference(true);
      this.worker.postMessage({ type: "close" });
    });
    return this.closing;
  }
}

type WorkerMessage =
  | { type: "ready" }
  | { type: "failed"; error: ThreadError }
  | { type: "closed" }
  | { type: "done"; id: number; appended: number; head: ChainHead | null; hashedAhead: number; results: ({ ok: true; accepted: number; duplicates: number } | { ok: false; missingClient: string } | { ok: false; error: ThreadError })[] };
