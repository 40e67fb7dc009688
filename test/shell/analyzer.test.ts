import { describe, expect, test } from "bun:test";
import type { ShellAnalysis, ShellCommand, ShellUnknown } from "../../src/shell/types";
import { shellAnalyzer } from "../support/shell";

type Reason = ShellUnknown["reason"];

interface Expected {
  words: string[];
  via?: string[];
  /** Indexes of words that must be dynamic (all others must not be). */
  dynamic?: number[];
}

interface Case {
  name: string;
  src: string;
  /** Commands that must be reported (exact word values; via/dynamic checked when given). */
  has?: Array<string[] | Expected>;
  /** No reported command has one of these names (basename of the first word). */
  not?: string[];
  /** No reported command has exactly these words. */
  notWords?: string[][];
  /** Exact set of unknown reasons (default: none). */
  unknowns?: Reason[];
  /** Exact number of reported commands. */
  count?: number;
}

const analyzer = await shellAnalyzer();

function values(c: ShellCommand): string[] {
  return c.words.map((w) => w.value);
}

function baseName(c: ShellCommand): string {
  const v = c.words[0]?.value ?? "";
  return v.slice(v.lastIndexOf("/") + 1);
}

function describeResult(r: ShellAnalysis): string {
  const cmds = r.commands.map((c) => `  ${JSON.stringify(values(c))}${c.via.length ? ` via ${c.via.join(" > ")}` : ""}`);
  const unk = r.unknowns.map((u) => `  ? ${u.reason}: ${u.message}`);
  return [...cmds, ...unk].join("\n");
}

function check(c: Case): void {
  const r = analyzer.analyze(c.src);
  const dump = `\nsource: ${JSON.stringify(c.src)}\n${describeResult(r)}`;
  for (const h of c.has ?? []) {
    const e: Expected = Array.isArray(h) ? { words: h } : h;
    const matches = r.commands.filter((cmd) => JSON.stringify(values(cmd)) === JSON.stringify(e.words));
    expect(matches.length > 0 ? "found" : `missing command ${JSON.stringify(e.words)}${dump}`).toBe("found");
    if (e.via) {
      const ok = matches.some((m) => JSON.stringify(m.via) === JSON.stringify(e.via));
      expect(ok ? "ok" : `command ${JSON.stringify(e.words)} not reached via ${JSON.stringify(e.via)}${dump}`).toBe("ok");
    }
    if (e.dynamic) {
      const want = e.words.map((_, i) => e.dynamic!.includes(i));
      const ok = matches.some((m) => JSON.stringify(m.words.map((w) => w.dynamic)) === JSON.stringify(want));
      expect(ok ? "ok" : `command ${JSON.stringify(e.words)} dynamic flags differ from ${JSON.stringify(want)}${dump}`).toBe("ok");
    }
  }
  for (const n of c.not ?? []) {
    const bad = r.commands.filter((cmd) => baseName(cmd) === n);
    expect(bad.length === 0 ? "none" : `unexpected command named ${n}${dump}`).toBe("none");
  }
  for (const w of c.notWords ?? []) {
    const bad = r.commands.filter((cmd) => JSON.stringify(values(cmd)) === JSON.stringify(w));
    expect(bad.length === 0 ? "none" : `unexpected command ${JSON.stringify(w)}${dump}`).toBe("none");
  }
  const reasons = [...new Set(r.unknowns.map((u) => u.reason))].sort();
  const want = [...new Set(c.unknowns ?? [])].sort();
  expect(JSON.stringify(reasons) === JSON.stringify(want) ? "ok" : `unknowns ${JSON.stringify(reasons)} != ${JSON.stringify(want)}${dump}`).toBe("ok");
  if (c.count !== undefined) {
    expect(r.commands.length === c.count ? "ok" : `expected ${c.count} commands${dump}`).toBe("ok");
  }
  for (const cmd of r.commands) {
    expect(cmd.text.length).toBeLessThanOrEqual(200);
    expect(cmd.words.length).toBeGreaterThan(0);
  }
  for (const u of r.unknowns) expect(u.text.length).toBeLessThanOrEqual(200);
}

function table(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) test(c.name, () => check(c));
  });
}

const TA = ["terraform", "apply"];

table("lists, pipelines and compound commands", [
  { name: "finds both sides of ;", src: "ls; terraform apply", has: [["ls"], TA], count: 2 },
  { name: "finds both sides of && and ||", src: "terraform plan && terraform apply || echo failed", has: [["terraform", "plan"], TA, ["echo", "failed"]], count: 3 },
  { name: "finds every stage of a pipeline", src: "terraform show | grep x | tee out.txt", has: [["terraform", "show"], ["grep", "x"], ["tee", "out.txt"]], count: 3 },
  { name: "finds commands on separate lines", src: "cd infra\nterraform apply\n", has: [["cd", "infra"], TA], count: 2 },
  { name: "finds a backgrounded command (&)", src: "terraform apply & wait", has: [TA, ["wait"]] },
  { name: "finds both sides of |&", src: "terraform apply |& tee log", has: [TA, ["tee", "log"]] },
  { name: "finds a negated command (!)", src: "! terraform apply", has: [TA] },
  { name: "finds commands in a subshell", src: "(cd infra && terraform apply)", has: [["cd", "infra"], TA] },
  { name: "finds commands in a brace group", src: "{ terraform apply; echo done; }", has: [TA, ["echo", "done"]] },
  { name: "finds commands in if/elif/else branches and conditions", src: "if terraform plan; then terraform apply; elif a; then b; else kubectl delete ns x; fi", has: [["terraform", "plan"], TA, ["a"], ["b"], ["kubectl", "delete", "ns", "x"]] },
  { name: "finds commands in a for loop body", src: "for d in a b; do terraform -chdir=$d apply; done", has: [{ words: ["terraform", "-chdir=$d", "apply"], dynamic: [1] }] },
  { name: "finds commands in a C-style for loop", src: "for ((i=0; i<3; i++)); do terraform apply; done", has: [TA] },
  { name: "finds commands in while and until loops", src: "while true; do terraform apply; done; until kubectl get x; do sleep 1; done", has: [["true"], TA, ["kubectl", "get", "x"], ["sleep", "1"]] },
  { name: "finds commands in case branches", src: "case $env in prod) terraform apply;; *) echo no;; esac", has: [TA, ["echo", "no"]] },
  { name: "finds commands in a function body (name() form)", src: "deploy() { terraform apply; }; deploy", has: [TA, ["deploy"]] },
  { name: "finds commands in a function body (function keyword)", src: "function deploy { terraform apply; }", has: [TA] },
  { name: "finds commands in a select loop", src: "select x in a b; do terraform apply; done", has: [TA] },
  { name: "finds commands in deeply nested compound commands", src: "if true; then (for i in 1; do { while false; do terraform apply; done; }; done); fi", has: [TA] },
  { name: "finds every command of a long && chain", src: Array.from({ length: 600 }, (_, i) => `c${i}`).join(" && ") + " && terraform apply", has: [TA, ["c0"], ["c599"]], count: 601 },
  { name: "finds a command after a comment line", src: "# deploy\nterraform apply", has: [TA], count: 1 },
  { name: "finds commands in a negated brace group", src: "! { terraform apply; }", has: [TA], not: ["{", "}"] },
  { name: "finds commands in a negated if statement", src: "a && ! if true; then terraform apply; fi", has: [TA], not: ["if", "then", "fi"] },
  { name: "finds commands in a coproc brace group", src: "coproc NAME { terraform apply; }", has: [TA], not: ["NAME", "{"] },
  { name: "finds the command of a simple coproc", src: "coproc terraform apply", has: [{ words: TA, via: ["coproc"] }] },
]);

