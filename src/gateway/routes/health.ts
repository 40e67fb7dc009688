/** /healthz (process up), /readyz (store reachable, and linked to the other replicas), /metrics (Prometheus), /api/v1/status. */
import { Hono } from "hono";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";

export function healthRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // a replica sharing a PostgreSQL store is ready once it receives the other replicas' events
  let linked = !ctx.bus.shared;
  void ctx.bus.ready.then(() => (linked = true));

  app.get("/healthz", (c) => c.json({ status: "ok", version: ctx.version }));

  app.get("/readyz", async (c) => {
    try {
      await ctx.store.ping();
      if (!linked) return c.json({ status: "starting", store: ctx.store.backend, reason: "not yet receiving the other replicas' events" }, 503);
      return c.json({ status: "ready", store: ctx.store.backend });
    } catch (error) {
      ctx.log.warn("store not reachable", error);
      return c.json({ status: "unavailable", store: ctx.store.backend }, 503);
    }
  });

  app.get("/metrics", async (c) => {
    let counts = null;
    let approvals = null;
    try {
      counts = await ctx.store.counts();
      approvals = await ctx.store.approvalCounts();
    } catch (error) {
      ctx.log.warn("metrics without store counts", error);
    }
    return c.text(ctx.metrics.render(counts, approvals), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.get("/api/v1/status", guard(ctx, ...READERS), async (c) =>
    c.json({ version: ctx.version, store: ctx.store.backend, counts: await ctx.store.counts(), head: await ctx.store.auditHead() }),
  );

  return app;
}
