/**
 * /api/v1/sessions: created by a client; `ready → running → exited`, `revoked` from any live state.
 * A client sees and moves only its own sessions; admins and viewers see all; only admins and the
 * owning client revoke.
 */
import { Hono } from "hono";
import { CreateSessionBody, RecordId, SessionListQuery, SessionTransitionBody } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { SessionRecord } from "../../protocol/records";
import { guard, type Credential, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { hashSecret, newId, newSecret } from "../tokens";
import { jsonBody, param, query } from "../validate";

export function sessionRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, "admin", "viewer", "client");
  const client = guard(ctx, "client");
  const movers = guard(ctx, "admin", "client");

  /** The session, if this credential may see it (a client: only its own; otherwise 404, not 403, so ids do not leak). */
  const visible = async (cred: Credential, id: string): Promise<SessionRecord> => {
    const session = await ctx.store.getSession(id);
    if (!session || (cred.kind === "client" && session.client_id !== cred.clientId)) {
      throw new AirlockError("not_found", `no session ${JSON.stringify(id)}`);
    }
    return session;
  };

  const publish = (session: SessionRecord) => ctx.bus.publish({ type: "session", data: session });

  app.post("/", client, async (c) => {
    const body = await jsonBody(c, CreateSessionBody);
    if (!(await ctx.store.getRole(body.role))) {
      throw new AirlockError("invalid_input", `unknown role ${JSON.stringify(body.role)}`, [{ path: "body.role", message: "no such role" }]);
    }
    const secret = newSecret("session");
    const session = await ctx.store.createSession(
      { id: body.id ?? newId("ses"), client_id: c.var.cred.clientId, agent: body.agent, role: body.role, user: body.user, host: body.host, cwd: body.cwd, pid: body.pid ?? null, token_hash: await hashSecret(secret) },
      c.var.cred.actor,
    );
    publish(session);
    return c.json({ session, token: secret }, 201);
  });

  app.get("/", readers, async (c) => {
    const { limit, cursor, ...filter } = query(c, SessionListQuery);
    if (c.var.cred.kind === "client") filter.client_id = c.var.cred.clientId ?? "";
    return c.json(await ctx.store.listSessions(filter, { limit, ...(cursor === undefined ? {} : { cursor }) }));
  });

  app.get("/:id", readers, async (c) => c.json(await visible(c.var.cred, param(c, "id", RecordId))));

  app.post("/:id/status", movers, async (c) => {
    const id = param(c, "id", RecordId);
    const body = await jsonBody(c, SessionTransitionBody);
    await visible(c.var.cred, id);
    if (c.var.cred.kind === "admin" && body.status !== "revoked") {
      throw new AirlockError("forbidden", "an admin can revoke a session; only its client reports running and exited");
    }
    const session = await ctx.store.transitionSession(id, body.status, c.var.cred.actor, { exit_code: body.exit_code ?? null });
    publish(session);
    return c.json(session);
  });

  app.post("/:id/revoke", movers, async (c) => {
    const id = param(c, "id", RecordId);
    await visible(c.var.cred, id);
    const session = await ctx.store.transitionSession(id, "revoked", c.var.cred.actor);
    publish(session);
    return c.json(session);
  });

  return app;
}