table("substitutions", [
  { name: "finds a command inside $(...)", src: "echo $(terraform apply)", has: [{ words: TA, via: ["$(...)"] }, { words: ["echo", "$(terraform apply)"], dynamic: [1] }] },
  { name: "finds a command inside backticks", src: "echo `terraform apply`", has: [{ words: TA, via: ["`...`"] }] },
  { name: "finds a command inside nested escaped backticks", src: "echo `echo \\`terraform apply\\``", has: [{ words: TA, via: ["`...`", "`...`"] }] },
  { name: "finds a command inside nested $( $( ) )", src: "echo $(cat $(terraform apply))", has: [{ words: TA, via: ["$(...)", "$(...)"] }] },
  { name: "finds a command inside $(( )) arithmetic", src: "echo $(( $(terraform apply) + 1 ))", has: [{ words: TA, via: ["$(...)"] }] },
  { name: "finds a command inside (( )) arithmetic command", src: "(( n = $(terraform apply) ))", has: [TA] },
  { name: "finds a command inside <( ) process substitution", src: "diff <(terraform show) b", has: [{ words: ["terraform", "show"], via: ["<(...)"] }] },
  { name: "finds a command inside >( ) process substitution", src: "echo x > >(terraform apply)", has: [{ words: TA, via: [">(...)"] }] },
  { name: "finds a command in [[ ]] operands", src: "[[ $(terraform apply) == x ]]", has: [TA] },
  { name: "finds a command in [ ] operands", src: "[ \"$(terraform apply)\" = ok ]", has: [TA] },
  { name: "finds a command in a redirection target", src: "echo hi > $(terraform apply)", has: [TA, ["echo", "hi"]] },
  { name: "finds a command in an assignment value", src: "X=$(terraform apply)", has: [TA], count: 1 },
  { name: "finds a command in an assignment prefix of a command", src: "X=`terraform apply` ls", has: [TA, ["ls"]] },
  { name: "finds a command in a local/export value", src: "local x=$(terraform apply); export Y=$(kubectl delete ns a)", has: [TA, ["kubectl", "delete", "ns", "a"]] },
  { name: "finds a command in a for list", src: "for f in $(terraform output); do echo $f; done", has: [["terraform", "output"]] },
  { name: "finds a command in a case subject", src: "case $(terraform apply) in *) ;; esac", has: [TA] },
  { name: "finds a command in a here-string value", src: "cat <<< $(terraform apply)", has: [TA] },
  { name: "finds a command inside a double-quoted string", src: "echo \"result: $(terraform apply)\"", has: [TA] },
  { name: "finds a command inside ${...} default value", src: "echo ${X:-$(terraform apply)}", has: [TA] },
  { name: "finds backticks inside ${...} that the grammar leaves as text", src: "echo ${X:-`terraform apply`} \"${Y/`kubectl get ns`/z}\"", has: [{ words: TA, via: ["`...`"] }, ["kubectl", "get", "ns"]] },
  { name: "finds a command in a heredoc inside $(...)", src: "echo \"$(cat <<EOF\n$(terraform apply)\nEOF\n)\"", has: [{ words: TA, via: ["$(...)", "$(...)"] }] },
  { name: "keeps a quoted heredoc inside $(...) as data (commit message)", src: "git commit -m \"$(cat <<'EOF'\nfix: terraform apply; `kubectl delete ns x` $(rm -rf /)\nEOF\n)\"", has: [{ words: ["cat"], via: ["$(...)"] }], not: ["terraform", "kubectl", "rm"] },
  { name: "keeps single-quoted $(...) inside ${...} as data", src: "echo ${X:-'$(terraform apply)'}", not: ["terraform"] },
  { name: "finds the substitution of a while loop's input", src: "while read l; do echo $l; done < <(terraform output)", has: [["terraform", "output"]] },
]);

table("assignments and redirections are not words", [
  { name: "drops a leading assignment", src: "FOO=1 terraform apply", has: [TA], count: 1 },
  { name: "drops several leading assignments", src: "A=1 B='x y' C=$(true) terraform apply", has: [TA, ["true"]] },
  { name: "drops trailing redirections", src: "terraform apply > out.log 2>&1", has: [TA], count: 1 },
  { name: "drops a leading redirection", src: ">/dev/null terraform apply", has: [TA], count: 1 },
  { name: "keeps words after a redirection in the middle", src: "terraform 2>/dev/null apply -auto-approve", has: [["terraform", "apply", "-auto-approve"]], count: 1 },
  { name: "keeps words after an fd duplication", src: "terraform 2>&1 apply", has: [TA] },
  { name: "keeps words after a closed fd", src: "terraform 2>&- apply", has: [TA] },
  { name: "keeps words after a here-string", src: "terraform <<<yes apply", has: [TA] },
  { name: "keeps words after a heredoc operator", src: "terraform <<EOF apply\nyes\nEOF", has: [TA] },
  { name: "reports only assignments as no command", src: "A=1 B=2", count: 0 },
  { name: "reports a bare redirection as no command", src: "> out.txt", count: 0 },
]);

