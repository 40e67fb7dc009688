/**
 * Minimal, reversible edits of a user's JSON settings file.
 *
 * `airlock install --agent` must leave every byte of the user's file alone except the entries it
 * adds, and `uninstall` must take exactly those out again. So an entry is added as one inserted
 * run of text (a "snippet") and never by re-serializing the file: the user's key order,
 * indentation and spacing stay as they are. Uninstall removes the recorded snippets, newest
 * first, when each is still in the file exactly once; otherwise it falls back to a structural
 * removal (parse, take our entries out, re-serialize), which is correct but reformats.
 *
 * Only strict JSON is accepted (no comments, no trailing commas): a file `JSON.parse` refuses is
 * reported with the position, and nothing is changed.
 */
import { AirlockError } from "../protocol/errors";

type Node =
  | { kind: "object"; start: number; end: number; members: { key: string; value: Node }[] }
  | { kind: "array"; start: number; end: number; items: Node[] }
  | { kind: "scalar"; start: number; end: number };

/** One entry added to an array at `path` (object keys from the root). */
export interface Insertion {
  path: string[];
  entry: unknown;
  /** the exact text inserted */
  snippet: string;
  /** index in `path` from which containers were created by this insertion; null: the array was there */
  created_from: number | null;
}

export type JsonObject = Record<string, unknown>;

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return `line ${line}, column ${offset - before.lastIndexOf("\n")}`;
}

