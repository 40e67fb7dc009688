/** `airlock check` from the compiled binary: verdicts, exit codes, output, and every bad input. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, run } from "../support/binary";
import { tempDir } from "../support/tmp";

const BLOCK = 126;
const APPROVAL = 3;

describe("argv after --", () => {
  const cases: [string[], number][] = [
    [["terraform", "apply"], BLOCK],
    [["terraform", "-chdir=infra", "apply", "-auto-approve"], BLOCK],
    [["/usr/local/bin/terraform", "destroy"], BLOCK],
    [["terraform", "plan", "-out=tfplan"], 0],
    [["terraform", "planx"], 0],
    [["kubectl", "--context", "prod", "-n", "a", "delete", "ns", "b"], BLOCK],
    [["kubectl", "get", "pods"], 0],
    [["aws", "--profile", "p", "--region", "r", "iam", "create-role", "--role-name", "x"], BLOCK],
    [["helm", "upgrade", "web", "./chart"], APPROVAL],
    [["ls", "-la"], 0],
    [["sudo", "terraform", "apply"], BLOCK],
    [["bash", "-c", "kubectl delete ns prod"], BLOCK],
    [["echo", "terraform apply"], 0],
  ];
  for (const [argv, code] of cases) {
    test(`${argv.join(" ")} → exit ${code}`, async () => {
      const r = await run(["check", "--", ...argv]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(code);
    });
  }
});

describe("--command with a whole shell string", () => {
  const cases: [string, number][] = [
    ["cd infra && terraform apply", BLOCK],
    ["terraform plan && echo done", 0],
    ["echo \"terraform apply\"", 0],
    ["git commit -m 'kubectl delete ns prod'", 0],
    ["sudo -E env TF_LOG=1 terraform destroy", BLOCK],
    ["bash -c 'sh -c \"kubectl delete ns b\"'", BLOCK],
    ["echo $(terraform apply -auto-approve)", BLOCK],
    ["cat <<'EOF'\nterraform apply\nEOF", 0],
    ["bash <<EOF\nterraform apply\nEOF", BLOCK],
    ["$TF apply", APPROVAL],
    ["terraform $(echo apply)", APPROVAL],
    ["ls | xargs kubectl delete pod", BLOCK],
    ["find . -name x -exec terraform destroy \\;", BLOCK],
    ["eval 'terraform apply'", BLOCK],
  ];
  for (const [command, code] of cases) {
    test(`${JSON.stringify(command)} → exit ${code}`, async () => {
      const r = await run(["check", "--command", command]);
      expect(r.code).toBe(code);
    });
  }
});

describe("output", () => {
  test("human output names the verdict, policy, rule and normalized commands", async () => {
    const r = await run(["check", "--", "terraform", "-chdir=infra", "apply"]);
    expect(r.code).toBe(BLOCK);
    expect(r.stdout).toStartWith("BLOCK  terraform -chdir=infra apply\n");
    expect(r.stdout).toContain("policy   infra-mutation-block");
    expect(r.stdout).toContain(`rule     blocked_commands[0] "terraform apply"`);
    expect(r.stdout).toMatch(/commands\n {4}terraform apply +block/);
  });

  test("--json prints the verdict with policy, rule and normalized commands", async () => {
    const r = await run(["check", "--json", "--command", "cd x && /usr/bin/terraform -chdir=y destroy"]);
    expect(r.code).toBe(BLOCK);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({
      verdict: "block",
      exit_code: BLOCK,
      role: "default-agent",
      policy: "infra-mutation-block",
      rule: "blocked_commands[1]",
      pattern: "terraform destroy",
      command: "terraform destroy",
      source: "(embedded seed)",
    });
    expect(v.normalized).toEqual(["cd x", "terraform destroy"]);
  });

  test("an allowed command exits 0 and says why", async () => {
    const r = await run(["check", "--json", "--", "terraform", "plan"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: "allow", source: "(embedded seed)" });
  });
});

describe("--role and --policy", () => {
  test("--role picks the role's effective policy", async () => {
    const code = async (role: string, ...argv: string[]) => (await run(["check", "--role", role, "--", ...argv])).code;
    expect(await code("default-agent", "helm", "uninstall", "web")).toBe(BLOCK);
    expect(await code("terraform-restricted-agent", "helm", "uninstall", "web")).toBe(0);
    expect(await code("default-agent", "npm", "install")).toBe(0);
    expect(await code("approval-required-agent", "npm", "install")).toBe(APPROVAL);
    expect(await code("approval-required-agent", "kubectl", "get", "pods")).toBe(0);
  });

  test("without --role the role set in config.json decides, else default-agent", async () => {
    await using home = await tempDir();
    const env = { AIRLOCK_HOME: home.path };
    expect((await run(["check", "--json", "--", "npm", "install"], { env })).stdout).toContain(`"role": "default-agent"`);
    writeFileSync(join(home.path, "config.json"), JSON.stringify({ default_role: "approval-required-agent" }));
    const r = await run(["check", "--", "npm", "install"], { env });
    expect(r.code).toBe(APPROVAL);
    writeFileSync(join(home.path, "config.json"), JSON.stringify({ default_role: 42 }));
    const bad = await run(["check", "--", "npm", "install"], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("default_role");
  });

  test("an unknown role is a usage error naming the known roles", async () => {
    const r = await run(["check", "--role", "nope", "--", "ls"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`unknown role "nope"`);
    expect(r.stderr).toContain("default-agent");
  });

  test("--policy evaluates the given files alone", async () => {
    await using dir = await tempDir();
    const file = join(dir.path, "mine.json");
    writeFileSync(file, JSON.stringify({ id: "mine", name: "Mine", status: "active", blocked_commands: ["make deploy"], rules: [{ command: "npm publish", action: "require_approval" }] }));
    expect((await run(["check", "--policy", file, "--", "make", "deploy", "prod"])).code).toBe(BLOCK);
    expect((await run(["check", "--policy", file, "--", "npm", "publish"])).code).toBe(APPROVAL);
    const alone = await run(["check", "--json", "--policy", file, "--", "terraform", "apply"]);
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout).role).toBeNull();
  });

  test("--policy accepts several files", async () => {
    await using dir = await tempDir();
    const a = join(dir.path, "a.json");
    const b = join(dir.path, "b.json");
    writeFileSync(a, JSON.stringify({ id: "a", name: "A", status: "active", blocked_commands: ["make deploy"] }));
    writeFileSync(b, JSON.stringify({ id: "b", name: "B", status: "active", blocked_commands: ["npm publish"] }));
    expect((await run(["check", "--policy", a, "--policy", b, "--", "npm", "publish"])).code).toBe(BLOCK);
    expect((await run(["check", "--policy", a, b, "--", "make", "deploy"])).code).toBe(BLOCK);
  });

  test("--policies DIR reads roles and policies from that folder", async () => {
    await using dir = await tempDir();
    mkdirSync(join(dir.path, "policies"));
    mkdirSync(join(dir.path, "roles"));
    writeFileSync(join(dir.path, "policies", "p.json"), JSON.stringify({ id: "p", name: "P", status: "active", blocked_commands: ["rm -rf"] }));
    writeFileSync(join(dir.path, "roles", "default-agent.json"), JSON.stringify({ id: "default-agent", name: "D", policies: ["p"], default_action: "allow" }));
    expect((await run(["check", "--policies", dir.path, "--", "rm", "-rf", "/"])).code).toBe(BLOCK);
    expect((await run(["check", "--policies", dir.path, "--", "terraform", "apply"])).code).toBe(0);
  });

  test("./policies in the working directory is used when present", async () => {
    const r = await run(["check", "--json", "--", "terraform", "apply"], { cwd: ROOT });
    expect(JSON.parse(r.stdout).source).toBe("policies");
  });
});

describe("bad input: a specific message and exit 2", () => {
  const cases: [string, string[], string][] = [
    ["no command", ["check"], "no command to check"],
    ["empty --command", ["check", "--command", " "], "--command is empty"],
    ["unknown option", ["check", "--bogus", "--", "ls"], "unknown option --bogus"],
    ["option without value", ["check", "--role"], "needs a value"],
    ["command before --", ["check", "terraform", "apply"], "put the command after --"],
    ["both forms", ["check", "--command", "ls", "--", "ls"], "not both"],
    ["role and policy", ["check", "--role", "x", "--policy", "y.json", "--", "ls"], "not both"],
    ["missing policy file", ["check", "--policy", "/nonexistent/p.json", "--", "ls"], "no such file"],
    ["missing policies folder", ["check", "--policies", "/nonexistent", "--", "ls"], "policies folder not found"],
    ["unknown command", ["frobnicate"], `unknown command "frobnicate"`],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe("");
    });
  }

  test("invalid JSON in a policy file", async () => {
    await using dir = await tempDir();
    const file = join(dir.path, "bad.json");
    writeFileSync(file, "{ not json");
    const r = await run(["check", "--policy", file, "--", "ls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: invalid JSON`);
  });

  test("schema errors name the file and the JSON path", async () => {
    await using dir = await tempDir();
    const file = join(dir.path, "bad.json");
    writeFileSync(file, JSON.stringify({ id: "bad", name: "Bad", status: "on", blocked_commands: ["terraform apply", 'echo "open'], rules: [{ command: "x", action: "deny" }], extra: 1 }));
    const r = await run(["check", "--policy", file, "--", "ls"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: status: status must be one of active, disabled`);
    expect(r.stderr).toContain(`${file}: blocked_commands[1]: invalid command pattern`);
    expect(r.stderr).toContain(`${file}: rules[0].action: action must be one of block, require_approval, allow`);
    expect(r.stderr).toContain(`${file}: extra:`);
  });
});