table("heredocs and here-strings", [
  { name: "parses a heredoc fed to bash", src: "bash <<EOF\nterraform apply\nEOF", has: [["bash"], { words: TA, via: ["heredoc → bash"] }] },
  { name: "parses a quoted-delimiter heredoc fed to bash", src: "bash <<'EOF'\nterraform apply $X\nEOF", has: [{ words: ["terraform", "apply", "$X"], via: ["heredoc → bash"], dynamic: [2] }] },
  { name: "parses a heredoc fed to bash -s", src: "bash -s -- arg <<EOF\nterraform apply\nEOF", has: [{ words: TA, via: ["heredoc → bash"] }] },
  { name: "parses a heredoc fed to sh with a <<- delimiter", src: "sh <<-EOF\n\tterraform apply\n\tEOF", has: [{ words: TA, via: ["heredoc → sh"] }] },
  { name: "parses a heredoc fed to sudo bash with a redirection after it", src: "sudo bash <<EOF > /dev/null\nterraform apply\nEOF", has: [{ words: TA, via: ["sudo", "heredoc → bash"] }] },
  { name: "flags a heredoc into bash that contains expansions", src: "bash <<EOF\nterraform apply $ARGS\nEOF", has: [{ words: ["terraform", "apply", "$ARGS"], via: ["heredoc → bash"] }], unknowns: ["dynamic_shell_input"] },
  { name: "parses a here-string fed to sh", src: "sh <<< 'terraform apply'", has: [{ words: TA, via: ["herestring → sh"] }] },
  { name: "flags a dynamic here-string fed to bash", src: "bash <<< \"$CMD\"", unknowns: ["dynamic_shell_input"] },
  { name: "parses cat <<EOF piped into bash", src: "cat <<EOF | bash\nterraform apply\nEOF", has: [["cat"], ["bash"], { words: TA, via: ["pipe → bash"] }] },
  { name: "parses cat <<'EOF' piped through a pipeline into sh", src: "cat <<'EOF' | tee /tmp/x | sh\nkubectl delete ns prod\nEOF", has: [{ words: ["kubectl", "delete", "ns", "prod"], via: ["pipe → sh"] }] },
  { name: "keeps a heredoc into cat as data", src: "cat <<'EOF'\nterraform apply\nEOF", has: [["cat"]], not: ["terraform"] },
  { name: "keeps an unquoted heredoc into cat as data", src: "cat > notes.md <<EOF\nterraform apply\nkubectl delete ns prod\nEOF", not: ["terraform", "kubectl"] },
  { name: "reports $(...) inside an unquoted heredoc into cat", src: "cat <<EOF\nnow: $(terraform apply)\nEOF", has: [{ words: TA, via: ["$(...)"] }, ["cat"]] },
  { name: "reports backticks inside an unquoted heredoc into cat", src: "cat <<EOF\nnow: `terraform apply`\nEOF", has: [{ words: TA, via: ["`...`"] }] },
  { name: "reports substitutions nested in ${...} inside a heredoc", src: "cat <<EOF\n${X:-$(terraform apply)}\nEOF", has: [TA] },
  { name: "keeps escaped \\$( and \\` in an unquoted heredoc as data", src: "cat <<EOF\n\\$(terraform apply) \\`kubectl delete ns x\\`\nEOF", not: ["terraform", "kubectl"] },
  { name: "keeps $(...) in a quoted heredoc as data", src: "cat <<'EOF'\n$(terraform apply) `kubectl delete ns x`\nEOF", not: ["terraform", "kubectl"] },
  { name: "ignores a heredoc on another fd than stdin for the shell script", src: "bash 3<<EOF\nterraform apply\nEOF", not: ["terraform"] },
  { name: "finds the command after a heredoc joined with &&", src: "cat <<EOF && terraform apply\ndata\nEOF", has: [["cat"], TA] },
  { name: "keeps a heredoc body starting with a backslash as data", src: "cat <<EOF\n\\x terraform apply\nEOF", has: [["cat"]], not: ["terraform", "x"] },
  { name: "parses a heredoc body starting with a backslash fed to bash", src: "bash <<'EOF'\n\\terraform apply\nEOF", has: [{ words: TA, via: ["heredoc → bash"] }] },
  { name: "flags a pipe continuing after the heredoc body and reads the body as commands", src: "cat <<EOF |\nterraform apply\nEOF\nbash", has: [TA], unknowns: ["parse_error"] },
  { name: "keeps words on the heredoc line as arguments", src: "cat <<EOF extra.txt\nterraform apply\nEOF", has: [["cat", "extra.txt"]], not: ["terraform"] },
  { name: "finds the command after a heredoc on the next line", src: "cat <<EOF\nterraform apply\nEOF\nkubectl get pods", has: [["kubectl", "get", "pods"]], not: ["terraform"] },
]);

table("shell reading its script from a pipe", [
  { name: "parses echo '...' | bash", src: "echo 'terraform apply' | bash", has: [{ words: TA, via: ["pipe → bash"] }] },
  { name: "parses printf '...' | sh", src: "printf 'terraform apply\\n' | sh", has: [{ words: TA, via: ["pipe → sh"] }] },
  { name: "parses printf with %s arguments piped into sh", src: "printf '%s %s\\n' terraform apply | sh", has: [{ words: TA, via: ["pipe → sh"] }] },
  { name: "parses echo -e with escapes piped into bash", src: "echo -e 'terraform\\x20apply' | bash", has: [{ words: TA, via: ["pipe → bash"] }] },
  { name: "parses echo piped into sudo bash", src: "echo 'terraform apply' | sudo bash", has: [{ words: TA, via: ["sudo", "pipe → bash"] }] },
  { name: "parses a script piped into sudo -s", src: "echo 'terraform apply' | sudo -s", has: [{ words: TA, via: ["pipe → sudo -s"] }] },
  { name: "parses a script passed through tee into bash", src: "echo 'terraform apply' | tee /dev/null | bash", has: [{ words: TA, via: ["pipe → bash"] }] },
  { name: "flags curl | bash", src: "curl -fsSL https://example.com/install.sh | bash", has: [["curl", "-fsSL", "https://example.com/install.sh"], ["bash"]], unknowns: ["dynamic_shell_input"] },
  { name: "flags curl | sudo bash -s", src: "curl -fsSL https://x | sudo bash -s -- --yes", unknowns: ["dynamic_shell_input"] },
  { name: "flags cat file | sh", src: "cat deploy.sh | sh", unknowns: ["dynamic_shell_input"] },
  { name: "flags echo $X | bash", src: "echo $X | bash", unknowns: ["dynamic_shell_input"] },
  { name: "flags bash < file", src: "bash < deploy.sh", unknowns: ["dynamic_shell_input"] },
  { name: "flags bash <(curl ...)", src: "bash <(curl -s https://x)", has: [{ words: ["curl", "-s", "https://x"], via: ["<(...)"] }], unknowns: ["dynamic_shell_input"] },
  { name: "flags source <(...)", src: "source <(kubectl completion bash)", unknowns: ["dynamic_shell_input"] },
  { name: "does not treat stdin of bash -c as a script", src: "echo 'terraform apply' | bash -c 'cat'", not: ["terraform"], has: [{ words: ["cat"], via: ["bash -c"] }] },
  { name: "does not treat stdin of bash FILE as a script", src: "echo 'terraform apply' | bash script.sh", not: ["terraform"] },
  { name: "keeps echo piped into a non-shell as data", src: "echo 'terraform apply' | grep terraform", not: ["terraform"] },
  { name: "keeps printf not piped into a shell as data", src: "printf 'helm uninstall x\\n'", not: ["helm"] },
  { name: "does not parse echo output piped to xargs without a command", src: "echo terraform apply | xargs", has: [{ words: ["echo"], via: ["xargs"] }], not: ["terraform"] },
]);

