/** /api/v1/policies: CRUD; every write is validated exactly like `airlock policy lint`. */
import { Hono } from "hono";
import { formatProblem } from "../../policy/load";
import { validatePolicyDocument } from "../../policy/validate";
import { DocId, IfVersionHeader } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { JsonObject } from "../../protocol/records";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { param, parseWith, rawJson } from "../validate";

export function policyRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const admin = guard(ctx, "admin");

  const validated = async (body: unknown, id?: string): Promise<JsonObject> => validatePolicyBody(ctx, body, id);

  app.get("/", readers, async (c) => c.json({ items: await ctx.store.listPolicies() }));

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", DocId);
    const record = await ctx.store.getPolicy(id);
    if (!record) throw new AirlockError("not_found", `no policy ${JSON.stringify(id)}`);
    return c.json(record);
  });

  app.post("/", admin, async (c) => {
    const doc = await validated(await rawJson(c));
    const record = await ctx.store.createPolicy(doc, c.var.cred.actor);
    ctx.bus.publish({ type: "policy", data: { action: "created", id: record.id, version: record.version } });
    return c.json(record, 201);
  });

  app.put("/:id", admin, async (c) => {
    const id = param(c, "id", DocId);
    const ifVersion = parseWith(IfVersionHeader, c.req.header("if-match")?.replaceAll('"', ""), "header.If-Match");
    const doc = await validated(await rawJson(c), id);
    const record = await ctx.store.updatePolicy(id, doc, c.var.cred.actor, ifVersion);
    ctx.bus.publish({ type: "policy", data: { action: "updated", id, version: record.version } });
    return c.json(record);
  });

  app.delete("/:id", admin, async (c) => {
    const id = param(c, "id", DocId);
    await ctx.store.deletePolicy(id, c.var.cred.actor);
    ctx.bus.publish({ type: "policy", data: { action: "deleted", id } });
    return c.body(null, 204);
  });

  return app;
}

/**
 * A policy document validated exactly like `airlock policy lint`: an `invalid_policy` error whose
 * details name each field (`<where>.rules[0].command`) otherwise.
 */
export function validatePolicyBody(ctx: Pick<RouteContext, "profiles" | "analyzer">, body: unknown, id?: string, where = "body"): JsonObject {
  if (id !== undefined && body !== null && typeof body === "object" && !Array.isArray(body)) {
    const given = (body as JsonObject).id;
    if (given === undefined) (body as JsonObject).id = id;
    else if (given !== id) throw new AirlockError("invalid_input", `${where}.id ${JSON.stringify(given)} does not match the URL's ${JSON.stringify(id)}`, [{ path: `${where}.id`, message: "must match the URL" }]);
  }
  const { policy, problems } = validatePolicyDocument(body, ctx.profiles, ctx.analyzer);
  const errors = problems.filter((p) => p.severity === "error");
  if (!policy || errors.length > 0) {
    throw new AirlockError(
      "invalid_policy",
      `invalid policy: ${errors.map((p) => formatProblem(p).replace(/^body: /, "")).join("; ")}`,
      errors.map((p) => ({ path: p.path ? `${where}.${p.path}` : where, message: p.message })),
    );
  }
  return policy as unknown as JsonObject;
}
