/**
 * `airlock hook <agent>` from the compiled binary, with a real daemon (enrolled with a compiled
 * gateway): every recorded payload of test/fixtures/hooks/ fed on stdin, the verdict and the exact
 * shape of each agent's answer; the fail-closed cases (garbage and empty stdin, daemon down, a
 * parser error on a role without approvals, an injected internal exception, the deadline); fail
 * mode open; and hook and shim decisions of one agent run landing in one session at the gateway.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, type RunResult } from "../support/binary";
import { fakeAgent, fakeTools } from "../support/fakes";
import { api, disposeWorlds, enroll, onDispose, sock, startDaemon, startGateway, waitFor, world, type World } from "../support/world";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "hooks");
const AGENTS = ["claude", "codex", "cursor", "gemini"] as const;
type Agent = (typeof AGENTS)[number];
const fixturePath = (agent: Agent, name: string) => join(FIXTURES, agent, `${name}.json`);
const fixture = (agent: Agent, name: string) => readFileSync(fixturePath(agent, name), "utf8");

const HEAD =
  "airlock: POLICY BLOCK\nairlock: command=COMMAND\nairlock: result=blocked; the real executable was not run.\n" +
  "airlock: ai_instruction=Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.\n";
const head = (command: string) => HEAD.replace("COMMAND", command);

/** `approval-unavailable`: require_approval with no approver paired (this world pairs none): the deny of fail mode closed */
type Answer = "deny" | "ask" | "allow" | "approval-deny" | "approval-unavailable";

/**
 * The verdict under the default role (default-agent), and the command the block lines name.
 * A fixture without a row here fails the test that walks the folder.
 */
const EXPECTED: Record<Agent, Record<string, [Answer, string]>> = {
  claude: {
    "pretooluse-bash-terraform-apply": ["deny", "cd infra && terraform apply -auto-approve"],
    "pretooluse-bash-terraform-plan": ["allow", ""],
    "pretooluse-bash-helm-upgrade": ["approval-unavailable", "helm upgrade web ./chart -n prod"],
    "pretooluse-bash-pipeline-delete": ["deny", "kubectl get pods -o name | grep web | xargs kubectl delete"],
    "pretooluse-bash-parse-error": ["approval-unavailable", "echo $("],
    "pretooluse-write-env": ["deny", "Write /home/dev/project/.env"],
    "pretooluse-edit-source": ["allow", ""],
    "pretooluse-multiedit-pem": ["deny", "MultiEdit /home/dev/project/certs/server.pem"],
    "pretooluse-notebookedit": ["allow", ""],
    "pretooluse-mcp-create-issue": ["allow", ""],
    "pretooluse-mcp-delete-repo": ["allow", ""],
  },
  codex: {
    "pretooluse-bash-terraform-apply": ["deny", "terraform -chdir=infra apply -auto-approve"],
    "pretooluse-bash-terraform-plan": ["allow", ""],
    "pretooluse-bash-helm-upgrade": ["approval-unavailable", "helm upgrade web ./chart"],
    "pretooluse-bash-parse-error": ["approval-unavailable", "echo $("],
    "pretooluse-apply-patch-env": ["deny", "Write .env"],
    "pretooluse-apply-patch-source": ["allow", ""],
    "pretooluse-mcp-create-issue": ["allow", ""],
  },
  cursor: {
    "before-shell-execution-terraform-apply": ["deny", "terraform apply -auto-approve"],
    "before-shell-execution-ls": ["allow", ""],
    "before-shell-execution-helm-upgrade": ["approval-unavailable", "helm upgrade web ./chart"],
    "before-shell-execution-parse-error": ["approval-unavailable", "echo $("],
    "before-mcp-execution": ["allow", ""],
    "before-read-file-env": ["allow", ""],
    "pre-tool-use-write-env": ["deny", "Write /home/dev/project/.env.local"],
    "pre-tool-use-shell-kubectl-delete": ["deny", "kubectl --context prod delete ns web"],
  },
  gemini: {
    "beforetool-run-shell-terraform-destroy": ["deny", "terraform destroy -auto-approve"],
    "beforetool-run-shell-git-status": ["allow", ""],
    "beforetool-run-shell-kubectl-apply": ["approval-unavailable", "kubectl apply -f deploy.yaml"],
    "beforetool-run-shell-parse-error": ["approval-unavailable", "echo $("],
    "beforetool-write-file-pem": ["deny", "Write /home/dev/project/tls/private.pem"],
    "beforetool-replace-source": ["allow", ""],
    "beforetool-mcp-create-issue": ["allow", ""],
  },
};