table("bash -c and friends", [
  { name: "finds terraform apply inside bash -c", src: "bash -c 'terraform apply'", has: [["bash", "-c", "terraform apply"], { words: TA, via: ["bash -c"] }] },
  { name: "finds the command inside sh -c", src: "sh -c \"terraform apply\"", has: [{ words: TA, via: ["sh -c"] }] },
  { name: "finds the command inside zsh -c", src: "zsh -c 'terraform apply'", has: [{ words: TA, via: ["zsh -c"] }] },
  { name: "finds the command inside dash -c and ksh -c", src: "dash -c 'terraform apply'; ksh -c 'kubectl delete ns x'", has: [{ words: TA, via: ["dash -c"] }, { words: ["kubectl", "delete", "ns", "x"], via: ["ksh -c"] }] },
  { name: "finds the command inside ash -c", src: "ash -c 'terraform apply'", has: [{ words: TA, via: ["ash -c"] }] },
  { name: "finds the command inside busybox sh -c", src: "busybox sh -c 'terraform apply'", has: [{ words: TA, via: ["busybox", "sh -c"] }] },
  { name: "finds the command inside /bin/bash -c", src: "/bin/bash -c 'terraform apply'", has: [{ words: TA, via: ["bash -c"] }] },
  { name: "finds the command inside bash -lc", src: "bash -lc 'terraform apply'", has: [{ words: TA, via: ["bash -c"] }] },
  { name: "finds the command inside bash -ec", src: "bash -ec 'terraform apply'", has: [TA] },
  { name: "finds the command inside bash -o pipefail -c", src: "bash -o pipefail -c 'terraform apply | tee x'", has: [TA, ["tee", "x"]] },
  { name: "finds the command inside bash --login -c", src: "bash --login -c 'terraform apply'", has: [TA] },
  { name: "finds the command inside bash -c with options after -c", src: "bash -c -x 'terraform apply'", has: [TA] },
  { name: "finds the command inside bash -c with $0 and args", src: "bash -c 'terraform \"$1\"' sh apply", has: [{ words: ["terraform", "\"$1\""], dynamic: [1] }] },
  { name: "finds bash -c inside sh -c", src: "sh -c \"bash -c 'terraform apply'\"", has: [{ words: TA, via: ["sh -c", "bash -c"] }] },
  { name: "finds terraform apply inside bash -c inside sudo", src: "sudo bash -c 'terraform apply'", has: [{ words: ["bash", "-c", "terraform apply"], via: ["sudo"] }, { words: TA, via: ["sudo", "bash -c"] }] },
  { name: "finds every command of a bash -c script", src: "bash -c 'cd infra; terraform init && terraform apply'", has: [["cd", "infra"], ["terraform", "init"], TA] },
  { name: "flags a dynamic bash -c string", src: "bash -c \"$CMD\"", unknowns: ["dynamic_shell_input"] },
  { name: "flags a partly dynamic bash -c string and still reads it", src: "bash -c \"terraform apply $FLAGS\"", has: [{ words: ["terraform", "apply", "$FLAGS"], via: ["bash -c"] }], unknowns: ["dynamic_shell_input"] },
  { name: "runs nothing for bash -c without a string", src: "bash -c", count: 1 },
  { name: "reports a parse error inside bash -c", src: "bash -c 'echo \"unterminated'", unknowns: ["parse_error"] },
  { name: "keeps bash running a static script file as a plain command", src: "bash deploy.sh", has: [["bash", "deploy.sh"]], count: 1 },
]);

table("eval", [
  { name: "finds the command inside eval", src: "eval 'terraform apply'", has: [{ words: TA, via: ["eval"] }] },
  { name: "joins eval arguments with spaces", src: "eval terraform apply", has: [{ words: TA, via: ["eval"] }] },
  { name: "finds every command in an eval string", src: "eval 'terraform apply; kubectl delete ns x'", has: [TA, ["kubectl", "delete", "ns", "x"]] },
  { name: "flags a dynamic eval", src: "eval \"$(ssh-agent -s)\"", has: [{ words: ["ssh-agent", "-s"], via: ["$(...)"] }], unknowns: ["dynamic_shell_input"] },
  { name: "finds eval inside bash -c", src: "bash -c \"eval 'terraform apply'\"", has: [{ words: TA, via: ["bash -c", "eval"] }] },
  { name: "finds the command of builtin eval", src: "builtin eval 'terraform apply'", has: [{ words: TA, via: ["builtin", "eval"] }] },
  { name: "finds the command of a trap handler", src: "trap 'terraform destroy' EXIT", has: [{ words: ["terraform", "destroy"], via: ["trap"] }] },
]);