/** Where strict JSON first goes wrong in `text` (JSON.parse names no position in Bun). */
export function jsonErrorAt(text: string): { offset: number; message: string } | null {
  let i = 0;
  const fail = (message: string): never => {
    throw { offset: i, message };
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const describe = () => (i >= text.length ? "the end of the file" : `${JSON.stringify(text[i])}${text[i] === "/" ? " (comments are not JSON)" : ""}`);
  const string = () => {
    if (text[i] !== '"') fail(`expected a string, found ${describe()}`);
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail("a control character inside a string");
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail("a bad \\u escape");
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) fail("a bad escape");
      }
      i++;
    }
    if (i >= text.length) fail("an unterminated string");
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ":") fail(`expected ':', found ${describe()}`);
        i++;
        value();
        ws();
        if (text[i] === "}") return void i++;
        if (text[i] !== ",") fail(`expected ',' or '}', found ${describe()}`);
        i++;
        ws();
        if (text[i] === "}") fail("a trailing comma");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === "]") return void i++;
        if (text[i] !== ",") fail(`expected ',' or ']', found ${describe()}`);
        i++;
        ws();
        if (text[i] === "]") fail("a trailing comma");
      }
    }
    if (c === '"') return string();
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail(`unexpected ${describe()}`);
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the JSON value`);
    return null;
  } catch (error) {
    if (typeof error === "object" && error !== null && "offset" in error) return error as { offset: number; message: string };
    throw error;
  }
}

/** Parses strict JSON; an error names the file, the line and column, and what is wrong. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = jsonErrorAt(text);
    const why = at ? `${lineCol(text, at.offset)}: ${at.message}` : (error as Error).message;
    throw new AirlockError("invalid_input", `${file} is not valid JSON (${why}). Nothing was changed: fix the file or move it aside, then run the command again`);
  }
}

/** Positions of every value in text that is known to be valid JSON. */
function tree(text: string): Node {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): Node => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const members: { key: string; value: Node }[] = [];
      ws();
      if (text[i] === "}") {
        i++;
        return { kind: "object", start, end: i, members };
      }
      for (;;) {
        ws();
        const key = string();
        ws();
        i++; // :
        members.push({ key, value: value() });
        ws();
        if (text[i++] === "}") return { kind: "object", start, end: i, members };
      }
    }
    if (c === "[") {
      i++;
      const items: Node[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { kind: "array", start, end: i, items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i++] === "]") return { kind: "array", start, end: i, items };
      }
    }
    if (c === '"') {
      string();
      return { kind: "scalar", start, end: i };
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    return { kind: "scalar", start, end: i };
  };
  return value();
}

function member(node: Node & { kind: "object" }, key: string): Node | undefined {
  // JSON.parse keeps the last of duplicate keys: so do we
  for (let k = node.members.length - 1; k >= 0; k--) if (node.members[k]!.key === key) return node.members[k]!.value;
  return undefined;
}

function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** The file's indentation unit: the leading whitespace of its first indented line, else two spaces. */
export function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m ? m[1]! : "  ";
}

function children(node: Node): Node[] {
  return node.kind === "object" ? node.members.map((m) => m.value) : node.kind === "array" ? node.items : [];
}

/** Text for `item` (an array item, or `"key": value` for an object member) inserted into `container`. */
function insertInto(text: string, container: Node & { kind: "object" | "array" }, item: (indent: string, unit: string, compact: boolean) => string): { offset: number; snippet: string } {
  const unit = indentUnit(text);
  const kids = children(container);
  const open = container.start + 1;
  const close = container.end - 1;
  const multiLine = text.slice(container.start, container.end).includes("\n");
  if (kids.length === 0) {
    const base = lineIndent(text, multiLine ? close : container.start);
    const inner = text.slice(open, close);
    if (inner.includes("\n")) return { offset: open, snippet: `\n${base}${unit}${item(base + unit, unit, false)}` };
    return { offset: open, snippet: `\n${base}${unit}${item(base + unit, unit, false)}\n${base}` };
  }
  const last = container.kind === "object" ? container.members[container.members.length - 1]!.value : kids[kids.length - 1]!;
  const first = container.kind === "object" ? null : kids[0]!;
  // a child on its own line sets the indentation; otherwise the container is written compactly
  const firstChildStart = container.kind === "object" ? text.indexOf('"', open) : first!.start;
  const compact = !text.slice(open, firstChildStart).includes("\n");
  if (compact) {
    const gap = /^\s/.test(text.slice(open, firstChildStart)) ? " " : "";
    return { offset: last.end, snippet: `,${gap}${item("", unit, true)}` };
  }
  const indent = lineIndent(text, firstChildStart);
  return { offset: last.end, snippet: `,\n${indent}${item(indent, unit, false)}` };
}

function render(value: unknown, indent: string, unit: string, compact: boolean): string {
  if (compact) return JSON.stringify(value);
  return JSON.stringify(value, null, unit).replaceAll("\n", `\n${indent}`);
}

/**
 * Adds `entry` at the end of the array at `path` (creating the objects and the array when they are
 * missing) with one inserted snippet. Throws, changing nothing, when something on the path is not
 * what the agent's format says it is.
 */
export function insertEntry(text: string, path: string[], entry: unknown, file: string): { text: string; insertion: Insertion } {
  let node = tree(text);
  const where = (k: number) => path.slice(0, k).join(".") || "the top level";
  if (node.kind !== "object") throw new AirlockError("invalid_input", `${file}: the top level is not a JSON object. Nothing was changed`);
  for (let k = 0; k < path.length; k++) {
    const last = k === path.length - 1;
    const next = member(node as Node & { kind: "object" }, path[k]!);
    if (next === undefined) {
      // build what is missing from here down: { path[k+1]: { ... [entry] } }
      let value: unknown = [entry];
      for (let j = path.length - 1; j > k; j--) value = { [path[j]!]: value };
      const { offset, snippet } = insertInto(text, node as Node & { kind: "object" }, (indent, unit, compact) => `${JSON.stringify(path[k])}:${compact ? "" : " "}${render(value, indent, unit, compact)}`);
      return { text: text.slice(0, offset) + snippet + text.slice(offset), insertion: { path, entry, snippet, created_from: k } };
    }
    if (last) {
      if (next.kind !== "array") throw new AirlockError("invalid_input", `${file}: ${path.join(".")} is not a JSON array. Nothing was changed`);
      const { offset, snippet } = insertInto(text, next, (indent, unit, compact) => render(entry, indent, unit, compact));
      return { text: text.slice(0, offset) + snippet + text.slice(offset), insertion: { path, entry, snippet, created_from: null } };
    }
    if (next.kind !== "object") throw new AirlockError("invalid_input", `${file}: ${where(k + 1)} is not a JSON object. Nothing was changed`);
    node = next;
  }
  throw new Error("unreachable: empty path");
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual((a as JsonObject)[k], (b as JsonObject)[k]));
}

/** The array at `path`, or null. */
export function arrayAt(value: unknown, path: string[]): unknown[] | null {
  let node: unknown = value;
  for (const key of path) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return null;
    node = (node as JsonObject)[key];
  }
  return Array.isArray(node) ? node : null;
}

/** Whether `entry` is in the array at `path`. */
export function hasEntry(value: unknown, path: string[], entry: unknown): boolean {
  return arrayAt(value, path)?.some((x) => deepEqual(x, entry)) ?? false;
}

/** `value` without the insertions' entries, and without the containers they created once empty. */
export function removeStructurally(value: unknown, insertions: readonly Insertion[]): unknown {
  const copy = structuredClone(value);
  for (const ins of [...insertions].reverse()) {
    const chain: JsonObject[] = [];
    let node: unknown = copy;
    for (const key of ins.path.slice(0, -1)) {
      if (typeof node !== "object" || node === null || Array.isArray(node)) break;
      chain.push(node as JsonObject);
      node = (node as JsonObject)[key];
    }
    if (typeof node !== "object" || node === null || Array.isArray(node) || chain.length !== ins.path.length - 1) continue;
    chain.push(node as JsonObject);
    const arr = (node as JsonObject)[ins.path[ins.path.length - 1]!];
    if (!Array.isArray(arr)) continue;
    const at = arr.findIndex((x) => deepEqual(x, ins.entry));
    if (at === -1) continue;
    arr.splice(at, 1);
    if (ins.created_from === null) continue;
    // drop what this insertion created, deepest first, while it is empty
    for (let k = ins.path.length - 1; k >= ins.created_from; k--) {
      const parent = chain[k]!;
      const child = parent[ins.path[k]!];
      const empty = Array.isArray(child) ? child.length === 0 : typeof child === "object" && child !== null && Object.keys(child).length === 0;
      if (!empty) break;
      delete parent[ins.path[k]!];
    }
  }
  return copy;
}

/**
 * Takes the insertions out of `text`. `exact` is true when every snippet was found once and cut,
 * so the rest of the file is byte-for-byte what it was; false when the file had changed around
 * our entries and it was re-serialized instead.
 */
export function removeInsertions(text: string, insertions: readonly Insertion[], file: string): { text: string; exact: boolean } {
  const current = parseJson(text, file);
  const expected = removeStructurally(current, insertions);
  let cut = text;
  let exact = true;
  for (const ins of [...insertions].reverse()) {
    const at = cut.indexOf(ins.snippet);
    if (at === -1 || cut.indexOf(ins.snippet, at + 1) !== -1) {
      exact = false;
      break;
    }
    cut = cut.slice(0, at) + cut.slice(at + ins.snippet.length);
  }
  if (exact) {
    try {
      if (deepEqual(JSON.parse(cut), expected)) return { text: cut, exact: true };
    } catch {
      // not JSON any more: fall through to the structural removal
    }
  }
  const trailing = /\n$/.test(text) ? "\n" : "";
  return { text: `${JSON.stringify(expected, null, indentUnit(text))}${trailing}`, exact: false };
}
