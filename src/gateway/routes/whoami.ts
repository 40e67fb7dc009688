/** /api/v1/auth/whoami: which class of credential this is, and its audit actor. */
import { Hono } from "hono";
import { guard, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";

export function whoamiRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", guard(ctx, "admin", "viewer", "client", "session", "enrollment", "user", "approver"), (c) => c.json({ kind: c.var.cred.kind, actor: c.var.cred.actor }));
  return app;
}