/** The JSON on stdout, checking that stdout holds that one line and nothing else. */
function onlyJson(r: RunResult): any {
  expect(r.stdout.endsWith("\n")).toBe(true);
  expect(r.stdout.slice(0, -1)).not.toContain("\n");
  const parsed = JSON.parse(r.stdout);
  expect(r.stdout).toBe(`${JSON.stringify(parsed)}\n`);
  return parsed;
}

/** The agent's answer, checked for its exact shape; returns the text the model (or the human) reads. */
function expectAnswer(agent: Agent, r: RunResult, answer: Answer, command: string): string {
  expect(r.code).toBe(0);
  if (answer === "allow") {
    if (agent === "claude" || agent === "codex") expect(r.stdout).toBe("");
    else if (agent === "cursor") expect(onlyJson(r)).toEqual({ permission: "allow" });
    else expect(onlyJson(r)).toEqual({});
    return "";
  }
  const json = onlyJson(r);
  let text: string;
  if (agent === "claude" || agent === "codex") {
    const decision = answer === "ask" ? "ask" : "deny";
    expect(Object.keys(json)).toEqual(["hookSpecificOutput"]);
    expect(Object.keys(json.hookSpecificOutput)).toEqual(["hookEventName", "permissionDecision", "permissionDecisionReason"]);
    expect(json.hookSpecificOutput.hookEventName).toBe("PreToolUse");
    expect(json.hookSpecificOutput.permissionDecision).toBe(decision);
    text = json.hookSpecificOutput.permissionDecisionReason;
  } else if (agent === "cursor") {
    expect(Object.keys(json)).toEqual(["permission", "user_message", "agent_message"]);
    expect(json.permission).toBe(answer === "ask" ? "ask" : "deny");
    expect(json.user_message).toStartWith(answer === "ask" ? "Airlock: " : "Airlock blocked ");
    text = json.agent_message;
  } else {
    expect(Object.keys(json)).toEqual(["decision", "reason", "systemMessage"]);
    expect(json.decision).toBe(answer === "ask" ? "ask" : "deny");
    text = json.reason;
  }
  if (answer === "ask") expect(text).toStartWith(`airlock: APPROVAL REQUIRED\nairlock: command=${command}\nairlock: reason=`);
  else expect(text).toStartWith(head(command));
  if (answer === "approval-unavailable") expect(text).toContain("\nairlock: reason=approval required, but no approver is paired with this workstation (run airlock pair) (fail mode closed)\n");
  if (answer === "approval-deny") {
    expect(text).toContain("airlock: reason=approval required: ");
    expect(text).toContain("airlock: approval=Codex's hook cannot ask a human, so Airlock denies it here. Stop and ask the user to approve it");
  }
  return text;
}

let w: World;

async function hook(agent: Agent | string, stdin: string, env: Record<string, string | undefined> = {}, args: string[] = []): Promise<RunResult> {
  return run(["hook", agent, ...args], { env: { ...w.env, ...env }, stdin });
}

const NO_APPROVALS = "e2e-no-approvals";

beforeAll(async () => {
  w = await world("airlock-e2e-hooks-");
  // the daemon's ancestry walk (hook ↔ shim sessions) knows only the fake agent of the last test
  w.env.AIRLOCK_KNOWN_AGENTS = "e2e-agent";
  await startGateway(w);
  await enroll(w);
  await startDaemon(w);
  // a role without approvals: an unparseable string is blocked, not asked about; and an MCP tool rule
  const policy = await api(w, "POST", "/api/v1/policies", {
    id: "e2e-blocks",
    name: "E2E Blocks",
    status: "active",
    blocked_commands: ["terraform apply"],
    rules: [{ tool: "mcp__github__delete_*", action: "block", reason: "repositories are deleted by people" }],
    tests: { block: ["terraform apply", { tool: "mcp__github__delete_repository" }], allow: [{ tool: "mcp__github__create_issue" }] },
  });
  expect(policy.status).toBe(201);
  const role = await api(w, "POST", "/api/v1/roles", { id: NO_APPROVALS, name: "E2E No Approvals", policies: ["e2e-blocks", "file-guard"], default_action: "allow" });
  expect(role.status).toBe(201);
});
afterAll(disposeWorlds);

