import { describe, expect, test } from "bun:test";
import { compilePolicySet, evaluateArgv, evaluateWords, type CompiledPolicySet } from "../../src/policy/engine";
import { compileProfiles } from "../../src/policy/profiles";
import type { Policy, Role, ToolProfile } from "../../src/policy/schema";

const profiles: ToolProfile[] = [
  {
    tool: "terraform",
    options_anywhere: false,
    options: [
      { names: ["-chdir"], value: true },
      { names: ["-help", "-version"], value: false },
    ],
  },
  {
    tool: "kubectl",
    options_anywhere: true,
    options: [
      { names: ["--context", "--cluster", "--kubeconfig", "--user"], value: true },
      { names: ["-n", "--namespace"], value: true },
      { names: ["-v", "--v"], value: true },
      { names: ["--insecure-skip-tls-verify"], value: false },
    ],
  },
  {
    tool: "aws",
    options_anywhere: true,
    options: [
      { names: ["--profile", "--region", "--output", "--endpoint-url"], value: true },
      { names: ["--debug", "--no-paginate"], value: false },
    ],
  },
  { tool: "git", options_anywhere: false, options: [{ names: ["-C", "-c"], value: true }, { names: ["--no-pager"], value: false }] },
];

const policy = (over: Partial<Policy> & Pick<Policy, "id">): Policy => ({
  name: over.id,
  status: "active",
  blocked_commands: [],
  rules: [],
  ...over,
});

const infra = policy({
  id: "infra-mutation-block",
  blocked_commands: ["terraform apply", "terraform destroy", "kubectl delete", "aws iam create-role"],
  rules: [{ command: "helm upgrade", action: "require_approval", reason: "prod releases need a human" }],
});
const git = policy({ id: "git-guard", blocked_commands: ["git push --force", "git push -f"] });
const readOnly = policy({
  id: "read-only",
  rules: [
    { command: "terraform plan", action: "allow" },
    { command: "kubectl get", action: "allow" },
  ],
});
const tfAll = policy({ id: "tf-all", rules: [{ command: "terraform", action: "require_approval" }] });

const role = (id: string, policies: string[], default_action: Role["default_action"] = "allow"): Role => ({
  id,
  name: id,
  policies,
  default_action,
});

function set(policies: Policy[], r: Role | null = role("agent", policies.map((p) => p.id)), autoApprove?: string[]): CompiledPolicySet {
  return compilePolicySet({ role: r, policies, profiles: compileProfiles(profiles), ...(autoApprove ? { autoApprove } : {}) });
}

const split = (s: string) => s.split(" ");

describe("word-level prefix matching with tool profiles", () => {
  const s = set([infra, git]);
  const cases: [string, "allow" | "block" | "require_approval", string | null][] = [
    ["terraform apply", "block", "blocked_commands[0]"],
    ["terraform apply -auto-approve", "block", "blocked_commands[0]"],
    ["terraform destroy -target=x", "block", "blocked_commands[1]"],
    ["terraform plan", "allow", null],
    ["terraform planx", "allow", null],
    ["terraform applyx", "allow", null],
    ["terraform init", "allow", null],
    ["terraform", "allow", null],
    ["terraform -chdir=infra apply", "block", "blocked_commands[0]"],
    ["terraform -chdir infra apply", "block", "blocked_commands[0]"],
    ["terraform -chdir=apply plan", "allow", null],
    ["/usr/local/bin/terraform apply", "block", "blocked_commands[0]"],
    ["/opt/homebrew/bin/terraform -chdir=x destroy", "block", "blocked_commands[1]"],
    ["./terraform apply", "block", "blocked_commands[0]"],
    ["terraform.real apply", "allow", null],
    ["kubectl delete ns b", "block", "blocked_commands[2]"],
    ["kubectl --context prod -n a delete ns b", "block", "blocked_commands[2]"],
    ["kubectl --context=prod --namespace=a delete ns b", "block", "blocked_commands[2]"],
    ["kubectl -na delete pod x", "block", "blocked_commands[2]"],
    ["kubectl --insecure-skip-tls-verify delete pod x", "block", "blocked_commands[2]"],
    ["kubectl get pods -n delete", "allow", null],
    ["kubectl get pods", "allow", null],
    ["kubectl describe deployment delete", "allow", null],
    ["aws iam create-role --role-name x", "block", "blocked_commands[3]"],
    ["aws --profile p --region r iam create-role --role-name x", "block", "blocked_commands[3]"],
    ["aws iam --profile p create-role", "block", "blocked_commands[3]"],
    ["aws iam list-roles", "allow", null],
    ["aws iam create-roles", "allow", null],
    ["aws s3 ls", "allow", null],
    ["helm upgrade web ./chart", "require_approval", "rules[0]"],
    ["helm list", "allow", null],
    ["git push --force", "block", "blocked_commands[0]"],
    ["git push origin main --force", "block", "blocked_commands[0]"],
    ["git push --force=true origin", "block", "blocked_commands[0]"],
    ["git push -f origin main", "block", "blocked_commands[1]"],
    ["git push -uf origin main", "block", "blocked_commands[1]"],
    ["git -C repo push --force", "block", "blocked_commands[0]"],
    ["git -c core.x=y push -f", "block", "blocked_commands[1]"],
    ["git push origin main", "allow", null],
    ["git push --force-with-lease", "allow", null],
    ["git commit -m --force", "allow", null],
    ["git --no-pager log", "allow", null],
  ];
  for (const [cmd, verdict, rule] of cases) {
    test(`${cmd} → ${verdict}`, () => {
      const v = evaluateArgv(s, split(cmd));
      expect(v.verdict).toBe(verdict);
      expect(v.rule).toBe(rule);
    });
  }
});

