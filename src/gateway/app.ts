/**
 * `createGatewayApp(deps)`: the control plane's Hono app, one sub-app per resource under /api/v1.
 * Pure wiring: no I/O at construction, everything injected (tests use `app.request()`).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { WebSocketHandler } from "bun";
import { AirlockError } from "../protocol/errors";
import { createApprovalsHub } from "./approvals-hub";
import { createRateLimiter, createToucher, type GatewayEnv } from "./auth";
import type { GatewayDeps, RouteContext } from "./context";
import { errorResponse, onError } from "./errors";
import { createEventBus, type EventBus } from "./events";
import { createMetrics } from "./metrics";
import { approvalRoutes } from "./routes/approvals";
import { approverWebSocket, approverWsRoutes, type ApproverSocketData } from "./routes/approver-ws";
import { auditRoutes } from "./routes/audit";
import { deviceRoutes, signOutRoutes } from "./routes/auth-device";
import { checkRoutes } from "./routes/check";
import { clientRoutes } from "./routes/clients";
import { decisionRoutes } from "./routes/decisions";
import { healthRoutes } from "./routes/health";
import { liveRoutes } from "./routes/live";
import { pairingRoutes } from "./routes/pairings";
import { policyRoutes } from "./routes/policies";
import { roleRoutes } from "./routes/roles";
import { sessionRoutes } from "./routes/sessions";
import { simulateRoutes } from "./routes/simulate";
import { tokenRoutes } from "./routes/tokens";
import { whoamiRoutes } from "./routes/whoami";
import { serveWeb } from "./static";

export interface GatewayApp {
  app: Hono<GatewayEnv>;
  bus: EventBus;
  /** resolves once live events from other replicas on the same store are being received (at once on SQLite) */
  ready: Promise<void>;
  /** Bun.serve's `websocket` option (the approver link) */
  websocket: WebSocketHandler<ApproverSocketData>;
  /** stops approval timers, closes approver sockets, tells the other replicas this one is gone */
  close(): void;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function createGatewayApp(deps: GatewayDeps): GatewayApp {
  const now = deps.now ?? (() => new Date());
  // live events reach the other replicas through the store when it broadcasts (PostgreSQL)
  const bus = createEventBus({ store: deps.store, log: deps.log });
  const ctx: RouteContext = {
    ...deps,
    now,
    bus,
    hub: createApprovalsHub({ store: deps.store, bus, log: deps.log, now }),
    starts: createRateLimiter({ max: deps.deviceStarts?.max ?? 30, windowMs: deps.deviceStarts?.windowMs ?? 60_000, now: () => now().getTime() }),
    metrics: createMetrics(),
    limiter: createRateLimiter({ max: deps.failedAuth?.max ?? 20, windowMs: deps.failedAuth?.windowMs ?? 60_000, now: () => now().getTime() }),
    toucher: createToucher(() => now().getTime()),
    defaultRole: deps.defaultRole ?? "default-agent",
  };
  const app = new Hono<GatewayEnv>();
  app.onError(onError((message, error) => deps.log.error(message, error)));
  app.notFound((c) => errorResponse(c, new AirlockError("not_found", `no route ${c.req.method} ${c.req.path}`)));

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || "unmatched";
    ctx.metrics.observe(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
    c.header("X-Content-Type-Options", "nosniff");
  });

  const limit = bodyLimit({
    maxSize: DEFAULT_BODY_LIMIT,
    onError: () => {
      throw new AirlockError("invalid_input", "request body too large (at most 1 MiB)", [{ path: "body", message: "too large" }]);
    },
  });
  app.use("/api/*", async (c, next) => (c.req.path === "/api/v1/decisions" ? next() : limit(c, next)));

  app.route("/", healthRoutes(ctx));
  app.route("/api/v1/auth/whoami", whoamiRoutes(ctx));
  app.route("/api/v1/auth/device", deviceRoutes(ctx));
  app.route("/api/v1/auth/sign-out", signOutRoutes(ctx));
  app.route("/api/v1/pairings", pairingRoutes(ctx));
  app.route("/api/v1/approvals", approvalRoutes(ctx));
  app.route("/api/v1/approver/ws", approverWsRoutes(ctx));
  app.route("/api/v1/policies/simulate", simulateRoutes(ctx));
  app.route("/api/v1/policies", policyRoutes(ctx));
  app.route("/api/v1/roles", roleRoutes(ctx));
  app.route("/api/v1/tokens", tokenRoutes(ctx));
  app.route("/api/v1/clients", clientRoutes(ctx));
  app.route("/api/v1/sessions", sessionRoutes(ctx));
  app.route("/api/v1/decisions", decisionRoutes(ctx));
  app.route("/api/v1/audit", auditRoutes(ctx));
  app.route("/api/v1/check", checkRoutes(ctx));
  app.route("/api/v1", liveRoutes(ctx));
  app.all("/api/*", (c) => errorResponse(c, new AirlockError("not_found", `no route ${c.req.method} ${c.req.path}`)));
  app.get("*", serveWeb(deps.webRoot));

  return {
    app,
    bus: ctx.bus,
    ready: bus.ready,
    websocket: approverWebSocket(ctx),
    close: () => {
      ctx.hub.close();
      void bus.close();
    },
  };
}
