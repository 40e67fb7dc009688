/**
 * /api/v1/pairings (docs/approvals.md): a signed-in user pairs a daemon (its public keys) and gets
 * a 6-character code; the approver claims it with its own public keys and gets an approver token
 * bound to the pairing. Unpairing revokes that token and tells the approver's sockets.
 */
import { Hono } from "hono";
import { newPairingCode } from "../../approvals/codes";
import { ClaimPairingBody, CreatePairingBody, PairingListQuery, type ClaimPairingResponse, type CreatePairingResponse, type PairingRecord } from "../../protocol/approvals";
import { RecordId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import type { StoredPairing } from "../../store/types";
import { clientAddress, guard, type Credential, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { hashSecret, newId, newSecret } from "../tokens";
import { jsonBody, param, query } from "../validate";

export const PAIRING_CODE_TTL_S = 300;

/** may this credential see the pairing? (admins and viewers all; a user, client or approver its own) */
export function seesPairing(cred: Credential, p: StoredPairing): boolean {
  switch (cred.kind) {
    case "admin":
    case "viewer":
      return true;
    case "user":
      return p.user === cred.actor;
    case "client":
      return p.client_id === cred.clientId;
    case "approver":
      return p.id === cred.pairingId;
    default:
      return false;
  }
}

/**
 * Unpairs: the pairing is removed, its approver tokens revoked and its pending approvals expired
 * (one transaction), then the approver's sockets are told `unpaired` and closed, here and on the
 * other replicas.
 */
export async function removePairing(ctx: RouteContext, id: string, actor: string): Promise<Awaited<ReturnType<RouteContext["store"]["removePairing"]>>> {
  const removed = await ctx.store.removePairing(id, actor);
  ctx.hub.unpaired(id);
  ctx.hub.pairingChanged(removed.pairing, "removed");
  for (const approvalId of removed.approvals_expired) {
    const a = await ctx.store.getApproval(approvalId);
    if (a) ctx.hub.approvalChanged(a, "expired");
  }
  ctx.bus.publish({ type: "token", data: { action: "revoked", ids: removed.tokens_revoked } });
  return removed;
}

export function pairingRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const user = guard(ctx, "user");
  const listers = guard(ctx, "admin", "viewer", "user");
  const viewers = guard(ctx, "admin", "viewer", "user", "client", "approver");
  const removers = guard(ctx, "admin", "user", "approver");

  /** the pairing, if this credential may see it; else 404 (ids do not leak) */
  const visible = async (cred: Credential, id: string): Promise<StoredPairing> => {
    const p = await ctx.store.getPairing(id);
    if (!p || !seesPairing(cred, p)) throw new AirlockError("not_found", `no pairing ${JSON.stringify(id)}`);
    return p;
  };

  app.post("/", user, async (c) => {
    const body = await jsonBody(c, CreatePairingBody);
    const expires_at = new Date(ctx.now().getTime() + PAIRING_CODE_TTL_S * 1000).toISOString();
    for (let attempt = 0; ; attempt++) {
      const code = newPairingCode();
      try {
        const stored = await ctx.store.createPairing(
          { id: newId("pair"), client_id: body.client_id, user: c.var.cred.actor, label: body.label ?? null, daemon: body.daemon, code_hash: await hashSecret(code), code_expires_at: expires_at },
          c.var.cred.actor,
        );
        ctx.hub.pairingChanged(stored, "created");
        const response: CreatePairingResponse = { pairing: ctx.hub.withPresence(stored), code, expires_at };
        return c.json(response, 201);
      } catch (error) {
        // another pending pairing drew the same code: draw again
        if (!(error instanceof AirlockError && error.code === "conflict" && error.message.includes("code")) || attempt >= 3) throw error;
      }
    }
  });

  app.post("/claim", async (c) => {
    const address = clientAddress(c);
    if (!ctx.limiter.allowed(address)) throw new AirlockError("rate_limited", "too many failed attempts; try again later");
    const body = await jsonBody(c, ClaimPairingBody);
    const secret = newSecret("approver");
    try {
      const { pairing } = await ctx.store.claimPairing(
        await hashSecret(body.code),
        { approver: body.approver, label: body.label ?? null },
        { id: newId("tok"), kind: "approver", name: `approver${body.label ? `: ${body.label}` : ""}`, hash: await hashSecret(secret) },
      );
      ctx.hub.pairingChanged(pairing, "claimed");
      const response: ClaimPairingResponse = { pairing: ctx.hub.withPresence(pairing), approver_token: secret };
      return c.json(response);
    } catch (error) {
      if (error instanceof AirlockError && (error.code === "not_found" || error.code === "expired")) ctx.limiter.fail(address);
      throw error;
    }
  });

  app.get("/", listers, async (c) => {
    const filter = query(c, PairingListQuery);
    const cred = c.var.cred;
    const items = await ctx.store.listPairings(cred.kind === "user" ? { ...filter, user: cred.actor } : filter);
    return c.json({ items: items.map((p): PairingRecord => ctx.hub.withPresence(p)) });
  });

  app.get("/:id", viewers, async (c) => c.json(ctx.hub.withPresence(await visible(c.var.cred, param(c, "id", RecordId)))));

  app.delete("/:id", removers, async (c) => {
    const id = param(c, "id", RecordId);
    await visible(c.var.cred, id);
    const removed = await removePairing(ctx, id, c.var.cred.actor);
    return c.json({ pairing: ctx.hub.withPresence(removed.pairing), tokens_revoked: removed.tokens_revoked });
  });

  return app;
}
