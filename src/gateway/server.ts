/**
 * Runs the gateway: first-start bootstrap (seed policies and roles, the admin token printed once),
 * then Bun.serve; SIGTERM/SIGINT stop accepting, let in-flight requests finish, close the store.
 */
import type { Server } from "bun";
import type { JsonObject } from "../protocol/records";
import type { Store } from "../store/types";
import { createGatewayApp } from "./app";
import type { ApproverSocketData } from "./routes/approver-ws";
import type { GatewayDeps } from "./context";
import { hashSecret, newId, newSecret } from "./tokens";

export interface BootstrapResult {
  initialized: boolean;
  /** the admin token to show once: null when the store was already initialized or the token came from the environment */
  adminToken: string | null;
}

/** Seeds a new store; idempotent and race-safe (the store decides who initializes). */
export async function bootstrapStore(
  store: Store,
  seed: { policies: JsonObject[]; roles: JsonObject[] },
  presetAdminToken: string | undefined,
): Promise<BootstrapResult> {
  const secret = presetAdminToken ?? newSecret("admin");
  const initialized = await store.initialize({
    ...seed,
    adminToken: { id: newId("tok"), kind: "admin", name: "bootstrap admin", hash: await hashSecret(secret) },
  });
  return { initialized, adminToken: initialized && presetAdminToken === undefined ? secret : null };
}

export interface RunningGateway {
  url: string;
  server: Server<ApproverSocketData>;
  /** resolves once this replica receives the other replicas' events (at once on SQLite) */
  ready: Promise<void>;
  /** stop accepting, finish in-flight requests (at most `graceMs`), close the store */
  stop(graceMs?: number): Promise<void>;
}

export function startGateway(deps: GatewayDeps & { hostname: string; port: number }): RunningGateway {
  const { app, websocket, close, ready } = createGatewayApp(deps);
  const server = Bun.serve<ApproverSocketData>({
    hostname: deps.hostname,
    port: deps.port,
    idleTimeout: 60,
    fetch: (request, srv) =>
      app.fetch(request, {
        ip: srv.requestIP(request)?.address,
        upgrade: (req: Request, data: unknown) => srv.upgrade(req, { data: data as ApproverSocketData }),
      }),
    websocket,
  });
  const host = deps.hostname.includes(":") ? `[${deps.hostname}]` : deps.hostname;
  let stopping: Promise<void> | null = null;
  return {
    url: `http://${host}:${server.port}`,
    server,
    ready,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        close(); // approver sockets are told and closed: they would keep a graceful stop waiting
        const graceful = server.stop(false);
        const timedOut = await Promise.race([graceful.then(() => false), Bun.sleep(graceMs).then(() => true)]);
        if (timedOut) await server.stop(true); // live streams (SSE, long polls) do not end by themselves
        await deps.store.close();
      })();
      return stopping;
    },
  };
}
