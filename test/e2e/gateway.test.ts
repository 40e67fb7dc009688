/**
 * The gateway and the commands that talk to it, from the compiled binary: `airlock gateway` on
 * port 0 with an isolated AIRLOCK_HOME, then `server status`, `policies`, `roles`, `sessions`,
 * `admin token`, `audit export|verify` as subprocesses; graceful SIGTERM; kill -9 mid-ingest.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, type RunResult } from "../support/binary";
import { apiCall as api, spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";
import { tempDir, type TempDir } from "../support/tmp";
import { seedPolicyFiles } from "../../src/config/assets";
import { loadPolicySources } from "../../src/policy/load";

// what the embedded seed holds, so these tests follow the seed rather than hard-code its size
const SEED = loadPolicySources(seedPolicyFiles());
const SEED_POLICIES = SEED.policies.size;
const DEFAULT_AGENT_POLICIES = SEED.roles.get("default-agent")!.value.policies.length;

const ADMIN = "e2e-admin-token-0123456789abcdefghijklmnopqrstuvwxyz";

interface Gateway extends SpawnedGateway {
  home: string;
  db: string;
}

async function startGateway(options: { home: string; db: string; adminToken?: string | null; args?: string[] }): Promise<Gateway> {
  const adminToken = options.adminToken === undefined ? ADMIN : options.adminToken;
  const gw = await spawnGateway(["gateway", "--listen", "127.0.0.1:0", "--data", options.db, ...(options.args ?? [])], {
    home: options.home,
    env: adminToken === null ? {} : { AIRLOCK_ADMIN_TOKEN: adminToken },
    timeoutMs: 15_000,
  });
  // one round trip: the event loop has turned, so the gateway's signal handlers are in place
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  return { ...gw, home: options.home, db: options.db };
}

/** An enrolled client (the daemon's credential) through the API: enrollment token, then enroll. */
async function enrollClient(url: string, name: string): Promise<{ id: string; token: string }> {
  const enr = await api(url, "POST", "/api/v1/clients/enrollment-tokens", ADMIN, { name });
  expect(enr.status).toBe(201);
  const r = await api(url, "POST", "/api/v1/clients/enroll", enr.body.token, { name, hostname: `${name}.local`, user: "dev", version: "e2e" });
  expect(r.status).toBe(201);
  return { id: r.body.client.id, token: r.body.token };
}

async function createSession(url: string, clientToken: string, agent = "claude", role = "default-agent"): Promise<string> {
  const r = await api(url, "POST", "/api/v1/sessions", clientToken, { agent, role, user: "dev", host: "laptop.local", cwd: "/work", pid: 4242 });
  expect(r.status).toBe(201);
  return r.body.session.id;
}

/** The CLI against `gw`, with the admin token in AIRLOCK_TOKEN unless told otherwise. */
function cli(gw: { url: string; home: string }, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run([...args, "--gateway", gw.url], { env: { AIRLOCK_HOME: gw.home, AIRLOCK_TOKEN: ADMIN, ...env } });
}

function expectNoStack(r: RunResult): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("internal error");
}