table("wrappers", [
  { name: "unwraps sudo env nice into 4 commands", src: "sudo env FOO=1 nice -n 5 terraform apply", count: 4, has: [["sudo", "env", "FOO=1", "nice", "-n", "5", "terraform", "apply"], { words: ["env", "FOO=1", "nice", "-n", "5", "terraform", "apply"], via: ["sudo"] }, { words: ["nice", "-n", "5", "terraform", "apply"], via: ["sudo", "env"] }, { words: TA, via: ["sudo", "env", "nice"] }] },
  { name: "unwraps env -i -0 -u -C --unset --chdir and assignments", src: "env -i -0 -u HOME --unset=X -C /tmp --chdir=/ -- A=1 B=2 terraform apply", has: [{ words: TA, via: ["env"] }] },
  { name: "unwraps env with the lone - option", src: "env - PATH=/bin terraform apply", has: [{ words: TA, via: ["env"] }] },
  { name: "runs nothing for env with only assignments", src: "env A=1", count: 1 },
  { name: "splits and parses env -S", src: "env -S 'FOO=1 terraform apply'", has: [{ words: TA, via: ["env -S", "env"] }] },
  { name: "splits and parses env --split-string=", src: "env --split-string='terraform apply' -auto-approve", has: [{ words: ["terraform", "apply", "-auto-approve"], via: ["env -S", "env"] }] },
  { name: "unwraps sudo value options", src: "sudo -u root -g wheel -h host -p 'pw:' -C 3 -D /tmp -r role -t type -T 10 -U bob terraform apply", has: [{ words: TA, via: ["sudo"] }] },
  { name: "unwraps sudo long options and --", src: "sudo --user=root --preserve-env=PATH --preserve-env -- terraform apply", has: [{ words: TA, via: ["sudo"] }] },
  { name: "unwraps sudo flags and assignments", src: "sudo -E -H -n -S -b -k VAR=1 terraform apply", has: [{ words: TA, via: ["sudo"] }] },
  { name: "unwraps sudo -i with a command", src: "sudo -i terraform apply", has: [{ words: TA, via: ["sudo"] }] },
  { name: "runs nothing for sudo -e (edit)", src: "sudo -e /etc/hosts", count: 1 },
  { name: "unwraps doas -u", src: "doas -n -u root terraform apply", has: [{ words: TA, via: ["doas"] }] },
  { name: "unwraps command -p", src: "command -p terraform apply", has: [{ words: TA, via: ["command"] }] },
  { name: "runs nothing for command -v", src: "command -v terraform", count: 1 },
  { name: "runs nothing for command -V", src: "command -V terraform", count: 1 },
  { name: "unwraps builtin", src: "builtin command terraform apply", has: [{ words: TA, via: ["builtin", "command"] }] },
  { name: "unwraps exec -c -l -a NAME", src: "exec -c -l -a fake terraform apply", has: [{ words: TA, via: ["exec"] }] },
  { name: "runs nothing for exec with only redirections", src: "exec 3>&1", count: 1 },
  { name: "unwraps nohup", src: "nohup terraform apply > log 2>&1 &", has: [{ words: TA, via: ["nohup"] }] },
  { name: "unwraps nice -N and --adjustment", src: "nice -10 terraform apply; nice --adjustment=5 kubectl delete ns x", has: [{ words: TA, via: ["nice"] }, { words: ["kubectl", "delete", "ns", "x"], via: ["nice"] }] },
  { name: "unwraps ionice -c -n", src: "ionice -c 2 -n7 terraform apply", has: [{ words: TA, via: ["ionice"] }] },
  { name: "runs nothing for ionice -p", src: "ionice -c 3 -p 1234", count: 1 },
  { name: "unwraps timeout with signal, kill-after and duration", src: "timeout -s KILL -k 5 30s terraform apply", has: [{ words: TA, via: ["timeout"] }] },
  { name: "unwraps timeout long options", src: "timeout --signal=TERM --kill-after=5 --preserve-status --foreground -v 10m terraform apply", has: [{ words: TA, via: ["timeout"] }] },
  { name: "unwraps timeout with an attached signal", src: "timeout -sINT 1h terraform apply", has: [{ words: TA, via: ["timeout"] }] },
  { name: "unwraps the time keyword", src: "time terraform apply", has: [{ words: TA, via: ["time"] }] },
  { name: "unwraps time -p", src: "time -p terraform apply", has: [{ words: TA, via: ["time"] }] },
  { name: "unwraps /usr/bin/time -f -o -a -v", src: "/usr/bin/time -f '%e' -o t.txt -a -v terraform apply", has: [{ words: TA, via: ["time"] }] },
  { name: "finds commands in a timed brace group", src: "time { terraform apply; kubectl get pods; }", has: [TA, ["kubectl", "get", "pods"]], not: ["}", "{"] },
  { name: "finds commands in a timed if statement", src: "time -p if true; then terraform apply; fi", has: [TA], not: ["then", "fi"] },
  { name: "finds commands in a timed subshell", src: "time (terraform apply)", has: [TA] },
  { name: "unwraps stdbuf with attached and separate modes", src: "stdbuf -oL -e 0 --input=0 terraform apply", has: [{ words: TA, via: ["stdbuf"] }] },
  { name: "unwraps setsid -c -f -w", src: "setsid -f -w terraform apply", has: [{ words: TA, via: ["setsid"] }] },
  { name: "parses the joined arguments of watch", src: "watch -n 5 -d kubectl get pods", has: [{ words: ["kubectl", "get", "pods"], via: ["watch"] }] },
  { name: "parses a watch string with a pipe as shell code", src: "watch 'kubectl get pods | grep Crash'", has: [{ words: ["kubectl", "get", "pods"], via: ["watch"] }, { words: ["grep", "Crash"], via: ["watch"] }] },
  { name: "unwraps watch -x without a shell", src: "watch -x -n1 kubectl get pods", has: [{ words: ["kubectl", "get", "pods"], via: ["watch"] }] },
  { name: "unwraps xargs with value options", src: "xargs -0 -n 1 -P 4 -L 2 -s 1000 -d '\\n' -a list.txt terraform apply", has: [{ words: TA, via: ["xargs"] }] },
  { name: "unwraps xargs long options and flags", src: "xargs --null --max-args=1 --no-run-if-empty --verbose -r -t terraform apply", has: [{ words: TA, via: ["xargs"] }] },
  { name: "unwraps xargs -I with sh -c", src: "xargs -I % sh -c 'terraform apply %'", has: [{ words: ["terraform", "apply", "%"], via: ["xargs", "sh -c"] }] },
  { name: "unwraps xargs with optional attached -i -e -l", src: "xargs -i -eEOF -l1 kubectl delete pod {}", has: [{ words: ["kubectl", "delete", "pod", "{}"], via: ["xargs"] }] },
  { name: "reports echo for xargs without a command", src: "ls | xargs -n1", has: [{ words: ["echo"], via: ["xargs"] }] },
  { name: "marks the program dynamic when xargs -I replaces it", src: "echo terraform | xargs -I{} {} apply", has: [{ words: ["{}", "apply"], via: ["xargs"], dynamic: [0] }] },
  { name: "flags xargs sh -c whose script comes from input", src: "echo 'terraform apply' | xargs sh -c", unknowns: ["dynamic_shell_input"] },
  { name: "finds the command of find -exec ... ;", src: "find . -name '*.tf' -exec terraform fmt {} \\;", has: [{ words: ["terraform", "fmt", "{}"], via: ["find -exec"], dynamic: [] }] },
  { name: "finds the command of find -exec ... +", src: "find . -type f -exec rm -f {} +", has: [{ words: ["rm", "-f", "{}"], via: ["find -exec"] }] },
  { name: "finds the commands of several -exec/-execdir/-ok/-okdir", src: "find . -execdir terraform apply \\; -ok rm {} ';' -okdir kubectl delete -f {} \\;", has: [{ words: TA, via: ["find -execdir"] }, { words: ["rm", "{}"], via: ["find -ok"] }, { words: ["kubectl", "delete", "-f", "{}"], via: ["find -okdir"] }] },
  { name: "finds sh -c inside find -exec", src: "find . -exec sh -c 'terraform apply' \\;", has: [{ words: TA, via: ["find -exec", "sh -c"] }] },
  { name: "flags find -exec sh -c {}", src: "find . -name '*.sh' -exec sh -c {} \\;", unknowns: ["dynamic_shell_input"] },
  { name: "unwraps chroot", src: "chroot --userspec=1000:1000 /mnt terraform apply", has: [{ words: TA, via: ["chroot"] }] },
  { name: "unwraps flock FILE CMD", src: "flock -w 5 /tmp/lock terraform apply", has: [{ words: TA, via: ["flock"] }] },
  { name: "parses flock FILE -c STRING", src: "flock -x /tmp/lock -c 'terraform apply'", has: [{ words: TA, via: ["flock -c"] }] },
  { name: "parses su -c STRING", src: "su - deploy -c 'terraform apply'", has: [{ words: TA, via: ["su -c"] }] },
  { name: "parses su --command=STRING", src: "su --command='terraform apply' root", has: [{ words: TA, via: ["su -c"] }] },
  { name: "parses script -c STRING", src: "script -q -c 'terraform apply' /dev/null", has: [{ words: TA, via: ["script -c"] }] },
  { name: "unwraps taskset MASK CMD", src: "taskset -c 0,1 terraform apply", has: [{ words: TA, via: ["taskset"] }] },
  { name: "unwraps chrt PRIO CMD", src: "chrt -f 10 terraform apply", has: [{ words: TA, via: ["chrt"] }] },
  { name: "unwraps runuser -u USER -- CMD", src: "runuser -u bob -- terraform apply", has: [{ words: TA, via: ["runuser"] }] },
  { name: "unwraps a wrapper given by absolute path", src: "/usr/bin/sudo /usr/bin/env terraform apply", has: [{ words: TA, via: ["sudo", "env"] }] },
  { name: "unwraps a stacked chain inside sh -c inside sudo", src: "sudo -- sh -c 'env FOO=1 timeout 5 nohup stdbuf -oL terraform apply'", has: [{ words: TA, via: ["sudo", "sh -c", "env", "timeout", "nohup", "stdbuf"] }] },
  { name: "parses su -C (session command)", src: "su -C 'terraform apply' deploy", has: [{ words: TA, via: ["su -c"] }] },
  { name: "parses a heredoc fed to su (shell on stdin)", src: "su - deploy <<'EOF'\nterraform apply\nEOF", has: [{ words: TA, via: ["heredoc → su"] }] },
  { name: "parses a heredoc fed to doas -s", src: "doas -s <<'EOF'\nterraform apply\nEOF", has: [{ words: TA, via: ["heredoc → doas -s"] }] },
  { name: "parses a heredoc fed to exec bash", src: "exec bash <<'EOF'\nterraform apply\nEOF", has: [{ words: TA, via: ["exec", "heredoc → bash"] }] },
  { name: "parses a trap handler after --", src: "trap -- 'terraform destroy' EXIT", has: [{ words: ["terraform", "destroy"], via: ["trap"] }] },
  { name: "runs nothing for a trap reset", src: "trap - EXIT; trap INT", count: 2 },
  { name: "flags xargs sudo sh -c whose script comes from input", src: "cat cmds.txt | xargs -n1 sudo sh -c", unknowns: ["dynamic_shell_input"] },
  { name: "unwraps the command of timeout inside xargs inside find -exec", src: "find . -exec xargs timeout 5 terraform apply \\;", has: [{ words: TA, via: ["find -exec", "xargs", "timeout"] }] },
  { name: "stops unwrapping at a dynamic wrapper option", src: "sudo $OPTS terraform apply", has: [{ words: ["$OPTS", "terraform", "apply"], via: ["sudo"], dynamic: [0] }] },
]);

