/** /api/v1/tokens: admin and viewer tokens. A secret is shown once, at creation. */
import { Hono } from "hono";
import { CreateTokenBody, RecordId, TokenListQuery } from "../../protocol/api";
import { guard, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { hashSecret, newId, newSecret } from "../tokens";
import { jsonBody, param, query } from "../validate";
import { removePairing } from "./pairings";

export function tokenRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const admin = guard(ctx, "admin");

  app.get("/", admin, async (c) => {
    const { kind } = query(c, TokenListQuery);
    return c.json({ items: await ctx.store.listTokens(kind) });
  });

  app.post("/", admin, async (c) => {
    const body = await jsonBody(c, CreateTokenBody);
    const secret = newSecret(body.kind);
    const expires_at = body.expires_in_days ? new Date(ctx.now().getTime() + body.expires_in_days * 86_400_000).toISOString() : null;
    const record = await ctx.store.createToken({ id: newId("tok"), kind: body.kind, name: body.name, hash: await hashSecret(secret), expires_at }, c.var.cred.actor);
    ctx.bus.publish({ type: "token", data: { action: "created", id: record.id } });
    return c.json({ token: secret, record }, 201);
  });

  app.post("/:id/revoke", admin, async (c) => {
    const id = param(c, "id", RecordId);
    // an approver's token is its pairing: revoking it unpairs (tokens revoked, sockets closed)
    const approverToken = async () => (await ctx.store.listTokens("approver")).find((t) => t.id === id);
    const binding = (await approverToken()) ? await ctx.store.getTokenBinding(id) : null;
    const pairing = binding?.pairing_id ? await ctx.store.getPairing(binding.pairing_id) : null;
    if (pairing && pairing.status !== "removed") {
      await removePairing(ctx, pairing.id, c.var.cred.actor);
      const record = await approverToken();
      if (record?.revoked_at) return c.json(record);
    }
    const record = await ctx.store.revokeToken(id, c.var.cred.actor);
    ctx.bus.publish({ type: "token", data: { action: "revoked", id } });
    return c.json(record);
  });

  return app;
}
