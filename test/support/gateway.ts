/**
 * An in-process gateway on a temp SQLite file, bootstrapped from the seed, with one credential of
 * every class: admin, viewer, client (enrolled), enrollment (unused), session. Requests go through
 * `app.request()`: no port.
 */
import { join } from "node:path";
import { profileFiles, seedPolicyFiles } from "../../src/config/assets";
import { createGatewayApp } from "../../src/gateway/app";
import { bootstrapStore } from "../../src/gateway/server";
import { loadPolicySources } from "../../src/policy/load";
import type { JsonObject } from "../../src/protocol/records";
import { openSqliteStore } from "../../src/store/sqlite";
import type { Store } from "../../src/store/types";
import { shellAnalyzer } from "./shell";
import { tempDir, type TempDir } from "./tmp";

export type Cred = "admin" | "viewer" | "client" | "enrollment" | "session" | "other_client" | "none" | "garbage";

export interface TestGateway extends AsyncDisposable {
  store: Store;
  dir: TempDir;
  dbPath: string;
  tokens: Record<Exclude<Cred, "none" | "garbage">, string>;
  sessionId: string;
  clientId: string;
  req(method: string, path: string, options?: { as?: Cred; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Response>;
  json<T = any>(method: string, path: string, options?: { as?: Cred; body?: unknown }): Promise<{ status: number; body: T }>;
  bus: ReturnType<typeof createGatewayApp>["bus"];
}

export function seedDocuments(): { policies: JsonObject[]; roles: JsonObject[] } {
  const loaded = loadPolicySources(seedPolicyFiles());
  return {
    policies: [...loaded.policies.values()].map((p) => p.value as unknown as JsonObject),
    roles: [...loaded.roles.values()].map((r) => r.value as unknown as JsonObject),
  };
}

const ADMIN = "test-admin-token-0123456789abcdefghijklmnop";

export async function testGateway(options: { now?: () => Date; failedAuth?: { max: number; windowMs: number } } = {}): Promise<TestGateway> {
  const dir = await tempDir("airlock-gw-");
  const dbPath = join(dir.path, "gateway.db");
  const store = openSqliteStore(dbPath, options.now ? { now: options.now } : {});
  await bootstrapStore(store, seedDocuments(), ADMIN);
  const { profiles } = loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null });
  const quiet = { info() {}, warn() {}, error() {} };
  const { app, bus } = createGatewayApp({
    store,
    analyzer: await shellAnalyzer(),
    profiles,
    version: "test",
    log: quiet,
    ...(options.now ? { now: options.now } : {}),
    failedAuth: options.failedAuth ?? { max: 1000, windowMs: 60_000 },
  });
  const tokens: Record<string, string> = { admin: ADMIN };

  const req: TestGateway["req"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const as = opts.as ?? "admin";
    if (as === "garbage") headers.authorization = "Bearer al_a_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    else if (as !== "none") headers.authorization = `Bearer ${tokens[as]}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    return app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
  };
  const json: TestGateway["json"] = async (method, path, opts) => {
    const res = await req(method, path, opts);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  const mint = async (kind: "viewer") => (await json("POST", "/api/v1/tokens", { body: { kind, name: kind } })).body.token as string;
  tokens.viewer = await mint("viewer");
  const enroll = async (name: string) => {
    const t = (await json("POST", "/api/v1/clients/enrollment-tokens", { body: { name } })).body.token as string;
    tokens.enrollment = t;
    const r = await json("POST", "/api/v1/clients/enroll", { as: "enrollment", body: { name, hostname: `${name}.local`, user: "dev", version: "test" } });
    if (r.status !== 201) throw new Error(`enroll failed: ${JSON.stringify(r.body)}`);
    return r.body as { client: { id: string }; token: string };
  };
  const other = await enroll("other-laptop");
  tokens.other_client = other.token;
  const mine = await enroll("laptop");
  tokens.client = mine.token;
  tokens.enrollment = (await json("POST", "/api/v1/clients/enrollment-tokens", { body: { name: "unused" } })).body.token;
  const created = await json("POST", "/api/v1/sessions", { as: "client", body: { agent: "claude", role: "default-agent", user: "dev", host: "laptop.local", cwd: "/work", pid: 42 } });
  if (created.status !== 201) throw new Error(`session failed: ${JSON.stringify(created.body)}`);
  tokens.session = created.body.token;

  return {
    store,
    dir,
    dbPath,
    tokens: tokens as TestGateway["tokens"],
    sessionId: created.body.session.id,
    clientId: mine.client.id,
    req,
    json,
    bus,
    async [Symbol.asyncDispose]() {
      await store.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** A blocked `terraform apply` decision as a client reports it; `over` changes any field. */
export function decisionFor(sessionId: string | null, id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    session_id: sessionId,
    role: "default-agent",
    agent: "claude",
    tool: "terraform",
    command: "terraform apply",
    normalized: ["terraform apply"],
    verdict: "block",
    policy: "infra-mutation-block",
    rule: "blocked_commands[0]",
    pattern: "terraform apply",
    reason: "blocked by policy infra-mutation-block",
    source: "shim",
    cwd: "/work",
    decided_at: "2026-11-22T10:00:00.000Z",
    ...over,
  };
}