table("quoting tricks resolve to the real name", [
  { name: "unquotes t'e'rraform", src: "t'e'rraform apply", has: [TA] },
  { name: "unquotes \\terraform", src: "\\terraform apply", has: [TA] },
  { name: "unquotes \"terraform\"", src: "\"terraform\" apply", has: [TA] },
  { name: "unquotes $'\\x74erraform'", src: "$'\\x74erraform' apply", has: [TA] },
  { name: "unquotes $'\\164erraform' (octal)", src: "$'\\164erraform' apply", has: [TA] },
  { name: "unquotes $'\\u0074erraform' (unicode)", src: "$'\\u0074erraform' apply", has: [TA] },
  { name: "unquotes \"ter\"'ra'form (adjacent pieces)", src: "\"ter\"'ra'form apply", has: [TA] },
  { name: "unquotes $\"terraform\"", src: "$\"terraform\" apply", has: [TA] },
  { name: "unquotes an empty quote in the middle", src: "ter\"\"raform ap''ply", has: [TA] },
  { name: "joins a line continuation inside a word", src: "ter\\\nraform apply", has: [TA] },
  { name: "treats a line continuation between words as a space", src: "terraform \\\n  apply", has: [TA] },
  { name: "keeps an absolute path as the name", src: "/usr/bin/terraform apply", has: [["/usr/bin/terraform", "apply"]] },
  { name: "keeps a relative path as the name", src: "./bin/terraform apply", has: [["./bin/terraform", "apply"]] },
  { name: "unquotes escapes inside double quotes", src: "echo \"a\\\"b\\\\c\\$d\\`e\\x\"", has: [["echo", "a\"b\\c$d`e\\x"]] },
  { name: "keeps backslashes in single quotes", src: "echo 'a\\nb'", has: [["echo", "a\\nb"]] },
  { name: "decodes ANSI-C escapes", src: "echo $'a\\tb\\nc\\047d\\x41\\u00e9'", has: [["echo", "a\tb\nc'dAé"]] },
  { name: "unquotes a name hidden in a tab-separated $'...'", src: "$'terraform\\x20apply'", has: [["terraform apply"]] },
  { name: "handles non-ASCII text around words", src: "echo 'héllo 😀' && terraform apply", has: [["echo", "héllo 😀"], TA] },
]);

