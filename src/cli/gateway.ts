/**
 * `airlock gateway` (local defaults: 127.0.0.1:8787, $AIRLOCK_HOME/gateway.db) and `airlock serve`
 * (the VM / Kubernetes form: 0.0.0.0:8787, JSON logs, settings from flags and AIRLOCK_* env).
 */
import { defineCommand } from "citty";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { profileFiles, seedPolicyFiles, shellWasm } from "../config/assets";
import { readEnv } from "../config/env";
import { airlockPaths } from "../config/paths";
import { VERSION } from "../config/version";
import { bootstrapStore, startGateway } from "../gateway/server";
import { loadPolicySources } from "../policy/load";
import { AirlockError } from "../protocol/errors";
import type { JsonObject } from "../protocol/records";
import { createShellAnalyzer } from "../shell/analyzer";
import { openSqliteStore } from "../store/sqlite";
import type { Store } from "../store/types";
import { execWithServerAllocator } from "./_allocator";
import { createLogger } from "./_log";
import { assertNoErrors } from "./_policies";
import { join } from "node:path";
import { assetRoot } from "../config/assets";
import { existsSync } from "node:fs";
import { out } from "../config/stdio";

export function parseListen(value: string, where: string): { hostname: string; port: number } {
  const m = value.match(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new AirlockError("usage", `${where} must be host:port (e.g. 127.0.0.1:8787), got ${JSON.stringify(value)}`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** Where the store lives: `--data FILE` (SQLite) wins; else AIRLOCK_DATABASE_URL (postgres:// or postgresql:// → PostgreSQL, anything else a SQLite file); else the default file. */
type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

function storeLocation(flag: string | undefined, env: ReturnType<typeof readEnv>, fallback: string): StoreLocation {
  if (flag !== undefined) return { kind: "sqlite", path: resolve(flag) };
  const url = env.AIRLOCK_DATABASE_URL;
  if (url === undefined) return { kind: "sqlite", path: fallback };
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: "postgres", url };
  return { kind: "sqlite", path: resolve(url.replace(/^sqlite:(\/\/)?/, "").replace(/^file:/, "")) };
}

async function openStore(location: StoreLocation): Promise<{ store: Store; label: string }> {
  if (location.kind === "postgres") {
    const { openPostgresStore, redactDatabaseUrl } = await import("../store/postgres");
    return { store: await openPostgresStore(location.url), label: `postgres ${redactDatabaseUrl(location.url)}` };
  }
  mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
  return { store: openSqliteStore(location.path), label: `sqlite ${location.path}` };
}

function makeCommand(kind: "gateway" | "serve") {
  const local = kind === "gateway";
  return defineCommand({
    meta: {
      name: kind,
      description: local
        ? "Run the control plane on this machine: HTTP API, admin UI, store (default 127.0.0.1:8787, $AIRLOCK_HOME/gateway.db). Ctrl-C stops it."
        : "Run the control plane on a server or in Kubernetes: listens on 0.0.0.0:8787 by default, JSON logs, TLS off-loaded to a proxy. SIGTERM finishes in-flight requests.",
    },
    args: {
      listen: { type: "string", description: `Address to listen on, host:port (env AIRLOCK_LISTEN; default ${local ? "127.0.0.1:8787" : "0.0.0.0:8787"})` },
      data: { type: "string", description: "SQLite database file (default $AIRLOCK_HOME/gateway.db); env AIRLOCK_DATABASE_URL takes a file or a postgres:// URL (shared PostgreSQL store)" },
      "log-format": { type: "string", description: `pretty or json (default ${local ? "pretty" : "json"})` },
      "public-url": { type: "string", description: "The URL users and daemons reach this gateway at (printed and used in links)" },
    },
    async run({ args }) {
      execWithServerAllocator();
      const env = readEnv();
      const paths = airlockPaths(env);
      const listen = parseListen(args.listen ?? env.AIRLOCK_LISTEN ?? (local ? "127.0.0.1:8787" : "0.0.0.0:8787"), args.listen ? "--listen" : "AIRLOCK_LISTEN");
      const format = args["log-format"] ?? (local ? "pretty" : "json");
      if (format !== "pretty" && format !== "json") throw new AirlockError("usage", `--log-format must be pretty or json, got ${JSON.stringify(format)}`);
      const publicUrl = args["public-url"];
      if (publicUrl !== undefined && !URL.canParse(publicUrl)) throw new AirlockError("usage", `--public-url must be a URL, got ${JSON.stringify(publicUrl)}`);
      const log = createLogger({ level: env.AIRLOCK_LOG ?? "info", format, tag: kind });

      const location = storeLocation(args.data, env, paths.gatewayDb);
      const seedSource = loadPolicySources(seedPolicyFiles());
      assertNoErrors(seedSource.problems, "the embedded seed policies");
      const analyzer = await createShellAnalyzer(await shellWasm());
      const { store, label: storeLabel } = await openStore(location);
      const boot = await bootstrapStore(
        store,
        {
          policies: [...seedSource.policies.values()].map((p) => p.value as unknown as JsonObject),
          roles: [...seedSource.roles.values()].map((r) => r.value as unknown as JsonObject),
        },
        env.AIRLOCK_ADMIN_TOKEN,
      );
      const { profiles } = loadPolicySources({ policies: [], roles: [], tests: [], profiles: profileFiles(), agents: null });
      const webRoot = join(assetRoot(), "web-dist");
      const gateway = startGateway({
        hostname: listen.hostname,
        port: listen.port,
        store,
        analyzer,
        profiles,
        version: VERSION,
        log,
        webRoot: existsSync(webRoot) ? webRoot : null,
        publicUrl: publicUrl?.replace(/\/+$/, "") ?? null,
      });
      // handlers first, so a signal that arrives as soon as we are listening still drains cleanly;
      // a second signal while draining stops at once
      const stopped = new Promise<void>((done) => {
        let draining = false;
        const stop = (signal: string) => {
          if (draining) {
            log.warn(`${signal} again: stopping now`);
            gateway.stop(0).then(done, done);
            return;
          }
          draining = true;
          log.info(`${signal}: finishing in-flight requests`);
          gateway.stop().then(done, (error) => {
            log.error("shutdown failed", error);
            done();
          });
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
      });
      const url = publicUrl ?? gateway.url;
      // on a shared PostgreSQL store, "listening" means linked to the other replicas too (at most 10 s)
      const linked = await Promise.race([gateway.ready.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!linked) log.warn("not yet receiving the other replicas' events (LISTEN pending): /readyz says 503 until it is");
      out(`airlock ${kind} ${VERSION} listening on ${gateway.url} (store: ${storeLabel})\n`);
      if (boot.initialized) {
        out("First start: seeded the default policies and roles.\n");
        if (boot.adminToken) {
          out(`Admin token (shown once, stored only as a hash; keep it safe):\n  ${boot.adminToken}\n`);
          out(`Try: curl -H "Authorization: Bearer $TOKEN" ${url}/api/v1/status\n`);
        } else {
          out("Admin token: the value of AIRLOCK_ADMIN_TOKEN.\n");
        }
      }
      await stopped;
      log.info("stopped");
      return 0;
    },
  });
}

export const gatewayCommand = makeCommand("gateway");
export const serveCommand = makeCommand("serve");
