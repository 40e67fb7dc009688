/** /api/v1/roles: CRUD, and each role's effective bundle (ETag, conditional GET) for daemons. */
import { Hono } from "hono";
import { formatProblem } from "../../policy/load";
import { validateRoleDocument } from "../../policy/validate";
import { DocId, IfVersionHeader } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { JsonObject } from "../../protocol/records";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { param, parseWith, rawJson } from "../validate";

export function roleRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const bundleReaders = guard(ctx, "admin", "viewer", "client");
  const admin = guard(ctx, "admin");

  const validated = (body: unknown, id?: string): JsonObject => {
    if (id !== undefined && body !== null && typeof body === "object" && !Array.isArray(body)) {
      const given = (body as JsonObject).id;
      if (given === undefined) (body as JsonObject).id = id;
      else if (given !== id) throw new AirlockError("invalid_input", `body.id ${JSON.stringify(given)} does not match the URL's ${JSON.stringify(id)}`, [{ path: "body.id", message: "must match the URL" }]);
    }
    const { role, problems } = validateRoleDocument(body);
    if (!role || problems.length > 0) {
      throw new AirlockError(
        "invalid_input",
        `invalid role: ${problems.map((p) => formatProblem(p).replace(/^body: /, "")).join("; ")}`,
        problems.map((p) => ({ path: p.path ? `body.${p.path}` : "body", message: p.message })),
      );
    }
    return role as unknown as JsonObject;
  };

  app.get("/", readers, async (c) => c.json({ items: await ctx.store.listRoles() }));

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", DocId);
    const record = await ctx.store.getRole(id);
    if (!record) throw new AirlockError("not_found", `no role ${JSON.stringify(id)}`);
    return c.json(record);
  });

  app.get("/:id/bundle", bundleReaders, async (c) => {
    const id = param(c, "id", DocId);
    const bundle = await ctx.store.getRoleBundle(id);
    if (!bundle) throw new AirlockError("not_found", `no role ${JSON.stringify(id)}`);
    const etag = `"${bundle.etag}"`;
    c.header("ETag", etag);
    c.header("Cache-Control", "no-cache");
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim() === etag)) return c.body(null, 304);
    return c.json(bundle);
  });

  app.post("/", admin, async (c) => {
    const record = await ctx.store.createRole(validated(await rawJson(c)), c.var.cred.actor);
    ctx.bus.publish({ type: "role", data: { action: "created", id: record.id, version: record.version } });
    return c.json(record, 201);
  });

  app.put("/:id", admin, async (c) => {
    const id = param(c, "id", DocId);
    const ifVersion = parseWith(IfVersionHeader, c.req.header("if-match")?.replaceAll('"', ""), "header.If-Match");
    const record = await ctx.store.updateRole(id, validated(await rawJson(c), id), c.var.cred.actor, ifVersion);
    ctx.bus.publish({ type: "role", data: { action: "updated", id, version: record.version } });
    return c.json(record);
  });

  app.delete("/:id", admin, async (c) => {
    const id = param(c, "id", DocId);
    await ctx.store.deleteRole(id, c.var.cred.actor);
    ctx.bus.publish({ type: "role", data: { action: "deleted", id } });
    return c.body(null, 204);
  });

  return app;
}