table("data stays data", [
  { name: "keeps echo \"terraform apply\" as data", src: "echo \"terraform apply\"", has: [["echo", "terraform apply"]], not: ["terraform"] },
  { name: "keeps a git commit message as data", src: "git commit -m \"kubectl delete ns prod\"", has: [["git", "commit", "-m", "kubectl delete ns prod"]], not: ["kubectl"] },
  { name: "keeps a grep pattern as data", src: "grep -r 'terraform destroy' .", not: ["terraform"] },
  { name: "keeps printf text as data", src: "printf 'helm uninstall x'", not: ["helm"] },
  { name: "ignores a trailing comment", src: "ls # terraform apply", has: [["ls"]], not: ["terraform"], count: 1 },
  { name: "ignores a whole-line comment", src: "# terraform apply\n# kubectl delete ns prod", count: 0 },
  { name: "keeps single-quoted $(...) as data", src: "echo '$(terraform apply)'", not: ["terraform"] },
  { name: "keeps escaped \\$(...) as data", src: "echo \"\\$(terraform apply)\"", not: ["terraform"] },
  { name: "keeps escaped backticks as data", src: "echo \\`terraform apply\\`", not: ["terraform"] },
  { name: "keeps an assignment of a command string as data", src: "CMD='terraform apply'", count: 0 },
  { name: "keeps words after -- as arguments", src: "kubectl exec pod -- echo 'terraform apply'", not: ["terraform"] },
  { name: "keeps a python -c string as data", src: "python3 -c 'import os; os.system(\"ls\")'", not: ["ls"] },
  { name: "keeps an alias definition as data", src: "alias tf='terraform apply'", not: ["terraform"] },
  { name: "keeps a hash inside a word", src: "echo a#b", has: [["echo", "a#b"]] },
]);

table("dynamic words", [
  { name: "reports a dynamic command name without an unknown", src: "$T apply", has: [{ words: ["$T", "apply"], dynamic: [0] }] },
  { name: "reports a substituted command name without an unknown", src: "$(echo terraform) apply", has: [{ words: ["$(echo terraform)", "apply"], dynamic: [0] }, { words: ["echo", "terraform"], via: ["$(...)"] }] },
  { name: "marks ${VAR} dynamic", src: "terraform ${CMD}", has: [{ words: ["terraform", "${CMD}"], dynamic: [1] }] },
  { name: "marks a double-quoted expansion dynamic with its raw text", src: "terraform \"$CMD\"", has: [{ words: ["terraform", "\"$CMD\""], dynamic: [1] }] },
  { name: "marks special parameters dynamic", src: "echo $@ $1 $? $$", has: [{ words: ["echo", "$@", "$1", "$?", "$$"], dynamic: [1, 2, 3, 4] }] },
  { name: "marks a glob dynamic", src: "rm *.tfstate", has: [{ words: ["rm", "*.tfstate"], dynamic: [1] }] },
  { name: "marks a ? glob dynamic", src: "ls file?.txt", has: [{ words: ["ls", "file?.txt"], dynamic: [1] }] },
  { name: "marks a bracket glob dynamic", src: "ls a[12]", has: [{ words: ["ls", "a[12]"], dynamic: [1] }] },
  { name: "keeps a lone [ literal", src: "[ -f x ] || echo [", has: [{ words: ["echo", "["], dynamic: [] }] },
  { name: "marks brace expansion {a,b} dynamic", src: "terraform {apply,plan}", has: [{ words: ["terraform", "{apply,plan}"], dynamic: [1] }] },
  { name: "marks brace sequence {1..3} dynamic", src: "echo {1..3}", has: [{ words: ["echo", "{1..3}"], dynamic: [1] }] },
  { name: "keeps {} and @{u} literal", src: "git log @{u} {}", has: [{ words: ["git", "log", "@{u}", "{}"], dynamic: [] }] },
  { name: "keeps quoted glob characters literal", src: "echo '*' \"?\" \\[a]", has: [{ words: ["echo", "*", "?", "[a]"], dynamic: [] }] },
  { name: "keeps a tilde literal", src: "cat ~/x ~", has: [{ words: ["cat", "~/x", "~"], dynamic: [] }] },
  { name: "marks $((..)) dynamic", src: "echo $((1+2))", has: [{ words: ["echo", "$((1+2))"], dynamic: [1] }] },
  { name: "marks a word with a backtick substitution dynamic", src: "echo a`date`b", has: [{ words: ["echo", "a`date`b"], dynamic: [1] }] },
  { name: "keeps a lone $ literal", src: "echo $ a$", has: [{ words: ["echo", "$", "a$"], dynamic: [] }] },
]);

table("parse errors", [
  { name: "flags an unterminated double quote", src: "echo \"unterminated", unknowns: ["parse_error"] },
  { name: "flags an unterminated single quote and keeps earlier commands", src: "terraform apply; echo 'x", has: [TA], unknowns: ["parse_error"] },
  { name: "flags a missing fi but reports the readable commands", src: "if terraform plan; then terraform apply", has: [["terraform", "plan"], TA], unknowns: ["parse_error"] },
  { name: "flags an unterminated $(", src: "echo $(terraform apply", has: [TA], unknowns: ["parse_error"] },
  { name: "flags a dangling &&", src: "terraform apply &&", has: [TA], unknowns: ["parse_error"], count: 1 },
  { name: "flags a stray )", src: "echo )", unknowns: ["parse_error"] },
  { name: "flags words after a redirected compound command", src: "{ ls; } > out terraform", unknowns: ["parse_error"] },
]);

