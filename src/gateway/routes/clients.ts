/** /api/v1/clients: enrollment (one-time token → client credential), listing, revocation. */
import { Hono } from "hono";
import { CreateEnrollmentTokenBody, EnrollBody, RecordId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { hashSecret, newId, newSecret } from "../tokens";
import { jsonBody, param } from "../validate";

export function clientRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const admin = guard(ctx, "admin");
  const enrollment = guard(ctx, "enrollment");

  app.post("/enrollment-tokens", admin, async (c) => {
    const body = await jsonBody(c, CreateEnrollmentTokenBody);
    const secret = newSecret("enrollment");
    const expires_at = new Date(ctx.now().getTime() + body.expires_in_minutes * 60_000).toISOString();
    const record = await ctx.store.createToken({ id: newId("enr"), kind: "enrollment", name: body.name, hash: await hashSecret(secret), expires_at }, c.var.cred.actor);
    return c.json({ token: secret, record }, 201);
  });

  app.post("/enroll", enrollment, async (c) => {
    const body = await jsonBody(c, EnrollBody);
    const clientId = newId("cli");
    const secret = newSecret("client");
    const result = await ctx.store.enrollClient(
      c.var.cred.hash,
      { id: clientId, ...body },
      { id: newId("tok"), kind: "client", name: `client ${body.name}`, hash: await hashSecret(secret), client_id: clientId },
    );
    ctx.bus.publish({ type: "client", data: { action: "enrolled", id: clientId } });
    return c.json({ client: result.client, token: secret }, 201);
  });

  app.get("/", readers, async (c) => c.json({ items: await ctx.store.listClients() }));

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", RecordId);
    const client = await ctx.store.getClient(id);
    if (!client) throw new AirlockError("not_found", `no client ${JSON.stringify(id)}`);
    return c.json(client);
  });

  app.post("/:id/revoke", admin, async (c) => {
    const id = param(c, "id", RecordId);
    const client = await ctx.store.revokeClient(id, c.var.cred.actor);
    ctx.bus.publish({ type: "client", data: { action: "revoked", id } });
    return c.json(client);
  });

  return app;
}