describe("every recorded payload, default role", () => {
  for (const agent of AGENTS) {
    test(`${agent}: the verdict and the exact answer of each fixture`, async () => {
      const files = readdirSync(join(FIXTURES, agent)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
      expect(files).toEqual(Object.keys(EXPECTED[agent]).sort());
      for (const name of files) {
        const [answer, command] = EXPECTED[agent][name]!;
        const r = await hook(agent, fixture(agent, name));
        expect({ name, stderr: r.stderr }).toEqual({ name, stderr: "" });
        const text = expectAnswer(agent, r, answer, command);
        if (answer === "deny") {
          expect(text).toMatch(/\nairlock: reason=blocked by policy [a-z-]+ .*\nairlock: policy=[a-z-]+\nairlock: rule=\S+\nairlock: role=default-agent\nairlock: session=ses_[0-9a-f]{32}\nairlock: decision=[0-9a-f-]{36}\n$/);
        }
      }
    });
  }

  test("the agent's own session id opens one Airlock session per agent session, recorded at the gateway", async () => {
    const sessions = (await sock(w, "GET", "/v1/sessions")).body.items as { id: string; agent: string; agent_session_id: string | null; role: string; cwd: string }[];
    const claude = sessions.filter((s) => s.agent_session_id === "7f3c2a1e-5b8d-4e2a-9c1f-0a6b3d2e1f00");
    expect(claude).toHaveLength(1);
    expect(claude[0]).toMatchObject({ agent: "claude", role: "default-agent", cwd: "/home/dev/project" });
    const atGateway = await waitFor("the session at the gateway", async () => {
      const r = await api(w, "GET", `/api/v1/sessions/${claude[0]!.id}`);
      return r.status === 200 ? r.body : null;
    });
    expect(atGateway).toMatchObject({ agent: "claude", role: "default-agent" });
    const decisions = await waitFor("the claude fixtures' decisions", async () => {
      const r = await api(w, "GET", `/api/v1/decisions?session_id=${claude[0]!.id}&limit=100`);
      return r.body.items.length >= 10 ? r.body.items : null;
    });
    expect(new Set(decisions.map((d: { source: string }) => d.source))).toEqual(new Set(["hook"]));
    expect(decisions.find((d: { tool: string }) => d.tool === "Write")).toMatchObject({ command: "Write /home/dev/project/.env", verdict: "block", policy: "file-guard" });
  });
});

describe("a role without approvals (explicit session from airlock run)", () => {
  async function sessionEnv(): Promise<Record<string, string>> {
    const created = await sock(w, "POST", "/v1/sessions", { agent: "e2e", role: NO_APPROVALS, cwd: w.dir });
    expect(created.status).toBe(201);
    return { AIRLOCK_SESSION_ID: created.body.session.id, AIRLOCK_SESSION_TOKEN: created.body.token };
  }

  test("a parser error ($() is each agent's deny", async () => {
    const env = await sessionEnv();
    const names: Record<Agent, string> = { claude: "pretooluse-bash-parse-error", codex: "pretooluse-bash-parse-error", cursor: "before-shell-execution-parse-error", gemini: "beforetool-run-shell-parse-error" };
    for (const agent of AGENTS) {
      const r = await hook(agent, fixture(agent, names[agent]), env);
      const text = expectAnswer(agent, r, "deny", "echo $(");
      expect(text).toContain("it is blocked because this policy set has no approvals");
      expect(text).toContain(`airlock: role=${NO_APPROVALS}\nairlock: session=${env.AIRLOCK_SESSION_ID}\n`);
    }
  });

  test("an MCP tool rule synced from the gateway blocks the call", async () => {
    const env = await sessionEnv();
    const r = await hook("claude", fixture("claude", "pretooluse-mcp-delete-repo"), env);
    const text = expectAnswer("claude", r, "deny", "mcp__github__delete_repository");
    expect(text).toContain('airlock: reason=blocked by policy e2e-blocks (rules[0] tool "mcp__github__delete_*"): repositories are deleted by people\n');
    expect(expectAnswer("claude", await hook("claude", fixture("claude", "pretooluse-mcp-create-issue"), env), "allow", "")).toBe("");
  });

  test("the gateway validates tool rules with the same schema", async () => {
    const bad = await api(w, "POST", "/api/v1/policies", { id: "e2e-bad", name: "Bad", status: "active", rules: [{ tool: "Write", path: "a/**b", action: "block" }, { path: "x", action: "block" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([
      { path: "body.rules[0].path", message: 'invalid path glob "a/**b": \'**\' must be a whole path segment (like a/**/b)' },
      { path: "body.rules[1]", message: "a rule needs a command pattern, a tool, or both" },
      { path: "body.rules[1]", message: "a rule with a path must name the tool it applies to" },
    ]);
    const failing = await api(w, "POST", "/api/v1/policies", { id: "e2e-failing", name: "Failing", status: "active", rules: [{ tool: "Edit", path: "**/.env", action: "block" }], tests: { block: [{ tool: "Edit", path: "a.ts" }] } });
    expect(failing.status).toBe(400);
    expect(failing.body.details[0]).toMatchObject({ path: "body.tests.block[0]" });
  });
});

describe("fail closed: each agent's deny", () => {
  const deny = (agent: Agent, r: RunResult, reason: RegExp, command = "(hook input)") => {
    const text = expectAnswer(agent, r, "deny", command);
    expect(text).toMatch(reason);
    expect(text).toContain("(fail mode closed)");
  };

  test("garbage stdin and empty stdin", async () => {
    for (const agent of AGENTS) {
      deny(agent, await hook(agent, "{not json"), /airlock: reason=malformed .* hook input: the input is not JSON/);
      deny(agent, await hook(agent, ""), /airlock: reason=malformed .* hook input: empty input/);
    }
  });

  test("a missing required field names it", async () => {
    const input = JSON.parse(fixture("claude", "pretooluse-bash-terraform-plan"));
    delete input.tool_input.command;
    deny("claude", await hook("claude", JSON.stringify(input)), /reason=malformed Claude Code hook input: missing required field tool_input.command/);
  });

  test("daemon down", async () => {
    const plans: Record<Agent, [string, string]> = {
      claude: ["pretooluse-bash-terraform-plan", "cd infra && terraform plan -out=tfplan"],
      codex: ["pretooluse-bash-terraform-plan", "terraform -chdir=infra plan"],
      cursor: ["before-shell-execution-ls", "ls -la && git status"],
      gemini: ["beforetool-run-shell-git-status", "git status --short"],
    };
    const socket = join(w.dir, "no-daemon-here.sock");
    for (const agent of AGENTS) {
      const [name, command] = plans[agent];
      deny(agent, await hook(agent, fixture(agent, name), { AIRLOCK_SOCKET: socket }), /airlock: reason=the Airlock daemon is not reachable at .*no-daemon-here.sock/, command);
    }
  });

  test("an internal exception (AIRLOCK_TEST_HOOK_FAULT=throw)", async () => {
    const allowed: Record<Agent, [string, string]> = {
      claude: ["pretooluse-edit-source", "Edit /home/dev/project/src/main.ts"],
      codex: ["pretooluse-apply-patch-source", "Edit src/lib.rs"],
      cursor: ["before-mcp-execution", "mcp__unknown__create_issue"],
      gemini: ["beforetool-replace-source", "Edit /home/dev/project/src/app.py"],
    };
    for (const agent of AGENTS) {
      const [name, command] = allowed[agent];
      deny(agent, await hook(agent, fixture(agent, name), { AIRLOCK_TEST_HOOK_FAULT: "throw" }), /airlock: reason=internal error while checking: injected internal error/, command);
    }
  });

  test("the deadline: a daemon that never answers is a deny within 80% of --timeout", async () => {
    const silent = join(w.dir, "silent.sock");
    const server = Bun.listen({ unix: silent, socket: { data() {} } });
    onDispose(async () => server.stop(true));
    const started = performance.now();
    const r = await hook("claude", fixture("claude", "pretooluse-bash-terraform-plan"), { AIRLOCK_SOCKET: silent }, ["--timeout", "1"]);
    expect(performance.now() - started).toBeLessThan(3000);
    deny("claude", r, /airlock: reason=no verdict within 800 ms|airlock: reason=the Airlock daemon is not reachable .*no answer within/, "cd infra && terraform plan -out=tfplan");
  });
});

describe("fail mode open (config.json)", () => {
  test("daemon down: each agent's no-objection answer, and a warning on stderr", async () => {
    const home = join(w.dir, "open-home");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "config.json"), JSON.stringify({ fail_mode: "open" }), { mode: 0o600 });
    const names: Record<Agent, string> = { claude: "pretooluse-bash-terraform-apply", codex: "pretooluse-bash-terraform-apply", cursor: "before-shell-execution-terraform-apply", gemini: "beforetool-run-shell-terraform-destroy" };
    for (const agent of AGENTS) {
      const r = await hook(agent, fixture(agent, names[agent]), { AIRLOCK_HOME: home });
      expectAnswer(agent, r, "allow", "");
      expect(r.stderr).toMatch(/^airlock: warning: the Airlock daemon is not reachable at .*; fail mode is open, so .* goes ahead unchecked\n$/);
    }
  });
});

test("airlock check --tool gives a tool rule's verdict offline, with the check exit codes", async () => {
  const blocked = await run(["check", "--json", "--tool", "Write", "--path", "config/.env"], { env: w.env });
  expect(blocked.code).toBe(126);
  expect(JSON.parse(blocked.stdout)).toMatchObject({ verdict: "block", policy: "file-guard", input: "Write config/.env", role: "default-agent" });
  expect((await run(["check", "--tool", "Edit", "--path", "src/main.ts"], { env: w.env })).code).toBe(0);
  const usage = await run(["check", "--tool", "Write", "--command", "ls"], { env: w.env });
  expect(usage.code).toBe(2);
});

test("usage: an unknown agent is exit 2 (a block in every agent), --help prints the usage", async () => {
  const unknown = await hook("copilot", "{}");
  expect(unknown.code).toBe(2);
  expect(unknown.stdout).toBe("");
  expect(unknown.stderr).toContain('airlock: error: unknown agent "copilot"');
  const help = await run(["hook", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("Usage: airlock hook <claude|codex|cursor|gemini> [--timeout SECONDS]");
  expect((await hook("claude", "{}", {}, ["--timeout", "zero"])).code).toBe(2);
});

test("hook and shim decisions of one agent run land in one session at the gateway", async () => {
  const tools = await fakeTools(w.dir, w.bin, ["terraform"]);
  const agent = fakeAgent(join(w.dir, "agent-bin"), "e2e-agent");
  const input = JSON.parse(fixture("claude", "pretooluse-bash-terraform-apply"));
  input.session_id = "e2e-linked-session";
  const payloadFile = join(w.dir, "linked.json");
  writeFileSync(payloadFile, JSON.stringify(input));
  // one agent process: its hook asks first, then a shim below the same process runs terraform plan
  const r = await run(["sh", "-c", `'${w.bin}' hook claude < '${payloadFile}'; terraform plan`], {
    exe: agent,
    env: { ...w.env, PATH: `${tools.shimBin}:${tools.realBin}:/usr/bin:/bin` },
  });
  expect(r.code).toBe(0);
  const [hookLine, shimLine] = r.stdout.split("\n");
  expect(shimLine).toBe("fake terraform ran");
  const reason = JSON.parse(hookLine!).hookSpecificOutput.permissionDecisionReason as string;
  const sessionId = reason.match(/airlock: session=(ses_\w+)/)![1]!;
  const local = (await sock(w, "GET", `/v1/sessions/${sessionId}`)).body;
  expect(local).toMatchObject({ agent: "e2e-agent", agent_session_id: "e2e-linked-session", implicit: true, status: "running" });
  const decisions = await waitFor("both decisions at the gateway", async () => {
    const d = await api(w, "GET", `/api/v1/decisions?session_id=${sessionId}&limit=10`);
    return d.body.items.length === 2 ? d.body.items : null;
  });
  expect(decisions.map((d: { source: string; verdict: string; command: string }) => [d.source, d.verdict, d.command]).sort()).toEqual([
    ["hook", "block", "cd infra && terraform apply -auto-approve"],
    ["shim", "allow", "terraform plan"],
  ]);
});

describe("the agent's session end closes the Airlock session (SessionEnd)", () => {
  const gatewayStatus = async (id: string, status: string) =>
    waitFor(`session ${id} ${status} at the gateway`, async () => {
      const r = await api(w, "GET", `/api/v1/sessions/${id}`);
      return r.status === 200 && r.body.status === status ? r.body : null;
    });

  for (const agent of ["claude", "gemini"] as const) {
    test(`${agent}: a tool call opens the session (running); SessionEnd ends it here and at the gateway; a second SessionEnd is a no-op`, async () => {
      const name = agent === "claude" ? "pretooluse-bash-terraform-plan" : "beforetool-run-shell-git-status";
      const input = JSON.parse(fixture(agent, name));
      input.session_id = `e2e-end-${agent}`;
      expectAnswer(agent, await hook(agent, JSON.stringify(input)), "allow", "");
      const opened = ((await sock(w, "GET", "/v1/sessions")).body.items as { id: string; agent_session_id: string | null; status: string }[]).filter((s) => s.agent_session_id === input.session_id);
      expect(opened).toHaveLength(1);
      expect(opened[0]!.status).toBe("running");
      await gatewayStatus(opened[0]!.id, "running");

      const end = { session_id: input.session_id, transcript_path: input.transcript_path ?? "", cwd: input.cwd, hook_event_name: "SessionEnd", reason: agent === "claude" ? "prompt_input_exit" : "exit" };
      const quiet = agent === "claude" ? "" : "{}\n";
      for (let i = 0; i < 2; i++) {
        const r = await hook(agent, JSON.stringify(end), {}, ["--timeout", "10"]);
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: quiet, stderr: "" });
        expect((await sock(w, "GET", `/v1/sessions/${opened[0]!.id}`)).body.status).toBe("exited");
      }
      const atGateway = await gatewayStatus(opened[0]!.id, "exited");
      expect(atGateway).toMatchObject({ agent, status: "exited" });
      // exactly one session for that agent session, still: the second end opened nothing
      const after = ((await sock(w, "GET", "/v1/sessions")).body.items as { agent_session_id: string | null }[]).filter((s) => s.agent_session_id === input.session_id);
      expect(after).toHaveLength(1);
    });
  }

  test("through the Claude Code plugin's wrapper: exit 0, nothing on stdout", async () => {
    const input = JSON.parse(fixture("claude", "pretooluse-edit-source"));
    input.session_id = "e2e-end-plugin";
    expectAnswer("claude", await hook("claude", JSON.stringify(input)), "allow", "");
    const wrapper = join(import.meta.dir, "..", "..", "shims", "claude-code", "hooks", "airlock-hook");
    const end = JSON.stringify({ session_id: "e2e-end-plugin", transcript_path: "", cwd: "/home/dev/project", hook_event_name: "SessionEnd", reason: "clear" });
    const r = await run([], { exe: wrapper, env: { ...w.env, AIRLOCK_BIN: w.bin }, stdin: end });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    const s = ((await sock(w, "GET", "/v1/sessions")).body.items as { agent_session_id: string | null; status: string }[]).find((x) => x.agent_session_id === "e2e-end-plugin");
    expect(s?.status).toBe("exited");
  });

  test("an unknown agent session, the daemon down, or a malformed end payload: exit 0, never a deny", async () => {
    const end = (id: string) => JSON.stringify({ session_id: id, transcript_path: "", cwd: "/w", hook_event_name: "SessionEnd", reason: "other" });
    const unknown = await hook("claude", end("e2e-never-seen"));
    expect({ code: unknown.code, stdout: unknown.stdout, stderr: unknown.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    const down = await hook("claude", end("e2e-daemon-down"), { AIRLOCK_SOCKET: join(w.dir, "no-daemon-here.sock") });
    expect({ code: down.code, stdout: down.stdout, stderr: down.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
    const geminiDown = await hook("gemini", end("e2e-daemon-down"), { AIRLOCK_SOCKET: join(w.dir, "no-daemon-here.sock") });
    expect({ code: geminiDown.code, stdout: geminiDown.stdout }).toEqual({ code: 0, stdout: "{}\n" });
    const malformed = await hook("claude", JSON.stringify({ hook_event_name: "SessionEnd", cwd: "/w" }));
    expect(malformed.code).toBe(0);
    expect(malformed.stdout).toBe("");
    expect(malformed.stderr).toContain("airlock: warning: malformed Claude Code SessionEnd input: missing required field session_id");
    // a malformed tool call is still the deny, with the daemon down too
    const bad = JSON.parse(fixture("claude", "pretooluse-bash-terraform-plan"));
    delete bad.tool_input.command;
    const denied = await hook("claude", JSON.stringify(bad), { AIRLOCK_SOCKET: join(w.dir, "no-daemon-here.sock") });
    expect(JSON.parse(denied.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
  });
});
