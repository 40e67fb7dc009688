/** /api/v1/decisions: batch ingest from clients (idempotent by decision id) and filtered listing. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { DecisionBatchBody, DecisionListQuery, DecisionStatsQuery, RecordId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { DecisionInput, Store } from "../../store/types";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { jsonBody, param, query } from "../validate";

type IngestResult = { accepted: number; duplicates: number };

/** at most this many decisions in one group transaction (a request of 1,000 is a group by itself) */
const GROUP_MAX_DECISIONS = 2_000;

/**
 * Coalesces the ingests that reach the store in the same turn of the event loop into one
 * transaction: one BEGIN, one COMMIT, one head update and one WAL write for many single-decision
 * requests. Each request still gets its own result (accepted/duplicates) and its own error; it is
 * answered only after the group's COMMIT, so an acknowledged decision is as durable as before.
 */
export function groupCommit(store: Store): (clientId: string | null, decisions: DecisionInput[], actor: string) => Promise<IngestResult> {
  if (!store.ingestDecisionBatches) return (clientId, decisions, actor) => store.ingestDecisions(clientId, decisions, actor);
  interface Waiting {
    clientId: string | null;
    decisions: DecisionInput[];
    actor: string;
    resolve: (result: IngestResult) => void;
    reject: (error: unknown) => void;
  }
  let queue: Waiting[] = [];
  let scheduled = false;
  const run = async (group: Waiting[]) => {
    if (group.length === 1) {
      const [w] = group as [Waiting];
      store.ingestDecisions(w.clientId, w.decisions, w.actor).then(w.resolve, w.reject);
      return;
    }
    try {
      const results = await store.ingestDecisionBatches!(group);
      results.forEach((r, i) => (r.ok ? group[i]!.resolve(r.value) : group[i]!.reject(r.error)));
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  };
  const flush = () => {
    scheduled = false;
    const waiting = queue;
    queue = [];
    let group: Waiting[] = [];
    let size = 0;
    for (const w of waiting) {
      if (group.length > 0 && size + w.decisions.length > GROUP_MAX_DECISIONS) {
        void run(group);
        group = [];
        size = 0;
      }
      group.push(w);
      size += w.decisions.length;
    }
    if (group.length > 0) void run(group);
  };
  return (clientId, decisions, actor) =>
    new Promise<IngestResult>((resolve, reject) => {
      queue.push({ clientId, decisions, actor, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/** sessions remembered as belonging to a client (a session's client never changes) */
const OWNERS_MAX = 10_000;

export function decisionRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const client = guard(ctx, "client");
  const ingest = groupCommit(ctx.store);
  // session id → its client, for sessions already checked: a session's client_id is set at creation
  // and never changes, and sessions are never deleted, so a positive answer stays true (a negative
  // one is never remembered: the session may be created a moment later)
  const owners = new Map<string, string | null>();

  app.post("/", bodyLimit({ maxSize: 4 * 1024 * 1024, onError: () => { throw new AirlockError("invalid_input", "request body too large (at most 4 MiB)"); } }), client, async (c) => {
    const { decisions } = await jsonBody(c, DecisionBatchBody);
    const cred = c.var.cred;
    // a client reports decisions of its own sessions only
    let checked: string | null = null; // a batch usually names one session: check it once
    for (let i = 0; i < decisions.length; i++) {
      const id = decisions[i]!.session_id;
      if (id === null || id === checked) continue;
      if (owners.get(id) !== cred.clientId) {
        const session = await ctx.store.getSession(id);
        if (!session || session.client_id !== cred.clientId) {
          throw new AirlockError("invalid_input", `decision ${i} names session ${JSON.stringify(id)}, which is not a session of this client`, [{ path: `body.decisions[${i}].session_id`, message: "unknown session" }]);
        }
        if (owners.size >= OWNERS_MAX) owners.clear();
        owners.set(id, session.client_id);
      }
      checked = id;
    }
    // what the live event may show is kept, not the whole batch: the request thread's heap lets
    // the rest go while the batch is written
    const recent = decisions.length <= 50 ? decisions : decisions.slice(-50);
    const result = await ingest(cred.clientId, decisions, cred.actor);
    // the live payload is built only for someone listening (the admin UI's event stream)
    if (result.accepted > 0 && ctx.bus.listeners > 0) {
      ctx.bus.publish({ type: "decision", data: { count: result.accepted, decisions: recent } });
    }
    return c.json(result);
  });

  app.get("/", readers, async (c) => {
    const { limit, cursor, ...filter } = query(c, DecisionListQuery);
    return c.json(await ctx.store.listDecisions(filter, { limit, ...(cursor === undefined ? {} : { cursor }) }));
  });

  app.get("/stats", readers, async (c) => {
    const { minutes, top } = query(c, DecisionStatsQuery);
    return c.json(await ctx.store.decisionStats(minutes, top));
  });

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", RecordId);
    const decision = await ctx.store.getDecision(id);
    if (!decision) throw new AirlockError("not_found", `no decision ${JSON.stringify(id)}`);
    return c.json(decision);
  });

  return app;
}