describe("first start", () => {
  test("a random admin token is printed exactly once, and a restart does not print it again", async () => {
    await using dir = await tempDir();
    const db = join(dir.path, "gateway.db");
    const first = await startGateway({ home: dir.path, db, adminToken: null });
    const status = await run(["server", "status", "--json", "--gateway", first.url], { env: { AIRLOCK_HOME: dir.path } });
    expect(status.code).toBe(0);
    expect(await first.stop()).toBe(0);
    const out = first.stdout();
    expect(out).toMatch(/^airlock gateway \S+ listening on http:\/\/127\.0\.0\.1:\d+ \(store: sqlite .*gateway\.db\)$/m);
    expect(out).toContain("First start: seeded the default policies and roles.");
    expect(out).toContain("Admin token (shown once, stored only as a hash; keep it safe):");
    const token = out.match(/^ {2}(al_a_[A-Za-z0-9_-]{43})$/m)?.[1];
    expect(token).toBeDefined();
    expect(out.split(token!).length - 1).toBe(1);
    expect(first.stderr()).not.toContain(token!);

    const again = await startGateway({ home: dir.path, db, adminToken: null });
    const withToken = await run(["server", "status", "--json", "--gateway", again.url], { env: { AIRLOCK_HOME: dir.path, AIRLOCK_TOKEN: token } });
    expect(await again.stop()).toBe(0);
    expect(again.stdout()).toContain("listening on");
    expect(again.stdout()).not.toContain("First start");
    expect(again.stdout()).not.toContain("Admin token");
    expect(again.stdout()).not.toContain(token!);
    expect(again.stderr()).not.toContain(token!);
    // the token printed at the first start still works after the restart
    expect(withToken.code).toBe(0);
    expect(JSON.parse(withToken.stdout).counts.policies).toBeGreaterThan(0);
  });

  test("with AIRLOCK_ADMIN_TOKEN set, the token is that value and is never printed", async () => {
    await using dir = await tempDir();
    const gw = await startGateway({ home: dir.path, db: join(dir.path, "gateway.db") });
    expect(await gw.stop()).toBe(0);
    expect(gw.stdout()).toContain("First start: seeded the default policies and roles.");
    expect(gw.stdout()).toContain("Admin token: the value of AIRLOCK_ADMIN_TOKEN.");
    expect(gw.stdout() + gw.stderr()).not.toContain(ADMIN);
  });
});

describe("allocator setting", () => {
  /** the environment the process with this pid runs with (Linux) */
  const environOf = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");

  test("the gateway re-executes itself once with mimalloc's purge delay for servers: same pid, same output, clean stop", async () => {
    await using dir = await tempDir();
    const gw = await spawnGateway(["gateway", "--listen", "127.0.0.1:0", "--data", join(dir.path, "gateway.db")], { home: dir.path, env: { AIRLOCK_ADMIN_TOKEN: ADMIN } });
    expect(environOf(gw.proc.pid)).toContain("MIMALLOC_PURGE_DELAY=10000");
    expect((await api(gw.url, "GET", "/api/v1/status", ADMIN)).status).toBe(200);
    expect(await gw.stop()).toBe(0);
    expect(gw.stdout().match(/listening on/g)?.length).toBe(1);
  });

  test("an operator's own MIMALLOC_PURGE_DELAY is kept as it is (serve too)", async () => {
    await using dir = await tempDir();
    const gw = await spawnGateway(["serve", "--listen", "127.0.0.1:0", "--data", join(dir.path, "gateway.db")], {
      home: dir.path,
      env: { AIRLOCK_ADMIN_TOKEN: ADMIN, MIMALLOC_PURGE_DELAY: "25" },
    });
    expect(environOf(gw.proc.pid)).toContain("MIMALLOC_PURGE_DELAY=25");
    expect(environOf(gw.proc.pid)).not.toContain("MIMALLOC_PURGE_DELAY=10000");
    expect(await gw.stop()).toBe(0);
  });
});

