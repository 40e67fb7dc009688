/** /api/v1/decisions: batch ingest from clients (idempotent by decision id) and filtered listing. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { DecisionBatchBody, DecisionListQuery, RecordId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { jsonBody, param, query } from "../validate";

export function decisionRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const client = guard(ctx, "client");

  app.post("/", bodyLimit({ maxSize: 4 * 1024 * 1024, onError: () => { throw new AirlockError("invalid_input", "request body too large (at most 4 MiB)"); } }), client, async (c) => {
    const { decisions } = await jsonBody(c, DecisionBatchBody);
    const cred = c.var.cred;
    // a client reports decisions of its own sessions only
    const sessionIds = [...new Set(decisions.map((d) => d.session_id).filter((s): s is string => s !== null))];
    for (const id of sessionIds) {
      const session = await ctx.store.getSession(id);
      if (!session || session.client_id !== cred.clientId) {
        const at = decisions.findIndex((d) => d.session_id === id);
        throw new AirlockError("invalid_input", `decision ${at} names session ${JSON.stringify(id)}, which is not a session of this client`, [{ path: `body.decisions[${at}].session_id`, message: "unknown session" }]);
      }
    }
    const result = await ctx.store.ingestDecisions(cred.clientId, decisions, cred.actor);
    if (result.accepted > 0) ctx.bus.publish({ type: "decision", data: { count: result.accepted, decisions: decisions.length <= 50 ? decisions : decisions.slice(-50) } });
    return c.json(result);
  });

  app.get("/", readers, async (c) => {
    const { limit, cursor, ...filter } = query(c, DecisionListQuery);
    return c.json(await ctx.store.listDecisions(filter, { limit, ...(cursor === undefined ? {} : { cursor }) }));
  });

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", RecordId);
    const decision = await ctx.store.getDecision(id);
    if (!decision) throw new AirlockError("not_found", `no decision ${JSON.stringify(id)}`);
    return c.json(decision);
  });

  return app;
}
