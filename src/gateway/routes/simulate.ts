/**
 * POST /api/v1/policies/simulate: replays the last N recorded decisions against a draft policy and
 * reports each one whose verdict would change. The draft is validated exactly like a save. It
 * replaces the stored policy of the same id in the roles that attach it; a draft with a new id is
 * added to every replayed role (or to the one named).
 */
import { Hono } from "hono";
import * as v from "valibot";
import { compilePolicySet, evaluateAnalysis, evaluateTool, type CompiledPolicySet, type Verdict } from "../../policy/engine";
import type { Policy, Role } from "../../policy/schema";
import { DocId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { DecisionRecord } from "../../protocol/records";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { jsonBody } from "../validate";
import { validatePolicyBody } from "./policies";

export const MAX_SIMULATE = 1000;
const STORE_PAGE = 500;

const SimulateBody = v.strictObject({
  policy: v.unknown(),
  role: v.optional(DocId),
  limit: v.optional(v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(1, "must be at least 1"), v.maxValue(MAX_SIMULATE, `must be at most ${MAX_SIMULATE}`)), 200),
});

export type ChangeKind = "newly_blocked" | "newly_allowed" | "changed";

export interface SimulatedChange {
  kind: ChangeKind;
  decision_id: string;
  role: string;
  command: string;
  decided_at: string;
  before: { verdict: string; policy: string | null; rule: string | null; reason: string };
  after: { verdict: string; policy: string | null; rule: string | null; reason: string };
}

/** a file or MCP tool call as the hook recorded it (`Write /repo/.env`), not a shell command */
function asToolCall(d: DecisionRecord): { tool: string; path: string | null } | null {
  const tool = d.tool;
  if (!tool || !/^(?:[A-Z][A-Za-z]*|mcp__\S+)$/.test(tool)) return null;
  if (d.command === tool) return { tool, path: null };
  if (d.command.startsWith(`${tool} `)) return { tool, path: d.command.slice(tool.length + 1) };
  return null;
}

function kindOf(before: string, after: string): ChangeKind {
  if (after === "block") return "newly_blocked";
  if (after === "allow") return "newly_allowed";
  return "changed";
}

export function simulateRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);

  app.post("/", readers, async (c) => {
    const body = await jsonBody(c, SimulateBody);
    const draft = validatePolicyBody(ctx, body.policy, undefined, "body.policy") as unknown as Policy;
    const stored = await ctx.store.getPolicy(draft.id);
    if (body.role !== undefined && !(await ctx.store.getRole(body.role))) {
      throw new AirlockError("invalid_input", `unknown role ${JSON.stringify(body.role)}`, [{ path: "body.role", message: "no such role" }]);
    }

    // the last N decisions, newest first
    const decisions: DecisionRecord[] = [];
    let cursor: string | undefined;
    while (decisions.length < body.limit) {
      const page = await ctx.store.listDecisions(body.role === undefined ? {} : { role: body.role }, { limit: Math.min(STORE_PAGE, body.limit - decisions.length), ...(cursor ? { cursor } : {}) });
      decisions.push(...page.items);
      if (!page.next_cursor || page.items.length === 0) break;
      cursor = page.next_cursor;
    }

    const sets = new Map<string, { before: CompiledPolicySet; after: CompiledPolicySet } | null>();
    const setsFor = async (roleId: string) => {
      if (sets.has(roleId)) return sets.get(roleId)!;
      const bundle = await ctx.store.getRoleBundle(roleId);
      let pair: { before: CompiledPolicySet; after: CompiledPolicySet } | null = null;
      if (bundle) {
        const role = bundle.role.document as unknown as Role;
        const policies = bundle.policies.map((p) => p.document as unknown as Policy);
        const attached = policies.some((p) => p.id === draft.id);
        const draftPolicies = attached ? policies.map((p) => (p.id === draft.id ? draft : p)) : stored ? policies : [...policies, draft];
        pair = {
          before: compilePolicySet({ role, policies, profiles: ctx.profiles }),
          after: compilePolicySet({ role, policies: draftPolicies, profiles: ctx.profiles }),
        };
      }
      sets.set(roleId, pair);
      return pair;
    };

    const changes: SimulatedChange[] = [];
    let replayed = 0;
    let skipped = 0;
    for (const d of decisions) {
      const pair = d.role ? await setsFor(d.role) : null;
      if (!pair) {
        skipped++;
        continue;
      }
      replayed++;
      const call = asToolCall(d);
      const judge = (set: CompiledPolicySet): Verdict => (call ? evaluateTool(set, { ...call, root: d.cwd }) : evaluateAnalysis(set, ctx.analyzer.analyze(d.command)));
      const before = judge(pair.before);
      const after = judge(pair.after);
      if (before.verdict === after.verdict) continue;
      const view = (x: Verdict) => ({ verdict: x.verdict, policy: x.policy, rule: x.rule, reason: x.reason });
      changes.push({ kind: kindOf(before.verdict, after.verdict), decision_id: d.id, role: d.role!, command: d.command, decided_at: d.decided_at, before: view(before), after: view(after) });
    }
    const count = (k: ChangeKind) => changes.filter((x) => x.kind === k).length;
    return c.json({
      policy: draft.id,
      new_policy: stored === null,
      role: body.role ?? null,
      counts: { considered: decisions.length, replayed, skipped, changed: changes.length, newly_blocked: count("newly_blocked"), newly_allowed: count("newly_allowed"), other: count("changed") },
      changes,
    });
  });

  return app;
}
