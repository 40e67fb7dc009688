import { describe, expect, test } from "bun:test";
import { lexWord, scanHeredoc, splitWords, unescapeBacktick, unquoteAnsiC } from "../../src/shell/words";

describe("splitWords accepts literal patterns", () => {
  const ok: Array<[string, string, string[]]> = [
    ["splits on spaces", "terraform apply", ["terraform", "apply"]],
    ["splits on tabs, newlines and repeated blanks", "  kubectl\tdelete \n ns  ", ["kubectl", "delete", "ns"]],
    ["keeps single-quoted text literally", "git commit -m 'fix: a; b | c $x'", ["git", "commit", "-m", "fix: a; b | c $x"]],
    ["keeps backslashes inside single quotes", "echo 'a\\nb'", ["echo", "a\\nb"]],
    ["unquotes double-quoted text", 'aws "s3 rm"', ["aws", "s3 rm"]],
    ["applies \\\" \\\\ \\$ \\` escapes in double quotes", 'echo "a\\"b\\\\c\\$d\\`e"', ["echo", 'a"b\\c$d`e']],
    ["keeps other backslashes in double quotes", 'echo "a\\nb"', ["echo", "a\\nb"]],
    ["removes a backslash outside quotes", "terraform\\ apply \\-x", ["terraform apply", "-x"]],
    ["joins adjacent quoted pieces", "\"ter\"'ra'form apply", ["terraform", "apply"]],
    ["decodes $'...' ANSI-C strings", "$'\\x74erraform' $'a\\tb' $'\\047'", ["terraform", "a\tb", "'"]],
    ["treats $\"...\" as a double-quoted string", '$"helm" uninstall', ["helm", "uninstall"]],
    ["keeps an empty quoted word", "echo '' \"\"", ["echo", "", ""]],
    ["removes line continuations", "terraform \\\n apply ter\\\nraform", ["terraform", "apply", "terraform"]],
    ["accepts quoted operators and globs", "rm '*' \"a;b\" '{a,b}' \\[x]", ["rm", "*", "a;b", "{a,b}", "[x]"]],
    ["accepts {} and other literal braces", "find . -exec rm {} @{u}", ["find", ".", "-exec", "rm", "{}", "@{u}"]],
    ["keeps a tilde literal", "cat ~/x", ["cat", "~/x"]],
    ["keeps a lone $ literal", "echo $ a$", ["echo", "$", "a$"]],
    ["keeps a # inside a word", "echo a#b", ["echo", "a#b"]],
    ["keeps non-ASCII text", "echo 'héllo 😀'", ["echo", "héllo 😀"]],
    ["keeps a flag with =", "terraform apply -var=x=1 --target=module.a", ["terraform", "apply", "-var=x=1", "--target=module.a"]],
  ];
  for (const [name, text, words] of ok) {
    test(name, () => {
      expect(splitWords(text)).toEqual({ ok: true, words });
    });
  }
});