describe("unknown global options are judged both ways", () => {
  const s = set([infra]);
  test("an unknown option before the subcommand may take the next word as its value", () => {
    expect(evaluateArgv(s, split("kubectl --new-flag val delete ns x")).verdict).toBe("block");
    expect(evaluateArgv(s, split("kubectl --new-flag delete ns x")).verdict).toBe("block");
    expect(evaluateArgv(s, split("terraform -new-flag apply")).verdict).toBe("block");
  });
  test("an unknown option with = stands alone", () => {
    expect(evaluateArgv(s, split("kubectl --new-flag=delete get pods")).verdict).toBe("allow");
  });
  test("after -- nothing is an option", () => {
    expect(evaluateArgv(s, split("kubectl -- delete")).verdict).toBe("block");
  });
});

describe("verdict precedence: block > require_approval > allow", () => {
  test("a block in one policy beats an allow in another", () => {
    const allowApply = policy({ id: "allow-apply", rules: [{ command: "terraform apply", action: "allow" }] });
    const v = evaluateArgv(set([allowApply, infra]), split("terraform apply"));
    expect(v.verdict).toBe("block");
    expect(v.policy).toBe("infra-mutation-block");
  });
  test("a require_approval rule beats an allow rule", () => {
    const v = evaluateArgv(set([readOnly, tfAll]), split("terraform plan"));
    expect(v.verdict).toBe("require_approval");
    expect(v.policy).toBe("tf-all");
  });
  test("a longer allow rule does not beat a shorter block rule", () => {
    const v = evaluateArgv(set([infra, policy({ id: "x", rules: [{ command: "kubectl delete pod", action: "allow" }] })]), split("kubectl delete pod a"));
    expect(v.verdict).toBe("block");
  });
  test("an allow rule overrides a default of require_approval", () => {
    const s = set([readOnly], role("careful", ["read-only"], "require_approval"));
    expect(evaluateArgv(s, split("terraform plan -out=x")).verdict).toBe("allow");
    const v = evaluateArgv(s, split("terraform fmt"));
    expect(v.verdict).toBe("require_approval");
    expect(v.source).toBe("default");
    expect(v.reason).toContain("careful");
  });
  test("the first matching block in policy order decides, deterministically", () => {
    const a = policy({ id: "a", blocked_commands: ["kubectl"] });
    const b = policy({ id: "b", blocked_commands: ["kubectl delete"] });
    expect(evaluateArgv(set([a, b]), split("kubectl delete x")).policy).toBe("a");
    expect(evaluateArgv(set([b, a]), split("kubectl delete x")).policy).toBe("b");
  });
});

describe("effective policy of a role", () => {
  test("disabled policies take no part", () => {
    const off = { ...infra, status: "disabled" as const };
    expect(evaluateArgv(set([off]), split("terraform apply")).verdict).toBe("allow");
  });
  test("policies are combined", () => {
    const s = set([infra, git]);
    expect(evaluateArgv(s, split("terraform apply")).policy).toBe("infra-mutation-block");
    expect(evaluateArgv(s, split("git push -f")).policy).toBe("git-guard");
  });
  test("hasApprovals: a require_approval rule or default", () => {
    expect(set([infra]).hasApprovals).toBe(true);
    expect(set([git]).hasApprovals).toBe(false);
    expect(set([git], role("r", ["git-guard"], "require_approval")).hasApprovals).toBe(true);
  });
  test("policies evaluated alone have no role and default allow", () => {
    const s = set([git], null);
    const v = evaluateArgv(s, split("ls"));
    expect(v.role).toBeNull();
    expect(v.verdict).toBe("allow");
  });
});

