/**
 * /api/v1/check: a dry verdict from the same engine. A session credential is judged under its own
 * session's role, and a session that is not live is blocked.
 */
import { Hono } from "hono";
import { compilePolicySet, displayWords, evaluateAnalysis, type CompiledPolicySet, type Verdict } from "../../policy/engine";
import type { Policy, Role } from "../../policy/schema";
import { CheckBody } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import { guard, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { jsonBody } from "../validate";

export function checkRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const anyone = guard(ctx, "admin", "viewer", "client", "session");
  const cache = new Map<string, { etag: string; set: CompiledPolicySet }>();

  const compiled = async (roleId: string): Promise<CompiledPolicySet> => {
    const bundle = await ctx.store.getRoleBundle(roleId);
    if (!bundle) throw new AirlockError("invalid_input", `unknown role ${JSON.stringify(roleId)}`, [{ path: "body.role", message: "no such role" }]);
    const hit = cache.get(roleId);
    if (hit && hit.etag === bundle.etag) return hit.set;
    const set = compilePolicySet({
      role: bundle.role.document as unknown as Role,
      policies: bundle.policies.map((p) => p.document as unknown as Policy),
      profiles: ctx.profiles,
    });
    cache.set(roleId, { etag: bundle.etag, set });
    return set;
  };

  app.post("/", anyone, async (c) => {
    const body = await jsonBody(c, CheckBody);
    const cred = c.var.cred;
    const input = body.command ?? displayWords(body.argv ?? []);
    if (cred.kind === "session") {
      const session = cred.session!;
      if (body.role !== undefined && body.role !== session.role) {
        throw new AirlockError("forbidden", "a session credential checks under its own session's role", [{ path: "body.role", message: "must be omitted or equal the session's role" }]);
      }
      if (session.status === "revoked" || session.status === "exited") {
        const verdict: Verdict = {
          verdict: "block",
          source: "default",
          role: session.role,
          policy: null,
          rule: null,
          pattern: null,
          reason: `session ${session.id} is ${session.status}; every check of it is blocked`,
          normalized: [],
          command: null,
          commands: [],
        };
        return c.json({ ...verdict, input, session: session.id });
      }
      const verdict = evaluateAnalysis(await compiled(session.role), ctx.analyzer.analyze(input));
      return c.json({ ...verdict, input, session: session.id });
    }
    const verdict = evaluateAnalysis(await compiled(body.role ?? ctx.defaultRole), ctx.analyzer.analyze(input));
    return c.json({ ...verdict, input });
  });

  return app;
}