describe("splitWords rejects what is not literal", () => {
  const bad: Array<[string, string, string]> = [
    ["rejects an empty pattern", "", "empty"],
    ["rejects a blank pattern", "   \n\t", "empty"],
    ["rejects an unterminated single quote", "echo 'abc", "unterminated single quote"],
    ["rejects an unterminated double quote", 'echo "abc', "unterminated double quote"],
    ["rejects an unterminated $'...'", "echo $'abc", "unterminated $'...'"],
    ["rejects a $VAR expansion", "terraform $CMD", "expansion"],
    ["rejects a ${VAR} expansion", "terraform ${CMD}", "expansion"],
    ["rejects a $(...) substitution", "echo $(whoami)", "expansion"],
    ["rejects an expansion inside double quotes", 'echo "$HOME"', "expansion"],
    ["rejects special parameters", "echo $1", "expansion"],
    ["rejects $((...)) arithmetic", "echo $((1+2))", "expansion"],
    ["rejects backticks", "echo `id`", "backtick"],
    ["rejects backticks inside double quotes", 'echo "`id`"', "backtick"],
    ["rejects a * glob", "rm *.tf", "glob character '*'"],
    ["rejects a ? glob", "ls a?", "glob character '?'"],
    ["rejects a [ glob", "ls a[12]", "glob character '['"],
    ["rejects brace expansion {a,b}", "terraform {apply,plan}", "brace expansion"],
    ["rejects brace sequence {1..3}", "echo {1..3}", "brace expansion"],
    ["rejects ;", "terraform apply; rm -rf /", "operator ';'"],
    ["rejects |", "terraform show | jq", "operator '|'"],
    ["rejects &", "terraform apply &", "operator '&'"],
    ["rejects < and >", "terraform apply > out", "operator '>'"],
    ["rejects ( and )", "(terraform apply)", "operator '('"],
    ["rejects a comment", "terraform apply # yes", "comment"],
    ["rejects a trailing lone backslash", "terraform apply \\", "backslash"],
  ];
  for (const [name, text, fragment] of bad) {
    test(name, () => {
      const r = splitWords(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(fragment);
    });
  }
});

describe("unquoting helpers", () => {
  test("unquoteAnsiC decodes every escape form", () => {
    expect(unquoteAnsiC("\\a\\b\\e\\E\\f\\n\\r\\t\\v\\\\\\'\\\"\\?")).toBe("\x07\b\x1b\x1b\f\n\r\t\v\\'\"?");
    expect(unquoteAnsiC("\\x41\\x4a\\x7")).toBe("AJ\x07");
    expect(unquoteAnsiC("\\101\\0\\7")).toBe("A"); // NUL ends a bash string
    expect(unquoteAnsiC("\\u00e9\\U0001F600")).toBe("é😀");
    expect(unquoteAnsiC("\\cA\\c?")).toBe("\x01\x7f");
    expect(unquoteAnsiC("\\q\\x")).toBe("\\q\\x");
  });

  test("lexWord marks expansions, globs and braces dynamic and keeps the rest unquoted", () => {
    const lex = (s: string) => {
      const r = lexWord(s, 0, s.length);
      return [r.value, r.dynamic];
    };
    expect(lex("'a'\"b\"\\c")).toEqual(["abc", false]);
    expect(lex('"pre $X post"')).toEqual(["pre $X post", true]);
    expect(lex("a$(echo ')')b")).toEqual(["a$(echo ')')b", true]);
    expect(lex("*.c")).toEqual(["*.c", true]);
    expect(lex("{a,b}")).toEqual(["{a,b}", true]);
    expect(lex("{}")).toEqual(["{}", false]);
    expect(lex("a[")).toEqual(["a[", false]);
  });

  test("scanHeredoc finds substitutions and honours escapes", () => {
    const body = "a $(one) `two` \\$(no) \\`no\\` ${x:-$(three)} \"q\" \\\" $y\n";
    const r = scanHeredoc(body);
    expect(r.dynamic).toBe(true);
    const inner = r.subs.map((s) => `${s.kind}:${body.slice(s.innerStart, s.innerEnd)}`);
    expect(inner).toEqual(["cmd:one", "backtick:two", "param:x:-$(three)"]);
    expect(r.text).toBe("a $(one) `two` $(no) `no` ${x:-$(three)} \"q\" \\\" $y\n");
    expect(scanHeredoc("plain text 'quoted' \"too\"\n")).toEqual({ text: "plain text 'quoted' \"too\"\n", dynamic: false, subs: [] });
  });

  test("unescapeBacktick removes only backtick-level escapes", () => {
    expect(unescapeBacktick("echo \\`x\\` \\$y \\\\ \\n", false)).toBe("echo `x` $y \\ \\n");
    expect(unescapeBacktick('echo \\"a\\"', true)).toBe('echo "a"');
    expect(unescapeBacktick('echo \\"a\\"', false)).toBe('echo \\"a\\"');
  });
});