describe("--public-url", () => {
  test("sign-in links point at the public URL, not the listening address", async () => {
    await using dir = await tempDir();
    const gw = await startGateway({ home: dir.path, db: join(dir.path, "gateway.db"), args: ["--public-url", "https://airlock.example.com/"] });
    try {
      const started = await api(gw.url, "POST", "/api/v1/auth/device", null, { client_name: "laptop" });
      expect(started.status).toBe(200);
      expect(started.body.verification_uri).toBe("https://airlock.example.com/device");
      expect(started.body.verification_uri_complete).toStartWith("https://airlock.example.com/device?code=");
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});

describe("against one running gateway", () => {
  let dir: TempDir;
  let gw: Gateway;
  let sessionId: string;
  let viewerToken: string;

  beforeAll(async () => {
    dir = await tempDir();
    gw = await startGateway({ home: dir.path, db: join(dir.path, "gateway.db") });
    const client = await enrollClient(gw.url, "laptop");
    sessionId = await createSession(gw.url, client.token);
    await createSession(gw.url, client.token, "codex", "approval-required-agent");
  });

  afterAll(async () => {
    await gw?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  describe("server status", () => {
    test("a table: reachable, version, store, counts and the audit head", async () => {
      const version = (await run(["--version"])).stdout.trim().replace(/^airlock /, "");
      const r = await cli(gw, ["server", "status"]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`gateway    ${gw.url} (from --gateway)`);
      expect(r.stdout).toMatch(/^status +reachable, ready$/m);
      expect(r.stdout).toMatch(new RegExp(`^version +${version.replace(/[+.]/g, "\\$&")}$`, "m"));
      expect(r.stdout).toMatch(/^store +sqlite$/m);
      expect(r.stdout).toMatch(/^sessions +ready 2, running 0, exited 0, revoked 0$/m);
      expect(r.stdout).toMatch(new RegExp(`^policies +${SEED_POLICIES}$`, "m"));
      expect(r.stdout).toMatch(/^clients +1$/m);
      expect(r.stdout).toMatch(/^audit +\d+ events, head seq \d+ \([0-9a-f]{16}…\)$/m);
    });

    test("--json: the same facts as one object", async () => {
      const r = await cli(gw, ["server", "status", "--json"]);
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s).toMatchObject({ gateway: gw.url, reachable: true, ready: true, store: "sqlite", token_from: "AIRLOCK_TOKEN", error: null });
      expect(s.counts).toMatchObject({ policies: SEED_POLICIES, roles: 3, clients: 1, sessions_by_status: { ready: 2 } });
      expect(s.head.seq).toBe(s.counts.audit_events);
    });

    test("without a token: reachable, and a hint instead of counts", async () => {
      const r = await cli(gw, ["server", "status"], { AIRLOCK_TOKEN: undefined });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^store +sqlite$/m);
      expect(r.stdout).toMatch(/^counts +set AIRLOCK_TOKEN/m);
    });

    test("the URL comes from AIRLOCK_GATEWAY_URL, else config.json gateway_url", async () => {
      const fromEnv = await run(["server", "status", "--json"], { env: { AIRLOCK_HOME: dir.path, AIRLOCK_GATEWAY_URL: gw.url } });
      expect(JSON.parse(fromEnv.stdout)).toMatchObject({ reachable: true, gateway_from: "AIRLOCK_GATEWAY_URL" });
      await using home = await tempDir();
      writeFileSync(join(home.path, "config.json"), JSON.stringify({ gateway_url: gw.url }));
      const fromFile = await run(["server", "status", "--json"], { env: { AIRLOCK_HOME: home.path } });
      expect(JSON.parse(fromFile.stdout)).toMatchObject({ reachable: true, gateway: gw.url, gateway_from: "config.json gateway_url" });
    });
  });

  describe("policies and roles", () => {
    const policy = { id: "e2e-guard", name: "E2E Guard", status: "active", description: "test", blocked_commands: ["terraform apply"], rules: [{ command: "helm upgrade", action: "require_approval", reason: "a human decides" }] };

    test("list is a table, --json the records", async () => {
      const r = await cli(gw, ["policies", "list"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ID +VERSION +STATUS +BLOCKED +RULES +NAME +UPDATED$/m);
      expect(r.stdout).toMatch(/^infra-mutation-block +1 +active +\d+ +\d+ +Infra Mutation Block/m);
      const j = JSON.parse((await cli(gw, ["policies", "list", "--json"])).stdout);
      expect(j.items).toHaveLength(SEED_POLICIES);
      const roles = await cli(gw, ["roles", "list"]);
      expect(roles.stdout).toMatch(/^ID +VERSION +DEFAULT +POLICIES +NAME +UPDATED$/m);
      expect(roles.stdout).toMatch(new RegExp(`^default-agent +1 +allow +${DEFAULT_AGENT_POLICIES} +Default Agent `, "m"));
    });

    test("show prints the document, ready to apply; --json the record", async () => {
      const r = await cli(gw, ["policies", "show", "infra-mutation-block"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: "infra-mutation-block", status: "active" });
      const j = JSON.parse((await cli(gw, ["roles", "show", "default-agent", "--json"])).stdout);
      expect(j).toMatchObject({ id: "default-agent", version: 1, document: { default_action: "allow" } });
    });

    test("apply creates, then leaves an unchanged document alone, then updates", async () => {
      const file = join(dir.path, "e2e-guard.json");
      writeFileSync(file, JSON.stringify(policy));
      const created = await cli(gw, ["policies", "apply", file]);
      expect(created.stdout).toBe("created policy e2e-guard (version 1)\n");
      expect(created.code).toBe(0);
      expect((await cli(gw, ["policies", "apply", file])).stdout).toBe("unchanged policy e2e-guard (version 1)\n");
      writeFileSync(file, JSON.stringify({ ...policy, name: "E2E Guard v2" }));
      const updated = await cli(gw, ["policies", "apply", file, "--json"]);
      expect(updated.code).toBe(0);
      expect(JSON.parse(updated.stdout)).toMatchObject({ action: "updated", record: { id: "e2e-guard", version: 2, document: { name: "E2E Guard v2" } } });
      expect((await cli(gw, ["policies", "show", "e2e-guard"])).stdout).toContain('"E2E Guard v2"');
    });

    test("an invalid policy file: each field error with its path, exit 2, nothing stored", async () => {
      const file = join(dir.path, "bad.json");
      writeFileSync(file, JSON.stringify({ id: "bad-policy", name: "Bad", status: "sometimes", rules: [{ command: "helm upgrade", action: "explode" }] }));
      const r = await cli(gw, ["policies", "apply", file]);
      expect(r.code).toBe(2);
      expectNoStack(r);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`airlock: error: the gateway refused ${file} as a policy (POST ${gw.url}/api/v1/policies: 400)`);
      expect(r.stderr).toMatch(/^ {2}status: status must be one of active, disabled$/m);
      expect(r.stderr).toMatch(/^ {2}rules\[0\]\.action: action must be one of block, require_approval, allow$/m);
      const show = await cli(gw, ["policies", "show", "bad-policy"]);
      expect(show.code).toBe(1);
      expect(show.stderr).toContain("404");
    });

    test("a file that is not JSON, or has no id, is refused before any request: exit 2", async () => {
      const file = join(dir.path, "broken.json");
      writeFileSync(file, "{ not json");
      const r = await cli(gw, ["policies", "apply", file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("is not valid JSON");
      writeFileSync(file, JSON.stringify({ name: "no id" }));
      expect((await cli(gw, ["roles", "apply", file])).code).toBe(2);
      expect((await cli(gw, ["roles", "apply", join(dir.path, "missing.json")])).code).toBe(2);
      expect((await cli(gw, ["roles", "apply"])).code).toBe(2);
    });

    test("roles: apply, field errors, delete; a policy a role attaches cannot be deleted", async () => {
      const file = join(dir.path, "e2e-role.json");
      writeFileSync(file, JSON.stringify({ id: "e2e-role", name: "E2E", policies: ["e2e-guard"], default_action: "perhaps" }));
      const bad = await cli(gw, ["roles", "apply", file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^ {2}default_action: default_action must be one of allow, require_approval$/m);
      writeFileSync(file, JSON.stringify({ id: "e2e-role", name: "E2E", policies: ["e2e-guard"], default_action: "require_approval" }));
      expect((await cli(gw, ["roles", "apply", file])).stdout).toBe("created role e2e-role (version 1)\n");

      const attached = await cli(gw, ["policies", "delete", "e2e-guard"]);
      expect(attached.code).toBe(1);
      expect(attached.stderr).toContain("409");
      expectNoStack(attached);

      expect((await cli(gw, ["roles", "delete", "e2e-role"])).stdout).toBe("deleted role e2e-role\n");
      expect((await cli(gw, ["policies", "delete", "e2e-guard"])).stdout).toBe("deleted policy e2e-guard\n");
      const gone = await cli(gw, ["policies", "show", "e2e-guard"]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain(`GET ${gw.url}/api/v1/policies/e2e-guard: 404`);
    });
  });

  describe("sessions", () => {
    test("list is a table, filterable; --json the records", async () => {
      const r = await cli(gw, ["sessions", "list"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ID +STATUS +AGENT +ROLE +USER +HOST +CREATED$/m);
      expect(r.stdout).toMatch(new RegExp(`^${sessionId} +(ready|revoked) +claude +default-agent +dev +laptop.local `, "m"));
      const codex = JSON.parse((await cli(gw, ["sessions", "list", "--agent", "codex", "--json"])).stdout);
      expect(codex.items.map((s: { agent: string }) => s.agent)).toEqual(["codex"]);
      const byRole = JSON.parse((await cli(gw, ["sessions", "list", "--role", "default-agent", "--limit", "1", "--json"])).stdout);
      expect(byRole.items).toHaveLength(1);
      expect((await cli(gw, ["sessions", "list", "--agent", "nobody"])).stdout).toBe("no sessions\n");
    });

    test("bad filters are usage errors: exit 2", async () => {
      const status = await cli(gw, ["sessions", "list", "--status", "sleeping"]);
      expect(status.code).toBe(2);
      expect(status.stderr).toContain("--status must be one of ready, running, exited, revoked");
      expect((await cli(gw, ["sessions", "list", "--limit", "0"])).code).toBe(2);
      expect((await cli(gw, ["sessions", "list", "--bogus"])).code).toBe(2);
      expect((await cli(gw, ["sessions", "show"])).code).toBe(2);
    });

    test("show, revoke, and a second revoke is a conflict (exit 1)", async () => {
      const show = await cli(gw, ["sessions", "show", sessionId]);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(/^status +ready$/m);
      expect(show.stdout).toMatch(/^cwd +\/work$/m);
      const revoked = await cli(gw, ["sessions", "revoke", sessionId]);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toStartWith(`revoked session ${sessionId} (agent claude`);
      expect(JSON.parse((await cli(gw, ["sessions", "show", sessionId, "--json"])).stdout)).toMatchObject({ status: "revoked" });
      const again = await cli(gw, ["sessions", "revoke", sessionId]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`POST ${gw.url}/api/v1/sessions/${sessionId}/revoke: 409`);
      expectNoStack(again);
      const missing = await cli(gw, ["sessions", "show", "ses_nope"]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("404");
    });
  });

  describe("admin tokens and credentials", () => {
    test("create prints the secret once on stdout; list never shows it", async () => {
      const r = await cli(gw, ["admin", "token", "create", "--kind", "viewer", "--name", "grafana", "--expires-in-days", "30"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^al_v_[A-Za-z0-9_-]{43}\n$/);
      expect(r.stderr).toMatch(/created viewer token tok_\w+ \("grafana", expires /);
      viewerToken = r.stdout.trim();
      const list = await cli(gw, ["admin", "token", "list"]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^ID +KIND +NAME +STATE +CREATED +EXPIRES +LAST USED$/m);
      expect(list.stdout).toMatch(/^tok_\w+ +viewer +grafana +active /m);
      expect(list.stdout).not.toContain(viewerToken);
      expect(list.stdout).not.toContain(ADMIN);
    });

    test("a viewer token reads, and every write gets 403 (exit 1)", async () => {
      const as = { AIRLOCK_TOKEN: viewerToken };
      expect((await cli(gw, ["policies", "list"], as)).code).toBe(0);
      expect((await cli(gw, ["sessions", "list"], as)).code).toBe(0);
      expect((await cli(gw, ["audit", "verify"], as)).code).toBe(0);
      const file = join(dir.path, "viewer-policy.json");
      writeFileSync(file, JSON.stringify({ id: "viewer-made", name: "Viewer", status: "active" }));
      const writes = [
        ["policies", "apply", file],
        ["policies", "delete", "git-guard"],
        ["roles", "delete", "default-agent"],
        ["sessions", "revoke", sessionId],
        ["admin", "token", "create", "--kind", "admin", "--name", "escalate"],
        ["admin", "token", "list"],
      ];
      for (const args of writes) {
        const r = await cli(gw, args, as);
        expect(r.code, args.join(" ")).toBe(1);
        expect(r.stderr, args.join(" ")).toMatch(/: 403 Forbidden: a viewer credential cannot do this/);
        expectNoStack(r);
      }
      expect((await cli(gw, ["policies", "show", "viewer-made"])).code).toBe(1);
    });

    test("a revoked token gets 401, with where it came from", async () => {
      const created = JSON.parse((await cli(gw, ["admin", "token", "create", "--kind", "viewer", "--name", "short-lived", "--json"])).stdout);
      expect((await cli(gw, ["admin", "token", "revoke", created.record.id])).stdout).toContain(`revoked viewer token ${created.record.id}`);
      const r = await cli(gw, ["policies", "list"], { AIRLOCK_TOKEN: created.token });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("401");
      expect(r.stderr).toContain("the token from AIRLOCK_TOKEN was refused");
    });

    test("tokens never go in argv; --token-file must not be readable by others", async () => {
      const flag = await cli(gw, ["policies", "list", "--token", ADMIN]);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain("unknown option --token");
      const file = join(dir.path, "admin.token");
      writeFileSync(file, `${ADMIN}\n`);
      chmodSync(file, 0o644);
      const open = await cli(gw, ["policies", "list", "--token-file", file], { AIRLOCK_TOKEN: undefined });
      expect(open.code).toBe(2);
      expect(open.stderr).toContain(`refusing --token-file ${file}: its mode is 0644`);
      expect(open.stderr).toContain("chmod 600");
      chmodSync(file, 0o600);
      const ok = await cli(gw, ["policies", "list", "--token-file", file], { AIRLOCK_TOKEN: undefined });
      expect(ok.code).toBe(0);
      const none = await cli(gw, ["policies", "list"], { AIRLOCK_TOKEN: undefined });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("no credential for the gateway");
    });

    test("create refuses bad input before any request: exit 2", async () => {
      expect((await cli(gw, ["admin", "token", "create", "--kind", "root", "--name", "x"])).code).toBe(2);
      expect((await cli(gw, ["admin", "token", "create", "--kind", "viewer"])).code).toBe(2);
      expect((await cli(gw, ["admin", "token", "create", "--kind", "viewer", "--name", "x", "--expires-in-days", "0"])).code).toBe(2);
      expect((await cli(gw, ["admin", "token", "revoke"])).code).toBe(2);
    });
  });

  describe("audit", () => {
    test("export streams JSONL to stdout, or atomically to a 0600 file; verify agrees", async () => {
      const r = await cli(gw, ["audit", "export"]);
      expect(r.code).toBe(0);
      const events = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      expect(events.length).toBeGreaterThan(10);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

      const out = join(dir.path, "exports", "audit.jsonl");
      await Bun.write(join(dir.path, "exports", ".keep"), "");
      const w = await cli(gw, ["audit", "export", "--output", out, "--json"]);
      expect(w.code).toBe(0);
      const summary = JSON.parse(w.stdout);
      expect(summary.output).toBe(out);
      expect(summary.events).toBeGreaterThanOrEqual(events.length);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const lines = (await Bun.file(out).text()).trimEnd().split("\n");
      expect(lines.length).toBe(summary.events);
      expect(lines.slice(0, events.length).map((l) => JSON.parse(l))).toEqual(events);
      expect(readdirSync(join(dir.path, "exports")).sort()).toEqual([".keep", "audit.jsonl"]);

      const v = await cli(gw, ["audit", "verify"]);
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/^ok: \d+ events, head seq \d+ /);
      const missingDir = await cli(gw, ["audit", "export", "--output", join(dir.path, "nope", "a.jsonl")]);
      expect(missingDir.code).toBe(2);
    });
  });
});

describe("server status against a stopped gateway", () => {
  test("exit 1 with a clear message, as text and as --json", async () => {
    await using dir = await tempDir();
    const gw = await startGateway({ home: dir.path, db: join(dir.path, "gateway.db") });
    expect(await gw.stop()).toBe(0);
    const r = await cli(gw, ["server", "status"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith(`airlock: error: cannot reach the gateway at ${gw.url}: GET ${gw.url}/healthz: no response: `);
    expectNoStack(r);
    const j = await cli(gw, ["server", "status", "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ gateway: gw.url, reachable: false, error: { code: "unavailable" } });
    const list = await cli(gw, ["policies", "list"]);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain(`cannot reach the gateway at ${gw.url}: GET ${gw.url}/api/v1/policies`);
  });
});

describe("audit verify --db", () => {
  test("passes on an intact store, then names the event whose details were edited (exit 1)", async () => {
    await using dir = await tempDir();
    const db = join(dir.path, "gateway.db");
    const gw = await startGateway({ home: dir.path, db });
    for (const name of ["audit-a", "audit-b", "audit-c"]) expect((await cli(gw, ["admin", "token", "create", "--kind", "viewer", "--name", name])).code).toBe(0);
    const exported = join(dir.path, "audit.jsonl");
    expect((await cli(gw, ["audit", "export", "--output", exported])).code).toBe(0);
    const events = (await Bun.file(exported).text()).trimEnd().split("\n").map((l) => JSON.parse(l));
    const live = await run(["audit", "verify", "--db", db]);
    expect(live.stdout).toBe(`ok: ${events.length} events, head seq ${events.length} (sqlite ${db})\n`);
    expect(await gw.stop()).toBe(0);

    const target = events[2]; // the second token's creation
    expect(target.type).toStartWith("token.");
    const sqlite = new Database(db);
    sqlite.run("DROP TRIGGER audit_events_no_update"); // a tamperer with file access can do this too
    sqlite.run("UPDATE audit_events SET details = ? WHERE seq = ?", [JSON.stringify({ ...target.details, tampered: true }), target.seq]);
    sqlite.close();

    const r = await run(["audit", "verify", "--db", db]);
    expect(r.code).toBe(1);
    expectNoStack(r);
    expect(r.stdout).toContain(`FAILED: the audit chain is broken at event ${target.seq} (${target.id})`);
    expect(r.stdout).toContain("was altered");
    const j = await run(["audit", "verify", "--db", db, "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, problem: { kind: "altered", seq: target.seq, id: target.id } });
  });

  test("a missing file is a usage error: exit 2", async () => {
    await using dir = await tempDir();
    const r = await run(["audit", "verify", "--db", join(dir.path, "nope.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no such file");
  });
});

describe("shutdown", () => {
  test("SIGTERM finishes an in-flight long-poll, then exits 0", async () => {
    await using dir = await tempDir();
    const gw = await startGateway({ home: dir.path, db: join(dir.path, "gateway.db") });
    const head = (await api(gw.url, "GET", "/api/v1/status", ADMIN)).body.head.seq;
    const started = performance.now();
    const poll = fetch(`${gw.url}/api/v1/changes?after=${head}&wait=5`, { headers: { authorization: `Bearer ${ADMIN}` } });
    await Bun.sleep(500);
    const stopped = gw.stop("SIGTERM");
    const res = await poll;
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ events: [], next: head, more: false });
    expect(performance.now() - started).toBeGreaterThan(4_000);
    expect(await stopped).toBe(0);
    expect(gw.stderr()).toContain("SIGTERM: finishing in-flight requests");
    // after the shutdown nothing listens
    expect((await cli(gw, ["server", "status"])).code).toBe(1);
  }, 30_000);
});

describe("kill -9 during a long ingest", () => {
  test("every acknowledged decision survives, none is duplicated, and the audit chain verifies", async () => {
    await using dir = await tempDir();
    const db = join(dir.path, "gateway.db");
    const gw = await startGateway({ home: dir.path, db });
    const client = await enrollClient(gw.url, "ingest-laptop");
    const sessionId = await createSession(gw.url, client.token);

    const BATCH = 25;
    const batches = new Map<string, string[]>(); // every batch sent, acknowledged or not
    const acked = new Set<string>();
    let killed = false;
    const failures: string[] = [];
    const decision = (id: string, i: number) => ({
      id,
      session_id: sessionId,
      role: "default-agent",
      agent: "claude",
      tool: "terraform",
      command: `terraform plan -out=p${i}`,
      normalized: ["terraform plan"],
      verdict: i % 3 === 0 ? "block" : "allow",
      policy: i % 3 === 0 ? "infra-mutation-block" : null,
      rule: i % 3 === 0 ? "blocked_commands[0]" : null,
      pattern: i % 3 === 0 ? "terraform apply" : null,
      reason: "e2e",
      source: "shim",
      cwd: "/work",
      decided_at: new Date().toISOString(),
    });
    const worker = async (w: number) => {
      for (let n = 0; !killed; n++) {
        const key = `b${w}-${n}`;
        const ids = Array.from({ length: BATCH }, (_, i) => `dec_${w}_${n}_${i}`);
        batches.set(key, ids);
        let res: Response;
        try {
          res = await fetch(`${gw.url}/api/v1/decisions`, {
            method: "POST",
            headers: { authorization: `Bearer ${client.token}`, "content-type": "application/json" },
            body: JSON.stringify({ decisions: ids.map((id, i) => decision(id, n * BATCH + i)) }),
          });
        } catch {
          return; // the gateway is gone: this batch was never acknowledged
        }
        if (res.status !== 200) {
          if (!killed) failures.push(`batch ${key}: ${res.status} ${await res.text().catch(() => "")}`);
          return;
        }
        const body = (await res.json().catch(() => null)) as { accepted: number; duplicates: number } | null;
        if (body === null) return;
        expect(body).toEqual({ accepted: BATCH, duplicates: 0 });
        for (const id of ids) acked.add(id);
      }
    };
    let running = 4;
    const workers = [0, 1, 2, 3].map((w) => worker(w).finally(() => running--));
    while (acked.size < 200 * BATCH && running === 4) await Bun.sleep(5);
    expect(failures).toEqual([]);
    expect(running).toBe(4); // every worker was still ingesting when the gateway was killed
    killed = true;
    await gw.stop("SIGKILL");
    await Promise.all(workers);
    expect(gw.proc.signalCode).toBe("SIGKILL");

    const again = await startGateway({ home: dir.path, db });
    try {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } = await api(
          again.url,
          "GET",
          `/api/v1/decisions?session_id=${sessionId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
          ADMIN,
        );
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((d) => d.id));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      const stored = new Set(seen);
      expect(seen.length).toBe(stored.size); // no duplicates
      const lost = [...acked].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // a batch is one transaction: all of it or none of it
      for (const [key, ids] of batches) {
        const present = ids.filter((id) => stored.has(id)).length;
        expect(present === 0 || present === ids.length, `batch ${key}: ${present}/${ids.length}`).toBe(true);
      }
      const first = [...acked][0]!;
      expect((await api(again.url, "GET", `/api/v1/decisions/${first}`, ADMIN)).body).toMatchObject({ id: first, session_id: sessionId, client_id: client.id });
      const status = (await api(again.url, "GET", "/api/v1/status", ADMIN)).body;
      const total = Object.values(status.counts.decisions_by_verdict as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(total).toBe(stored.size);

      // a client retrying an acknowledged batch after the crash duplicates nothing
      const retry = [...batches.values()][0]!;
      const replay = await api(again.url, "POST", "/api/v1/decisions", client.token, { decisions: retry.map((id, i) => decision(id, i)) });
      expect(replay.body).toEqual({ accepted: 0, duplicates: BATCH });

      const verified = await cli(again, ["audit", "verify"]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/^ok: \d+ events, head seq \d+ /);
    } finally {
      expect(await again.stop()).toBe(0);
    }
    const offline = await run(["audit", "verify", "--db", db]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toStartWith("ok: ");
  }, 60_000);
});
