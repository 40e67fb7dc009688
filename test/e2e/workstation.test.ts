/**
 * The whole workstation path, compiled: shims (installed symlinks) → daemon (enrolled) → gateway,
 * with fake real tools that record their argv and stdin. The user-visible promises of issue 4.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../support/binary";
import { fakeAgent, fakeTools, type FakeTools } from "../support/fakes";
import { api, disposeWorlds, enroll, gatewayDecisionIds, sock, startDaemon, startGateway, waitFor, world, type World } from "../support/world";

const HEAD =
  "airlock: POLICY BLOCK\nairlock: command=terraform apply -auto-approve\nairlock: result=blocked; the real executable was not run.\n" +
  "airlock: ai_instruction=Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.\n";

let w: World;
let tools: FakeTools;
let env: Record<string, string>;

beforeAll(async () => {
  w = await world("airlock-e2e-ws-");
  await startGateway(w);
  await enroll(w);
  await startDaemon(w);
  tools = await fakeTools(w.dir, w.bin);
  // the shims come from `airlock install`, as a user gets them
  const installed = await run(["install"], { env: w.env });
  expect(installed.code).toBe(0);
  env = { ...w.env, PATH: `${join(w.home, "bin")}:${tools.realBin}:/usr/bin:/bin`, AIRLOCK_KNOWN_AGENTS: "claude" };
});
afterAll(disposeWorlds);

describe("a governed session (airlock run)", () => {
  test("blocks terraform apply: exact lines, 126, the real tool never ran", async () => {
    const r = await run(["run", "bash", "-c", "terraform apply -auto-approve"], { exe: join(w.home, "bin", "airlock"), env });
    expect(r.code).toBe(126);
    expect(r.stderr).toContain(HEAD);
    expect(r.stderr).toMatch(/airlock: policy=infra-mutation-block\nairlock: rule=blocked_commands\[0\]\nairlock: role=default-agent\nairlock: session=ses_/);
    expect(await tools.record("terraform")).toBeNull();
  });

  test("allows terraform plan: exact argv, stdin passed through, the tool's exit code", async () => {
    const r = await run(["run", "bash", "-c", `terraform plan -out="my plan" ''; exit $?`], { exe: join(w.home, "bin", "airlock"), env: { ...env, FAKE_MODE: "exit", FAKE_EXIT: "3" }, stdin: "yes\n" });
    expect(r.code).toBe(3);
    expect(await tools.record("terraform")).toEqual({ argv: ["plan", "-out=my plan", ""], stdin: "yes\n" });
  });

  test("the session goes ready → running → exited and its decisions reach the gateway", async () => {
    const r = await run(["run", "--role", "terraform-restricted-agent", "bash", "-c", "terraform plan; terraform import a.b c"], { exe: join(w.home, "bin", "airlock"), env });
    expect(r.code).toBe(126);
    const sessionId = r.stderr.match(/airlock: session (ses_\w+)/)![1]!;
    const session = await waitFor("the session to reach the gateway as exited", async () => {
      const s = await api(w, "GET", `/api/v1/sessions/${sessionId}`);
      return s.body?.status === "exited" ? s.body : null;
    });
    expect(session).toMatchObject({ role: "terraform-restricted-agent", agent: "bash", exit_code: 126 });
    const ids = await waitFor("both decisions", async () => ((await gatewayDecisionIds(w, sessionId)).length === 2 ? true : null));
    expect(ids).toBe(true);
  });
});

describe("ancestry", () => {
  test("a fake agent named claude with no session env is governed under an implicit session", async () => {
    const agent = fakeAgent(join(w.dir, "agent-bin"), "claude");
    const blocked = await run([join(w.home, "bin", "terraform"), "apply", "-auto-approve"], { exe: agent, env });
    expect(blocked.code).toBe(126);
    expect(blocked.stderr).toContain(HEAD);
    expect(blocked.stderr).toContain("airlock: policy=infra-mutation-block");
    const allowed = await run([join(w.home, "bin", "terraform"), "plan"], { exe: agent, env });
    expect(allowed.code).toBe(0);
    const sessions = (await sock(w, "GET", "/v1/sessions")).body.items as { agent: string; implicit: boolean }[];
    expect(sessions.some((s) => s.agent === "claude" && s.implicit)).toBe(true);
  });

  test("a plain shell is not governed", async () => {
    const r = await run(["-c", `${join(w.home, "bin", "terraform")} apply -auto-approve`], { exe: "/bin/sh", env });
    expect(r.code).toBe(0);
    expect((await tools.record("terraform"))?.argv).toEqual(["apply", "-auto-approve"]);
  });
});

describe("revocation and outages", () => {
  test("revoke through the API: the next shim call of that session is blocked within 1 s", async () => {
    const created = await sock(w, "POST", "/v1/sessions", { agent: "codex", cwd: w.dir });
    const sessionEnv = { ...env, AIRLOCK_SESSION_ID: created.body.session.id, AIRLOCK_SESSION_TOKEN: created.body.token };
    const shim = join(w.home, "bin", "terraform");
    expect((await run(["plan"], { exe: shim, env: sessionEnv })).code).toBe(0);
    await waitFor("the session at the gateway", async () => (await api(w, "GET", `/api/v1/sessions/${created.body.session.id}`)).status === 200);
    expect((await api(w, "POST", `/api/v1/sessions/${created.body.session.id}/revoke`)).status).toBe(200);
    const revokedAt = Date.now();
    const blocked = await waitFor("the revocation to reach the shim", async () => {
      const r = await run(["plan"], { exe: shim, env: sessionEnv });
      return r.code === 126 ? r : null;
    }, 3000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(blocked.stderr).toContain("revoked");
  });

  test("daemon down: governed commands are blocked, a human terminal is unaffected", async () => {
    const created = await sock(w, "POST", "/v1/sessions", { agent: "codex", cwd: w.dir });
    const sessionEnv = { ...env, AIRLOCK_SESSION_ID: created.body.session.id, AIRLOCK_SESSION_TOKEN: created.body.token };
    await w.daemon!.stop("SIGKILL");
    const shim = join(w.home, "bin", "terraform");
    const governed = await run(["plan"], { exe: shim, env: sessionEnv });
    expect(governed.code).toBe(126);
    expect(governed.stderr).toContain("airlock: reason=the Airlock daemon is not reachable");
    const human = await run(["plan"], { exe: shim, env });
    expect(human.code).toBe(0);
    await startDaemon(w);
  });
});