describe("auto-approve patterns", () => {
  const careful = role("careful", ["infra-mutation-block"], "require_approval");
  test("turn the default require_approval into allow", () => {
    const v = evaluateArgv(set([infra], careful, ["ls", "git status"]), split("git status -s"));
    expect(v.verdict).toBe("allow");
    expect(v.source).toBe("auto_approve");
  });
  test("never override a block", () => {
    expect(evaluateArgv(set([infra], careful, ["terraform"]), split("terraform apply")).verdict).toBe("block");
  });
  test("never override a require_approval rule", () => {
    expect(evaluateArgv(set([infra], careful, ["helm"]), split("helm upgrade x")).verdict).toBe("require_approval");
  });
});

describe("dynamic words", () => {
  const s = set([infra]);
  const d = (value: string) => ({ value, dynamic: true });
  const w = (value: string) => ({ value, dynamic: false });
  test("a dynamic command name is unknown: require_approval where the set has approvals", () => {
    const v = evaluateWords(s, [d("$T"), w("apply")]);
    expect(v.verdict).toBe("require_approval");
    expect(v.source).toBe("unknown");
  });
  test("a dynamic command name is blocked where the set has no approvals", () => {
    expect(evaluateWords(set([git]), [d("$T"), w("apply")]).verdict).toBe("block");
  });
  test("a dynamic subcommand of a guarded tool is unknown", () => {
    expect(evaluateWords(s, [w("terraform"), d("$(echo apply)")]).source).toBe("unknown");
  });
  test("a dynamic argument after a full match does not hide the block", () => {
    expect(evaluateWords(s, [w("terraform"), w("apply"), d("$PLAN")]).verdict).toBe("block");
  });
  test("a dynamic word of an unguarded tool is irrelevant", () => {
    expect(evaluateWords(s, [w("echo"), d("$(date)")]).verdict).toBe("allow");
    expect(evaluateWords(s, [w("kubectl"), w("get"), d("$POD")]).verdict).toBe("allow");
  });
  test("a dynamic --opt=value stands alone", () => {
    expect(evaluateWords(s, [w("terraform"), d("-chdir=$DIR"), w("apply")]).verdict).toBe("block");
    expect(evaluateWords(s, [w("terraform"), d("-chdir=$DIR"), w("plan")]).verdict).toBe("allow");
  });
  test("a dynamic word that may expand to a required flag is unknown", () => {
    const v = evaluateWords(set([git]), [w("git"), w("push"), w("origin"), d("$FLAGS")]);
    expect(v.source).toBe("unknown");
    expect(v.reason).toContain("--force");
  });
  test("a dynamic word that starts with a letter cannot be a flag", () => {
    expect(evaluateWords(set([git]), [w("git"), w("push"), w("origin"), d("feature-$X")]).verdict).toBe("allow");
  });
});

describe("explanations", () => {
  test("a verdict names role, policy, rule, pattern and the normalized command", () => {
    const v = evaluateArgv(set([infra]), split("/usr/bin/kubectl --context prod -n a delete ns b"));
    expect(v).toMatchObject({
      verdict: "block",
      role: "agent",
      policy: "infra-mutation-block",
      rule: "blocked_commands[2]",
      pattern: "kubectl delete",
      command: "kubectl delete ns b",
      normalized: ["kubectl delete ns b"],
    });
    expect(v.reason).toContain("infra-mutation-block");
  });
  test("the rule's reason is part of the explanation", () => {
    expect(evaluateArgv(set([infra]), split("helm upgrade x")).reason).toContain("prod releases need a human");
  });
  test("normalization keeps words that need quoting readable", () => {
    const v = evaluateArgv(set([infra]), ["terraform", "-chdir=a b", "apply", "-var", "x=it's"]);
    expect(v.command).toBe(`terraform apply -var 'x=it'\\''s'`);
  });
});

describe("scale", () => {
  test("10,000 patterns: verdicts stay exact", () => {
    const many = policy({ id: "many", blocked_commands: Array.from({ length: 10_000 }, (_, i) => `tool${i % 100} sub${i}`) });
    const s = set([many]);
    expect(evaluateArgv(s, split("tool42 sub9942 --x")).verdict).toBe("block");
    expect(evaluateArgv(s, split("tool42 sub9943")).verdict).toBe("allow");
  });
});
