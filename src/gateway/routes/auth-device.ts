/**
 * /api/v1/auth/device: sign-in by device authorization (RFC 8628 shape, docs/approvals.md). The CLI
 * starts a request and polls; a signed-in admin or viewer looks the user code up and approves it
 * in the UI; the next poll gets a `user` token acting as `user:<approving token id>`.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { formatUserCode, newUserCode } from "../../approvals/codes";
import { DeviceApproveBody, DeviceStartBody, DeviceTokenBody, UserCodeInput, type DeviceRequestRecord, type DeviceStartResponse, type DeviceTokenResponse } from "../../protocol/approvals";
import { AirlockError } from "../../protocol/errors";
import type { DeviceRequest } from "../../store/types";
import { clientAddress, guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { hashSecret, newId, newSecret } from "../tokens";
import { jsonBody, param } from "../validate";

export const DEVICE_CODE_TTL_S = 600;
export const DEVICE_POLL_INTERVAL_S = 5;

/** `<public URL>` or the request's origin, without a trailing slash */
export function publicBase(ctx: RouteContext, c: Context): string {
  return (ctx.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

export function deviceRecord(r: DeviceRequest): DeviceRequestRecord {
  return { user_code: formatUserCode(r.user_code), client_name: r.client_name, status: r.status, created_at: r.created_at, expires_at: r.expires_at };
}

export function deviceRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);

  app.post("/", async (c) => {
    const address = clientAddress(c);
    if (!ctx.starts.allowed(address)) throw new AirlockError("rate_limited", "too many sign-in attempts from this address; try again later");
    const body = await jsonBody(c, DeviceStartBody);
    ctx.starts.fail(address);
    const deviceCode = newSecret("device");
    const expires_at = new Date(ctx.now().getTime() + DEVICE_CODE_TTL_S * 1000).toISOString();
    let request: DeviceRequest | null = null;
    for (let attempt = 0; request === null; attempt++) {
      try {
        request = await ctx.store.createDeviceRequest(
          { id: newId("dev"), device_hash: await hashSecret(deviceCode), user_code: newUserCode(), client_name: body.client_name ?? null, interval: DEVICE_POLL_INTERVAL_S, expires_at },
          `anonymous:${address}`,
        );
      } catch (error) {
        // a live request already holds this user code (1 in 8.5e11): draw another
        if (!(error instanceof AirlockError && error.code === "conflict") || attempt >= 3) throw error;
      }
    }
    const base = publicBase(ctx, c);
    const code = formatUserCode(request.user_code);
    const response: DeviceStartResponse = {
      device_code: deviceCode,
      user_code: code,
      verification_uri: `${base}/device`,
      verification_uri_complete: `${base}/device?code=${code}`,
      expires_in: DEVICE_CODE_TTL_S,
      interval: request.interval,
    };
    return c.json(response);
  });

  app.post("/token", async (c) => {
    const address = clientAddress(c);
    if (!ctx.limiter.allowed(address)) throw new AirlockError("rate_limited", "too many failed attempts; try again later");
    const body = await jsonBody(c, DeviceTokenBody);
    const secret = newSecret("user");
    const poll = await ctx.store.pollDeviceRequest(await hashSecret(body.device_code), { id: newId("tok"), kind: "user", name: "sign-in", hash: await hashSecret(secret) });
    switch (poll.status) {
      case "issued": {
        const response: DeviceTokenResponse = { access_token: secret, token_type: "Bearer", user: poll.user };
        ctx.bus.publish({ type: "token", data: { action: "created", id: poll.token.id } });
        return c.json(response);
      }
      case "pending":
        throw new AirlockError("authorization_pending", "waiting for someone to approve the code", [{ path: "interval", message: String(poll.interval) }]);
      case "slow_down":
        throw new AirlockError("slow_down", `polling too fast: poll at most every ${poll.interval} s`, [{ path: "interval", message: String(poll.interval) }]);
      case "denied":
        throw new AirlockError("access_denied", "the sign-in was denied");
      case "expired":
        throw new AirlockError("expired_token", "the sign-in code expired: start again");
      case "used":
        throw new AirlockError("expired_token", "this device code was already used");
      default:
        ctx.limiter.fail(address);
        throw new AirlockError("unauthorized", "unknown device_code");
    }
  });

  app.post("/approve", readers, async (c) => {
    const body = await jsonBody(c, DeviceApproveBody);
    const cred = c.var.cred;
    const request = await ctx.store.decideDeviceRequest(body.user_code, { approve: body.approve, user: `user:${cred.tokenId}` }, cred.actor);
    return c.json(deviceRecord(request));
  });

  app.get("/:user_code", readers, async (c) => {
    const code = param(c, "user_code", UserCodeInput);
    const request = await ctx.store.getDeviceRequest(code);
    if (!request) throw new AirlockError("not_found", `no sign-in request with code ${formatUserCode(code)}`);
    return c.json(deviceRecord(request));
  });

  return app;
}

/** POST /api/v1/auth/sign-out: a signed-in terminal gives its `user` token back (`airlock sign-out`) */
export function signOutRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post("/", guard(ctx, "user"), async (c) => {
    const cred = c.var.cred;
    const record = await ctx.store.revokeToken(cred.tokenId!, cred.actor);
    ctx.bus.publish({ type: "token", data: { action: "revoked", id: record.id } });
    return c.json({ revoked: record.id });
  });
  return app;
}
