/**
 * GET /api/v1/approver/ws: the approver's live link (docs/approvals.md). The first message must be
 * `{type: "auth", token}` with an approver token, within 10 s (else close 4401); the gateway then
 * sends `ready` (the pairing and its pending approvals), `request` for each new one, `resolved` on
 * a decision or expiry, and `unpaired` before closing when the pairing is removed. While the socket
 * is open the pairing's `approver_online` is true.
 *
 * The upgrade needs Bun.serve (startGateway passes `upgrade` in the env and `websocket` to Bun.serve);
 * through `app.request()` the route answers 426.
 */
import { Hono } from "hono";
import type { ServerWebSocket, WebSocketHandler } from "bun";
import * as v from "valibot";
import { ApproverClientMessage } from "../../protocol/approvals";
import { AirlockError, isAirlockError } from "../../protocol/errors";
import { WS_CLOSE } from "../approvals-hub";
import { authenticateSecret, clientAddress, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";

export const WS_AUTH_TIMEOUT_MS = 10_000;

export interface ApproverSocketData {
  kind: "approver";
  address: string;
  state: "new" | "authenticating" | "ready" | "closed";
  timer: ReturnType<typeof setTimeout> | null;
  detach: (() => void) | null;
}

export function approverWsRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AirlockError("invalid_input", "this endpoint speaks WebSocket: send an Upgrade: websocket request", [{ path: "headers.upgrade", message: "expected websocket" }]);
    }
    const data: ApproverSocketData = { kind: "approver", address: clientAddress(c), state: "new", timer: null, detach: null };
    if (!c.env?.upgrade) return c.json({ code: "unavailable", message: "WebSocket needs the gateway server", details: [] }, 426);
    if (!c.env.upgrade(c.req.raw, data)) throw new AirlockError("invalid_input", "WebSocket upgrade failed");
    return new Response(null);
  });
  return app;
}

/** Bun.serve's `websocket` handler for the approver sockets */
export function approverWebSocket(ctx: RouteContext): WebSocketHandler<ApproverSocketData> {
  const fail = (ws: ServerWebSocket<ApproverSocketData>, code: number, error: { code: string; message: string }) => {
    ws.data.state = "closed";
    try {
      ws.send(JSON.stringify({ type: "error", code: error.code, message: error.message }));
      ws.close(code, error.message.slice(0, 120));
    } catch {
      // already closed
    }
  };

  async function authenticate(ws: ServerWebSocket<ApproverSocketData>, token: string): Promise<void> {
    ws.data.state = "authenticating";
    let cred;
    try {
      cred = await authenticateSecret(ctx, ws.data.address, token, false);
    } catch (error) {
      const e = isAirlockError(error) ? error : new AirlockError("unauthorized", "invalid credential");
      return fail(ws, WS_CLOSE.unauthorized, e);
    }
    if (cred.kind !== "approver" || !cred.pairingId) return fail(ws, WS_CLOSE.forbidden, { code: "forbidden", message: `a ${cred.kind} credential cannot open an approver link` });
    if (ws.data.state !== "authenticating") return; // closed meanwhile
    await ctx.hub.sweep();
    const pairing = await ctx.store.getPairing(cred.pairingId);
    if (!pairing || pairing.status !== "paired") return fail(ws, WS_CLOSE.unpaired, { code: "forbidden", message: "the pairing was removed" });
    const pending = await ctx.store.listApprovals({ pairing_id: pairing.id, status: "pending" }, { limit: 500 });
    if ((ws.data.state as ApproverSocketData["state"]) !== "authenticating") return;
    if (ws.data.timer) clearTimeout(ws.data.timer);
    ws.data.timer = null;
    ws.data.state = "ready";
    ws.data.detach = ctx.hub.attach(pairing.id, ws);
    // presence first, so `ready` already says online
    ctx.hub.send(ws, { type: "ready", pairing: ctx.hub.withPresence(pairing), pending: pending.items.reverse() });
  }

  return {
    idleTimeout: 120,
    open(ws) {
      ws.data.timer = setTimeout(() => {
        if (ws.data.state === "new" || ws.data.state === "authenticating") fail(ws, WS_CLOSE.unauthorized, { code: "unauthorized", message: "no auth message in time" });
      }, ctx.approverAuthTimeoutMs ?? WS_AUTH_TIMEOUT_MS);
    },
    message(ws, raw) {
      let json: unknown;
      try {
        json = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
      } catch {
        return fail(ws, WS_CLOSE.badMessage, { code: "invalid_input", message: "messages are JSON" });
      }
      const parsed = v.safeParse(ApproverClientMessage, json);
      if (!parsed.success) return fail(ws, WS_CLOSE.badMessage, { code: "invalid_input", message: `not an approver message: ${parsed.issues[0].message}` });
      const message = parsed.output;
      if (message.type === "auth") {
        if (ws.data.state !== "new") return fail(ws, WS_CLOSE.badMessage, { code: "invalid_input", message: "already authenticated" });
        void authenticate(ws, message.token).catch((error) => {
          ctx.log.warn("approver socket auth failed", error);
          fail(ws, WS_CLOSE.unauthorized, { code: "internal", message: "authentication failed" });
        });
        return;
      }
      if (ws.data.state !== "ready") return fail(ws, WS_CLOSE.unauthorized, { code: "unauthorized", message: "the first message must be auth" });
      ctx.hub.send(ws, { type: "pong" });
    },
    close(ws) {
      ws.data.state = "closed";
      if (ws.data.timer) clearTimeout(ws.data.timer);
      ws.data.timer = null;
      ws.data.detach?.();
      ws.data.detach = null;
    },
  };
}