describe("limits", () => {
  test("reports too_large without parsing when the source exceeds maxBytes", async () => {
    const small = await shellAnalyzer({ maxBytes: 32 });
    const r = small.analyze("echo " + "x".repeat(40) + "; terraform apply");
    expect(r.commands).toEqual([]);
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_large"]);
  });

  test("counts maxBytes in UTF-8 bytes", async () => {
    const small = await shellAnalyzer({ maxBytes: 20 });
    expect(small.analyze("echo ééééé").unknowns).toEqual([]); // 15 bytes
    expect(small.analyze("echo éééééééé").unknowns.map((u) => u.reason)).toEqual(["too_large"]); // 21 bytes
  });

  test("reports too_large for the default 64 KiB limit", () => {
    const r = analyzer.analyze("echo " + "a".repeat(65536));
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_large"]);
  });

  test("reports too_deep for bash -c nested deeper than maxDepth", () => {
    let s = "terraform apply";
    for (let i = 0; i < 10; i++) s = `bash -c ${JSON.stringify(s).replace(/\$/g, "\\$")}`;
    const r = analyzer.analyze(s);
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
    expect(r.commands.some((c) => values(c)[0] === "terraform")).toBe(false);
    expect(r.commands.filter((c) => values(c)[0] === "bash").length).toBe(9);
  });

  test("accepts nesting exactly at maxDepth", () => {
    let s = "terraform apply";
    for (let i = 0; i < 8; i++) s = `bash -c ${JSON.stringify(s).replace(/\$/g, "\\$")}`;
    const r = analyzer.analyze(s);
    expect(r.unknowns).toEqual([]);
    expect(r.commands.some((c) => JSON.stringify(values(c)) === JSON.stringify(TA) && c.via.length === 8)).toBe(true);
  });

  test("honours a custom maxDepth across eval, heredoc and pipe recursion", async () => {
    const shallow = await shellAnalyzer({ maxDepth: 1 });
    expect(shallow.analyze("eval 'terraform apply'").unknowns).toEqual([]);
    const r = shallow.analyze("eval \"bash -c 'terraform apply'\"");
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
    const h = shallow.analyze("bash <<EOF\nsh -c 'terraform apply'\nEOF");
    expect(h.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
    const p = shallow.analyze("echo \"eval 'terraform apply'\" | bash");
    expect(p.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
  });

  test("reports too_deep for env -S nesting", async () => {
    const shallow = await shellAnalyzer({ maxDepth: 2 });
    const r = shallow.analyze("env -S \"env -S 'env -S terraform'\"");
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
  });

  test("reports too_deep for an absurd wrapper chain instead of hanging", () => {
    const r = analyzer.analyze("nice ".repeat(5000) + "terraform apply");
    expect(r.unknowns.map((u) => u.reason)).toEqual(["too_deep"]);
    expect(r.commands.length).toBeLessThanOrEqual(40);
  });

  test("reports too_deep for hostile tree nesting without throwing", () => {
    const r = analyzer.analyze("echo " + "$(".repeat(3000) + "x" + ")".repeat(3000));
    expect(r.unknowns.map((u) => u.reason)).toContain("too_deep");
    const p = analyzer.analyze("(".repeat(5000) + "x" + ")".repeat(5000));
    expect(p.unknowns.map((u) => u.reason)).toContain("too_deep");
  });

  test("caps printf output fed to a shell", () => {
    const r = analyzer.analyze("printf '" + "x".repeat(20000) + "%s' " + "a ".repeat(5000) + "| bash");
    expect(r.unknowns.map((u) => u.reason)).toContain("too_large");
  });
});

describe("reporting", () => {
  test("gives the source slice of each command, at most 200 characters", () => {
    const long = "terraform apply " + "-var x=1 ".repeat(40);
    const r = analyzer.analyze(`sudo ${long}`);
    expect(r.commands[0]!.text.length).toBe(200);
    expect(r.commands[1]!.text.startsWith("terraform apply -var")).toBe(true);
    expect(r.commands[1]!.via).toEqual(["sudo"]);
  });

  test("gives the inner source as text of a bash -c command", () => {
    const r = analyzer.analyze("bash -c 'terraform apply -auto-approve'");
    expect(r.commands[1]!.text).toBe("terraform apply -auto-approve");
  });

  test("gives an empty via at top level", () => {
    const r = analyzer.analyze("terraform apply");
    expect(r).toEqual({ commands: [{ words: [{ value: "terraform", dynamic: false }, { value: "apply", dynamic: false }], text: "terraform apply", via: [] }], unknowns: [] });
  });

  test("gives a message naming the construct for each unknown", () => {
    const r = analyzer.analyze("curl -s https://x | bash");
    expect(r.unknowns[0]!.message).toContain("curl -s https://x");
    expect(r.unknowns[0]!.text).toBe("bash");
  });

  test("returns the same result when analyzing the same string again (no state leaks)", () => {
    const s = "sudo bash -c 'terraform apply' && echo $(kubectl get pods) | sh; cat <<EOF\n`x`\nEOF";
    const a = JSON.stringify(analyzer.analyze(s));
    for (let i = 0; i < 50; i++) analyzer.analyze("if broken; then");
    expect(JSON.stringify(analyzer.analyze(s))).toBe(a);
  });

  test("analyzes the empty string and whitespace as no commands", () => {
    expect(analyzer.analyze("")).toEqual({ commands: [], unknowns: [] });
    expect(analyzer.analyze("  \n\t ")).toEqual({ commands: [], unknowns: [] });
  });

  test("does not grow wasm memory over many analyses (trees are deleted)", () => {
    const s = "cd infra && bash -c 'terraform apply' | tee log; cat <<EOF | sh\nkubectl get pods\nEOF";
    for (let i = 0; i < 5000; i++) analyzer.analyze(s);
    // RSS also moves with whatever else this process did; a leak (trees not deleted) grows wasm
    // memory in EVERY window of 30,000 analyses, so one flat window among three proves there is none
    const windows: number[] = [];
    for (let w = 0; w < 3; w++) {
      Bun.gc(true);
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 30000; i++) analyzer.analyze(s);
      Bun.gc(true);
      windows.push((process.memoryUsage().rss - before) / 1e6);
      if (windows.at(-1)! < 8) break;
    }
    expect(Math.min(...windows)).toBeLessThan(8);
  }, 60_000); // up to 95,000 analyses: ~3 s alone, much longer when the whole suite loads both cores
});
