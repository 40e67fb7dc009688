import { describe, expect, test } from "bun:test";
import { jsonPathOffsets, lineOfParseError, lineOfPath } from "../../src/web/json-lines";

const doc = JSON.stringify({ id: "p", name: "P", blocked_commands: ["a", "b c"], rules: [{ command: "x", action: "maybe" }, { tool: "Edit", path: "*.tf" }], "odd.key": { "q\"uote": 1 } }, null, 2);
const lineOf = (needle: string) => doc.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("json-lines: where a gateway field path sits in the editor's text", () => {
  test.each([
    ["id", '"id"'],
    ["blocked_commands", '"blocked_commands"'],
    ["blocked_commands[1]", '"b c"'],
    ["rules[0].action", '"maybe"'],
    ["rules[1].path", '"*.tf"'],
  ])("%s is on its own line", (path, needle) => {
    expect(lineOfPath(doc, path)).toBe(lineOf(needle));
  });

  test("a missing field points at its nearest parent that is there", () => {
    expect(lineOfPath(doc, "rules[0].reason")).toBe(lineOf('"command": "x"') - 1);
    expect(lineOfPath(doc, "description")).toBe(1);
  });

  test("the document itself, keys with dots and quotes, and a compact document", () => {
    expect(jsonPathOffsets(doc).get("")).toBe(0);
    expect(jsonPathOffsets(doc).has('odd.key.q"uote')).toBe(true);
    expect(lineOfPath('{"a":[1,{"b":2}]}', "a[1].b")).toBe(1);
  });

  test("broken text: what can be found is found, nothing throws", () => {
    const broken = '{\n  "id": "p",\n  "rules": [\n    { "action": ';
    expect(lineOfPath(broken, "rules[0].action")).toBe(4);
    expect(() => jsonPathOffsets("{{{[[[")).not.toThrow();
  });

  test("a parse error's line, from either way Chromium words it", () => {
    expect(lineOfParseError("{\n\n  x", "Unexpected token 'x', ... is not valid JSON (line 3 column 3)")).toBe(3);
    expect(lineOfParseError("{\n\n  x", "Unexpected token x in JSON at position 5")).toBe(3);
    expect(lineOfParseError("{", "Unexpected end of JSON input")).toBeNull();
  });
});
