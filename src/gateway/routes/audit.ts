/** /api/v1/audit: keyset-paginated events, JSONL export (streamed), chain verification. */
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { AuditListQuery } from "../../protocol/api";
import { verifyStoreAudit } from "../../store/verify";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { query } from "../validate";

export function auditRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);

  app.get("/", readers, async (c) => {
    const { limit, cursor, ...filter } = query(c, AuditListQuery);
    return c.json(await ctx.store.listAudit(filter, { limit, ...(cursor === undefined ? {} : { cursor }) }));
  });

  app.get("/export", readers, (c) => {
    c.header("Content-Type", "application/x-ndjson; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="airlock-audit-${ctx.now().toISOString().slice(0, 10)}.jsonl"`);
    return stream(c, async (s) => {
      let buffer = "";
      for await (const event of ctx.store.iterateAudit()) {
        buffer += `${JSON.stringify(event)}\n`;
        if (buffer.length > 64 * 1024) {
          await s.write(buffer);
          buffer = "";
        }
      }
      if (buffer) await s.write(buffer);
    });
  });

  app.get("/verify", readers, async (c) => c.json(await verifyStoreAudit(ctx.store)));

  return app;
}
