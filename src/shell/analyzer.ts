/**
 * Shell string → every simple command it would run (see DESIGN.md §5).
 *
 * tree-sitter-bash gives the structure; words are unquoted here (words.ts) from their exact source
 * ranges. Strings that become shell code later (`bash -c`, `eval`, heredocs and pipes into a shell,
 * `watch`, `env -S`, `su -c`, ...) are parsed again, recursively, up to `maxDepth`.
 *
 * Known tree-sitter-bash quirks handled here:
 * - `cmd 2>/dev/null arg`: the grammar makes `arg` a second redirect destination → it is a word.
 * - `ter\<newline>raform`: split into two nodes → pieces joined by line continuations are one word.
 * - `$"x"`: split into `$` + string → adjacent pieces are one word.
 * - `time { ..; }`, `time if ..`, `! { ..; }`, `coproc NAME { ..; }`: the compound command is read
 *   as words → the keyword is blanked (offsets unchanged) and the string parsed again.
 * - backticks in heredoc bodies, inside `${..}` and after `=~`, and nested escaped backticks, are
 *   left as text → scanned here and their insides parsed.
 * - a heredoc body whose first line starts with `\` is partly read as arguments → bodies are taken
 *   from the source between the `<<EOF` line and the delimiter line.
 * - `cat <<EOF | bash`: the pipeline sits inside the heredoc redirect → handled as a pipeline.
 *
 * Pure: no I/O; the wasm bytes are passed in.
 */

import { Language, Parser, type Node } from "web-tree-sitter";
import type { ShellAnalysis, ShellAnalyzer, ShellCommand, ShellLimits, ShellUnknown, ShellWord } from "./types";
import {
  lexWord,
  scanHeredoc,
  scanWordSubstitutions,
  shellQuote,
  unescapeBacktick,
  type Substitution,
} from "./words";
import {
  FLOCK_SPEC,
  SHELLS,
  SIMPLE_WRAPPERS,
  SU_LONG_VALUE,
  SU_VALUE,
  WATCH_SPEC,
  XARGS_SPEC,
  parseOptions,
  shellMode,
} from "./_wrappers";
import { echoOutput, printfOutput } from "./_text";

export const DEFAULT_SHELL_LIMITS: ShellLimits = { maxBytes: 65536, maxDepth: 8 };

const MAX_TEXT = 200;
/** Tree nesting walked before giving up (protects the JS stack). */
const MAX_TREE_NESTING = 256;
/** Wrapper hops in one command (`nice nice nice ...`). */
const MAX_WRAPPERS = 32;

/** A word with what the analyzer needs beyond the public ShellWord. */
interface Word {
  /** The public word (shared by every command that contains it). */
  sw: ShellWord;
  /** Unquoted value; for a dynamic word the expansions' source text is kept verbatim. */
  text: string;
  raw: string;
  dynamic: boolean;
  start: number;
  end: number;
}

/** What a command reads on stdin (only tracked to find scripts fed to a shell). */
interface Stdin {
  label: "heredoc" | "herestring" | "pipe" | "file";
  /** The text, or null when it cannot be known (a file, a download, another command's output). */
  text: string | null;
  /** The text contains expansions (kept verbatim). */
  dynamic: boolean;
  /** Source text of what produces it, for messages. */
  src: string;
}

/** One parse of one string. */
interface Run {
  src: string;
  /** Ranges to blank and re-parse (`time` keyword before a compound command); null: no fixing. */
  blanks: Array<[number, number]> | null;
  /** Heredoc bodies: tree-sitter errors inside them are not shell syntax errors (bodies are read here). */
  bodies: Array<[number, number]>;
}

interface Ctx {
  run: Run;
  via: string[];
  depth: number;
  pipeIn: Stdin | null;
}

/** How an inner command was started (find -exec / xargs). */
interface InnerOpts {
  /** Replacement token (`{}` for find, `-I` string for xargs): a name containing it is dynamic. */
  ph: string | null;
  /** xargs appends input lines as extra arguments. */
  appended: boolean;
}

const NO_OPTS: InnerOpts = { ph: null, appended: false };

const REDIRECT_TYPES = new Set(["file_redirect", "heredoc_redirect", "herestring_redirect"]);
/** Words that start a compound command (after `time`, `coproc`, `!`). */
const COMPOUND_START = new Set(["{", "!", "[[", "((", "if", "while", "until", "for", "case", "select", "function"]);
/** Re-parses after blanking keywords tree-sitter-bash misreads (see run()). */
const MAX_FIXES = 4;
const FIND_EXEC = new Set(["-exec", "-execdir", "-ok", "-okdir"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

function clip(s: string): string {
  return s.length <= MAX_TEXT ? s : s.slice(0, MAX_TEXT - 1) + "…";
}

function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

/** UTF-8 length, stopping early once above `limit`. */
function utf8Exceeds(s: string, limit: number): boolean {
  if (s.length > limit) return true;
  if (s.length * 3 <= limit) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
    if (n > limit) return true;
  }
  return false;
}

/** The gap between two nodes holds only line continuations (`\` newline): still one word. */
function joinedByContinuation(src: string, from: number, to: number): boolean {
  if (to - from < 2 || (to - from) % 2 !== 0) return false;
  for (let i = from; i < to; i += 2) {
    if (src.charCodeAt(i) !== 92 || src.charCodeAt(i + 1) !== 10) return false;
  }
  return true;
}

class Analyzer implements ShellAnalyzer {
  private out: ShellAnalysis = { commands: [], unknowns: [] };
  private seenUnknowns = new Set<string>();

  constructor(
    private readonly parser: Parser,
    private readonly limits: ShellLimits,
  ) {}

  analyze(source: string): ShellAnalysis {
    const out: ShellAnalysis = { commands: [], unknowns: [] };
    this.out = out;
    this.seenUnknowns.clear();
    try {
      if (utf8Exceeds(source, this.limits.maxBytes)) {
        this.unknown("too_large", `the shell string is longer than ${this.limits.maxBytes} bytes; it was not analyzed`, source);
        return out;
      }
      try {
        this.run(source, [], 0, null);
      } catch (e) {
        // never let a bug turn into "no commands found": report it as something not understood
        this.unknown("parse_error", `internal error while analyzing the shell string: ${e instanceof Error ? e.message : String(e)}`, source);
      }
    } finally {
      this.out = { commands: [], unknowns: [] };
      this.seenUnknowns.clear();
    }
    return out;
  }

  private unknown(reason: ShellUnknown["reason"], message: string, text: string): void {
    const u: ShellUnknown = { reason, message, text: clip(text) };
    const key = `${reason}\0${message}\0${u.text}`;
    if (this.seenUnknowns.has(key)) return;
    this.seenUnknowns.add(key);
    this.out.unknowns.push(u);
  }

  // ---------------------------------------------------------------- parsing

  /** Parse `text` and walk it. `depth` counts the re-parses (bash -c, eval, heredoc, ...). */
  private run(text: string, via: string[], depth: number, pipeIn: Stdin | null): void {
    if (depth > this.limits.maxDepth) {
      this.unknown(
        "too_deep",
        `shell code nested deeper than ${this.limits.maxDepth} levels (${via.join(" → ")}); the innermost part was not analyzed`,
        text,
      );
      return;
    }
    if (utf8Exceeds(text, this.limits.maxBytes)) {
      this.unknown("too_large", `generated shell code (${via.join(" → ")}) is longer than ${this.limits.maxBytes} bytes`, text);
      return;
    }
    const commands = this.out.commands.length;
    const unknowns = this.out.unknowns.length;
    let current = text;
    for (let attempt = 0; ; attempt++) {
      const blanks = this.parseAndWalk(current, via, depth, pipeIn, attempt < MAX_FIXES);
      if (!blanks || blanks.length === 0) return;
      // A keyword tree-sitter-bash does not know (`time`, `coproc`, `!` before `{ ..; }` or
      // `if ..`) made it read a compound command as words: blank the keyword out (offsets stay
      // the same; it only affects timing/exit status) and parse again.
      this.out.commands.length = commands;
      this.out.unknowns.length = unknowns;
      this.seenUnknowns = new Set(this.out.unknowns.map((u) => `${u.reason}\0${u.message}\0${u.text}`));
      for (const [s, e] of blanks) current = current.slice(0, s) + " ".repeat(e - s) + current.slice(e);
    }
  }

  private parseAndWalk(text: string, via: string[], depth: number, pipeIn: Stdin | null, fix: boolean): Array<[number, number]> | null {
    const tree = this.parser.parse(text);
    if (!tree) {
      this.unknown("parse_error", "the shell parser gave up on this string", text);
      return null;
    }
    const run: Run = { src: text, blanks: fix ? [] : null, bodies: [] };
    try {
      const root = tree.rootNode;
      const unknowns = this.out.unknowns.length;
      this.walk(root, { run, via, depth, pipeIn }, 0);
      if (root.hasError) {
        const bad = this.firstError(root, 0, run.bodies);
        // reported before what was found inside, like a reader would see it
        if (bad) this.parseError(bad, text, via, unknowns);
      }
    } finally {
      tree.delete();
    }
    return run.blanks;
  }

  private parseError(bad: Node, text: string, via: string[], at: number): void {
    let what: string;
    if (bad.isMissing) what = `a missing ${JSON.stringify(bad.type)}`;
    else {
      const snippet = text.slice(bad.startIndex, Math.min(bad.endIndex, bad.startIndex + 40));
      what = snippet.trim() ? `a syntax error near ${JSON.stringify(snippet)}` : "a syntax error (unexpected end of input)";
    }
    const where = via.length ? ` (inside ${via.join(" → ")})` : "";
    const before = this.out.unknowns.length;
    this.unknown("parse_error", `the shell string has ${what}${where}; only the commands that could be read are reported`, text);
    if (this.out.unknowns.length > before && at < before) {
      const u = this.out.unknowns.pop()!;
      this.out.unknowns.splice(at, 0, u);
    }
  }

  /** The first ERROR or MISSING node outside heredoc bodies. */
  private firstError(node: Node, nest: number, bodies: Array<[number, number]>): Node | null {
    if (node.isError || node.isMissing) {
      const s = node.startIndex;
      for (const [bs, be] of bodies) if (s >= bs && s < be) return null;
      return node;
    }
    if (nest > MAX_TREE_NESTING) return null;
    const n = node.childCount;
    for (let i = 0; i < n; i++) {
      const c = node.child(i)!;
      if (c.hasError || c.isMissing) {
        const r = this.firstError(c, nest + 1, bodies);
        if (r) return r;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- tree walk

  private walk(node: Node, ctx: Ctx, nest: number): void {
    const n = node.childCount;
    if (n === 0) {
      this.leaf(node, ctx);
      return;
    }
    if (nest > MAX_TREE_NESTING) {
      this.unknown("too_deep", "the shell string nests too deeply to analyze", ctx.run.src.slice(node.startIndex, node.endIndex));
      return;
    }
    switch (node.type) {
      case "command":
        this.command(node, null, ctx, nest, false);
        return;
      case "redirected_statement":
        this.redirected(node, ctx, nest, false);
        return;
      case "pipeline":
        this.pipeline(node, ctx, nest);
        return;
      case "command_substitution":
        this.substitution(node, ctx, nest);
        return;
      case "process_substitution": {
        const via = [...ctx.via, ctx.run.src.startsWith("<(", node.startIndex) ? "<(...)" : ">(...)"];
        const c2: Ctx = { run: ctx.run, via, depth: ctx.depth, pipeIn: null };
        for (let i = 0; i < n; i++) this.walk(node.child(i)!, c2, nest + 1);
        return;
      }
      case "declaration_command":
      case "unset_command":
        this.declaration(node, ctx, nest);
        return;
      case "heredoc_redirect":
      case "file_redirect":
      case "herestring_redirect": {
        const pieces: Node[] = [];
        this.redirect(node, pieces, ctx, nest, null);
        return;
      }
      case "list":
        this.list(node, ctx, nest);
        return;
      case "comment":
      case "heredoc_body":
        return;
    }
    for (let i = 0; i < n; i++) this.walk(node.child(i)!, ctx, nest + 1);
  }

  /** `a && b || c ...` is left-recursive in the tree: walk its spine without nesting deeper. */
  private list(node: Node, ctx: Ctx, nest: number): void {
    const spine: Node[] = [];
    let cur: Node | null = node;
    while (cur && cur.type === "list") {
      spine.push(cur);
      cur = cur.childCount > 0 ? cur.child(0) : null;
    }
    for (let k = spine.length - 1; k >= 0; k--) {
      const l = spine[k]!;
      const n = l.childCount;
      for (let i = k === spine.length - 1 ? 0 : 1; i < n; i++) this.walk(l.child(i)!, ctx, nest + 1);
    }
  }

  /**
   * A leaf whose text still holds `$(` or a backtick is a substitution tree-sitter-bash did not
   * parse (backticks inside `${..}`, after `=~`, ...): scan it and parse the insides.
   */
  private leaf(node: Node, ctx: Ctx): void {
    const src = ctx.run.src;
    const s = node.startIndex;
    const e = node.endIndex;
    if (e - s < 2) return;
    let k = src.indexOf("`", s);
    if (k < 0 || k >= e) {
      k = src.indexOf("$(", s);
      if (k < 0 || k + 1 >= e) return;
    }
    switch (node.type) {
      case "raw_string":
      case "ansi_c_string":
      case "comment":
      case "heredoc_body":
      case "heredoc_content":
      case "heredoc_start":
      case "heredoc_end":
        return;
    }
    const text = src.slice(s, e);
    const subs = node.type === "string_content" ? scanHeredoc(text).subs : scanWordSubstitutions(text);
    if (subs.length > 0) this.textSubs(text, subs, ctx, node.type === "string_content");
  }

  /** Walk a node only for the substitutions it contains (they do not read the pipe). */
  private walkSubs(node: Node, ctx: Ctx, nest: number): void {
    if (node.childCount === 0) {
      this.leaf(node, ctx);
      return;
    }
    this.walk(node, ctx.pipeIn ? { ...ctx, pipeIn: null } : ctx, nest);
  }

  private pipeline(node: Node, ctx: Ctx, nest: number): void {
    const stages: Node[] = [];
    const n = node.childCount;
    for (let i = 0; i < n; i++) {
      const c = node.child(i)!;
      if (c.isNamed && c.type !== "comment") stages.push(c);
    }
    let input = ctx.pipeIn;
    for (let k = 0; k < stages.length; k++) {
      const c2 = input === ctx.pipeIn ? ctx : { ...ctx, pipeIn: input };
      input = this.stage(stages[k]!, c2, nest + 1, k < stages.length - 1);
    }
  }

  /** Walk one pipeline stage; when `wantOutput`, describe what it writes to the pipe. */
  private stage(node: Node, ctx: Ctx, nest: number, wantOutput: boolean): Stdin | null {
    switch (node.type) {
      case "command":
        return this.command(node, null, ctx, nest, wantOutput);
      case "redirected_statement":
        return this.redirected(node, ctx, nest, wantOutput);
      case "pipeline":
        this.pipeline(node, ctx, nest);
        return wantOutput ? this.opaque(ctx, node.startIndex, node.endIndex) : null;
      default:
        this.walk(node, ctx, nest);
        return wantOutput ? this.opaque(ctx, node.startIndex, node.endIndex) : null;
    }
  }

  private opaque(ctx: Ctx, start: number, end: number): Stdin {
    return { label: "pipe", text: null, dynamic: true, src: ctx.run.src.slice(start, end) };
  }

  private substitution(node: Node, ctx: Ctx, nest: number): void {
    const src = ctx.run.src;
    const s = node.startIndex;
    const e = node.endIndex;
    const backtick = src.charCodeAt(s) === 96;
    if (backtick) {
      const inner = src.slice(s + 1, e - 1 > s && src.charCodeAt(e - 1) === 96 ? e - 1 : e);
      if (inner.indexOf("\\") >= 0) {
        // escaped nested backticks etc.: tree-sitter does not unescape, so parse the real text
        const inDq = node.parent?.type === "string";
        this.run(unescapeBacktick(inner, inDq), [...ctx.via, "`...`"], ctx.depth + 1, null);
        return;
      }
    }
    const c2: Ctx = { run: ctx.run, via: [...ctx.via, backtick ? "`...`" : "$(...)"], depth: ctx.depth, pipeIn: null };
    const n = node.childCount;
    for (let i = 0; i < n; i++) this.walk(node.child(i)!, c2, nest + 1);
  }

  /** Substitutions found by scanning text (heredoc bodies, leaves): each inside is parsed as shell code. */
  private textSubs(text: string, subs: Substitution[], ctx: Ctx, inDq: boolean): void {
    for (const s of subs) {
      const inner = text.slice(s.innerStart, s.innerEnd);
      switch (s.kind) {
        case "cmd":
          this.run(inner, [...ctx.via, "$(...)"], ctx.depth + 1, null);
          break;
        case "backtick":
          this.run(unescapeBacktick(inner, inDq), [...ctx.via, "`...`"], ctx.depth + 1, null);
          break;
        default: {
          // ${..} and $((..)) may hold substitutions of their own
          const nested = scanWordSubstitutions(inner);
          if (nested.length === 0) break;
          if (ctx.depth + 1 > this.limits.maxDepth) {
            this.unknown("too_deep", `expansions nested deeper than ${this.limits.maxDepth} levels`, inner);
            break;
          }
          this.textSubs(inner, nested, { ...ctx, depth: ctx.depth + 1 }, false);
        }
      }
    }
  }

  // ---------------------------------------------------------------- words

  private makeWord(src: string, start: number, end: number): Word {
    const raw = src.slice(start, end);
    const r = lexWord(src, start, end);
    return {
      sw: { value: r.dynamic ? raw : r.value, dynamic: r.dynamic },
      text: r.value,
      raw,
      dynamic: r.dynamic,
      start,
      end,
    };
  }

  /** Group word pieces (in source order) into words: adjacent pieces form one word. */
  private words(src: string, pieces: Node[]): Word[] {
    const words: Word[] = [];
    let gs = -1;
    let ge = -1;
    for (const p of pieces) {
      const s = p.startIndex;
      const e = p.endIndex;
      if (s === e) continue; // a MISSING node (parse error already reported)
      if (gs >= 0 && (s === ge || joinedByContinuation(src, ge, s))) {
        ge = e;
        continue;
      }
      if (gs >= 0) words.push(this.makeWord(src, gs, ge));
      gs = s;
      ge = e;
    }
    if (gs >= 0) words.push(this.makeWord(src, gs, ge));
    return words;
  }

  // ---------------------------------------------------------------- statements

  /**
   * A simple command. `extra` are the redirects that tree-sitter hung on an enclosing
   * redirected_statement. Returns what the command writes to a pipe when `wantOutput`.
   */
  private command(node: Node, extra: Node[] | null, ctx: Ctx, nest: number, wantOutput: boolean): Stdin | null {
    const pieces: Node[] = [];
    let stdin: Stdin | null = null;
    let ownStdin = false;
    const n = node.childCount;
    for (let i = 0; i < n; i++) {
      const c = node.child(i)!;
      const t = c.type;
      switch (t) {
        case "variable_assignment":
        case "ERROR":
        case "subshell":
        case "compound_statement":
          this.walkSubs(c, ctx, nest + 1);
          break;
        case "file_redirect":
        case "herestring_redirect":
        case "heredoc_redirect": {
          const r = this.redirect(c, pieces, ctx, nest + 1, stdin);
          if (r !== stdin) {
            stdin = r;
            ownStdin = true;
          }
          break;
        }
        case "comment":
          break;
        default:
          pieces.push(c);
          this.walkSubs(c, ctx, nest + 1);
      }
    }
    if (extra) {
      for (const r of extra) {
        const s = this.redirect(r, pieces, ctx, nest + 1, stdin);
        if (s !== stdin) {
          stdin = s;
          ownStdin = true;
        }
      }
    }
    const src = ctx.run.src;
    const words = this.words(src, pieces);
    if (words.length === 0) return wantOutput ? this.opaque(ctx, node.startIndex, node.endIndex) : null;
    const input = ownStdin ? stdin : ctx.pipeIn;
    const output = wantOutput ? this.output(words, input, ctx) : null;
    this.simple(words, 0, words[words.length - 1]!.end, ctx.via, ctx, input, nest, 0, NO_OPTS);
    return output;
  }

  private redirected(node: Node, ctx: Ctx, nest: number, wantOutput: boolean): Stdin | null {
    let body: Node | null = null;
    const redirects: Node[] = [];
    let continuation = false;
    const n = node.childCount;
    for (let i = 0; i < n; i++) {
      const c = node.child(i)!;
      const t = c.type;
      if (REDIRECT_TYPES.has(t)) {
        redirects.push(c);
        if (t === "heredoc_redirect") continuation = true;
      } else if (t !== "comment" && c.isNamed && !body) body = c;
    }
    let out: Stdin | null = null;
    const needOutput = wantOutput || continuation;
    if (body && body.type === "command") {
      out = this.command(body, redirects, ctx, nest + 1, needOutput);
    } else {
      const pieces: Node[] = [];
      let stdin = ctx.pipeIn;
      for (const r of redirects) stdin = this.redirect(r, pieces, ctx, nest + 1, stdin);
      if (body) this.walk(body, stdin === ctx.pipeIn ? ctx : { ...ctx, pipeIn: stdin }, nest + 1);
      if (pieces.length > 0) {
        const words = this.words(ctx.run.src, pieces);
        if (body) {
          this.unknown("parse_error", "words after a redirection of a compound command are a bash syntax error", ctx.run.src.slice(node.startIndex, node.endIndex));
        } else {
          this.simple(words, 0, words[words.length - 1]!.end, ctx.via, ctx, stdin, nest, 0, NO_OPTS);
        }
      }
      if (needOutput) out = this.opaque(ctx, node.startIndex, node.endIndex);
    }
    if (continuation) {
      // `cmd <<EOF | next` and `cmd <<EOF && next`: tree-sitter nests the rest inside the redirect
      for (const r of redirects) {
        if (r.type !== "heredoc_redirect") continue;
        const m = r.childCount;
        let lineEnd = -1;
        for (let i = 0; i < m; i++) {
          const c = r.child(i)!;
          if (c.type === "heredoc_start") {
            lineEnd = ctx.run.src.indexOf("\n", c.endIndex);
            continue;
          }
          if (c.type === "pipeline") {
            if (lineEnd >= 0 && c.endIndex > lineEnd) {
              // `cat <<EOF |` with the next stage after the body: tree-sitter-bash reads the body
              // as the next stage. Report what it read (safe side) and say it is not understood.
              this.unknown("parse_error", "a pipe after a heredoc that continues after the heredoc body is not supported", ctx.run.src.slice(node.startIndex, node.endIndex));
            }
            const c2: Ctx = { ...ctx, pipeIn: out };
            const k = c.childCount;
            for (let j = 0; j < k; j++) {
              const s = c.child(j)!;
              if (s.isNamed && s.type !== "comment") this.stage(s, c2, nest + 2, false);
            }
          } else if (r.fieldNameForChild(i) === "right") {
            this.walk(c, ctx, nest + 1);
          }
        }
      }
    }
    return wantOutput ? out : null;
  }

  /**
   * Handle one redirect: walk its substitutions, add stray words (extra destinations, heredoc
   * arguments) to `pieces`, and return the stdin in effect after it.
   */
  private redirect(r: Node, pieces: Node[], ctx: Ctx, nest: number, stdin: Stdin | null): Stdin | null {
    const src = ctx.run.src;
    switch (r.type) {
      case "file_redirect": {
        let op = "";
        let fd = "";
        let targetEnd = -1;
        let closing = false;
        const n = r.childCount;
        for (let i = 0; i < n; i++) {
          const c = r.child(i)!;
          const t = c.type;
          if (t === "file_descriptor") {
            fd = src.slice(c.startIndex, c.endIndex);
            continue;
          }
          if (!c.isNamed && !op) {
            op = t;
            closing = t === "<&-" || t === ">&-";
            continue;
          }
          this.walkSubs(c, ctx, nest + 1);
          if (!closing && (targetEnd < 0 || c.startIndex === targetEnd || joinedByContinuation(src, targetEnd, c.startIndex))) {
            targetEnd = c.endIndex; // the target (possibly in adjacent pieces)
          } else {
            pieces.push(c); // tree-sitter's extra "destinations" are the command's arguments
          }
        }
        if ((op === "<" || op === "<&" || op === "<>") && (fd === "" || fd === "0")) {
          return { label: "file", text: null, dynamic: true, src: src.slice(r.startIndex, r.endIndex) };
        }
        return stdin;
      }
      case "herestring_redirect": {
        let fd = "";
        let vs = -1;
        let ve = -1;
        const n = r.childCount;
        for (let i = 0; i < n; i++) {
          const c = r.child(i)!;
          if (c.type === "file_descriptor") fd = src.slice(c.startIndex, c.endIndex);
          else if (c.isNamed) {
            this.walkSubs(c, ctx, nest + 1);
            if (vs < 0) vs = c.startIndex;
            ve = c.endIndex;
          }
        }
        if (vs < 0 || (fd !== "" && fd !== "0")) return stdin;
        const w = this.makeWord(src, vs, ve);
        return { label: "herestring", text: w.text + "\n", dynamic: w.dynamic, src: w.raw };
      }
      case "heredoc_redirect":
        return this.heredoc(r, pieces, ctx, nest, stdin);
    }
    return stdin;
  }

  private heredoc(r: Node, pieces: Node[], ctx: Ctx, nest: number, stdin: Stdin | null): Stdin | null {
    const src = ctx.run.src;
    let fd = "";
    let strip = false;
    let delim = "";
    let endStart = -1;
    let bodyEnd = -1;
    // The body starts after the line holding `<<EOF`. tree-sitter-bash sometimes reads the start
    // of a body (a line beginning with `\`) as arguments of the command: anything starting at or
    // after that newline belongs to the body and is read here from the source instead.
    let lineEnd = -1;
    const later: Node[] = [];
    const n = r.childCount;
    for (let i = 0; i < n; i++) {
      const c = r.child(i)!;
      const t = c.type;
      if (t === "heredoc_body") {
        bodyEnd = c.endIndex;
        continue;
      }
      if (t === "heredoc_end") {
        endStart = c.startIndex;
        continue;
      }
      if (lineEnd >= 0 && c.startIndex >= lineEnd) continue; // part of the body
      switch (t) {
        case "file_descriptor":
          fd = src.slice(c.startIndex, c.endIndex);
          break;
        case "<<-":
          strip = true;
          break;
        case "heredoc_start":
          delim = src.slice(c.startIndex, c.endIndex);
          lineEnd = src.indexOf("\n", c.endIndex);
          if (lineEnd < 0) lineEnd = src.length;
          break;
        case "file_redirect":
        case "herestring_redirect":
          later.push(c);
          break;
        case "pipeline":
          break; // handled by redirected()
        default:
          if (c.isNamed && t !== "ERROR" && r.fieldNameForChild(i) === "argument") {
            pieces.push(c); // `cat <<EOF file2`: words of the command
            this.walkSubs(c, ctx, nest + 1);
          }
      }
      if (lineEnd >= 0 && c.endIndex > lineEnd) {
        // a construct spanning lines (a multi-line quoted string): the body starts after it
        const k = src.indexOf("\n", c.endIndex);
        lineEnd = k < 0 ? src.length : k;
      }
    }
    const bodyStart = lineEnd < 0 ? src.length : Math.min(lineEnd + 1, src.length);
    const stop = endStart >= 0 ? endStart : bodyEnd >= 0 ? bodyEnd : src.length;
    let body = stop > bodyStart ? src.slice(bodyStart, stop) : "";
    ctx.run.bodies.push([Math.max(0, bodyStart - 1), Math.max(stop, bodyStart)]);
    if (strip) body = body.replace(/^\t+/gm, "");
    const quoted = /['"\\]/.test(delim);
    let result: Stdin;
    if (quoted) {
      result = { label: "heredoc", text: body, dynamic: false, src: clip(delim) };
    } else {
      const scan = scanHeredoc(body);
      if (scan.subs.length > 0) this.textSubs(body, scan.subs, ctx, false);
      result = { label: "heredoc", text: scan.text, dynamic: scan.dynamic, src: clip(delim) };
    }
    let out = fd === "" || fd === "0" ? result : stdin;
    for (const c of later) out = this.redirect(c, pieces, ctx, nest + 1, out);
    return out;
  }

  /** `export A=1 ...`, `local`, `declare`, `unset`: reported as commands (no unwrapping). */
  private declaration(node: Node, ctx: Ctx, nest: number): void {
    const pieces: Node[] = [];
    const n = node.childCount;
    for (let i = 0; i < n; i++) {
      const c = node.child(i)!;
      if (c.type === "comment") continue;
      if (REDIRECT_TYPES.has(c.type)) {
        this.redirect(c, pieces, ctx, nest + 1, null);
        continue;
      }
      pieces.push(c);
      this.walkSubs(c, ctx, nest + 1);
    }
    const words = this.words(ctx.run.src, pieces);
    if (words.length > 0) this.emit(words, 0, words[words.length - 1]!.end, ctx.via, ctx);
  }

  /** What a pipeline stage writes: static for echo/printf, passed through by cat/tee. */
  private output(words: Word[], stdin: Stdin | null, ctx: Ctx): Stdin {
    const name = words[0]!;
    const src = ctx.run.src.slice(name.start, words[words.length - 1]!.end);
    const opaque: Stdin = { label: "pipe", text: null, dynamic: true, src };
    if (name.dynamic) return opaque;
    switch (basename(name.text)) {
      case "echo": {
        const p = echoOutput(words.slice(1));
        return { label: "pipe", text: p.text, dynamic: p.dynamic, src };
      }
      case "printf": {
        const p = printfOutput(words.slice(1));
        if (!p) return { label: "pipe", text: "", dynamic: false, src };
        return { label: "pipe", text: p.text, dynamic: p.dynamic, src };
      }
      case "cat":
        if (words.length === 1 || (words.length === 2 && !words[1]!.dynamic && words[1]!.text === "-")) {
          return stdin ? { ...stdin, label: "pipe", src: stdin.text === null ? stdin.src : src } : { label: "pipe", text: "", dynamic: false, src };
        }
        return opaque;
      case "tee":
        return stdin ? { ...stdin, label: "pipe" } : opaque;
      default:
        return opaque;
    }
  }

  // ---------------------------------------------------------------- commands and wrappers

  private emit(words: Word[], i: number, end: number, via: string[], ctx: Ctx): void {
    const ws = new Array<ShellWord>(words.length - i);
    for (let k = i; k < words.length; k++) ws[k - i] = words[k]!.sw;
    const s = words[i]!.start;
    const cmd: ShellCommand = { words: ws, text: clip(ctx.run.src.slice(s, end > s ? end : s)), via: via.slice() };
    this.out.commands.push(cmd);
  }

  /** Report `words[i..]` and follow it into whatever it runs. */
  private simple(
    words: Word[],
    i: number,
    end: number,
    via: string[],
    ctx: Ctx,
    stdin: Stdin | null,
    nest: number,
    hops: number,
    opts: InnerOpts,
  ): void {
    if (i >= words.length) return;
    let name = words[i]!;
    if (opts.ph && !name.dynamic && name.text.includes(opts.ph)) {
      // find -exec {} / xargs -I% %: the program is a file name only known at run time
      name = { ...name, sw: { value: name.raw, dynamic: true }, dynamic: true };
      words = words.slice();
      words[i] = name;
    }
    if (i === 0 && via === ctx.via && !name.dynamic && COMPOUND_START.has(name.raw) && name.raw !== "!") {
      // A compound command read as a simple command (`! { ..; }`): blank the `!` before it and
      // parse again; without one, at least report what follows the keyword.
      const bang = ctx.run.blanks ? precedingBang(ctx.run.src, name.start) : -1;
      if (bang >= 0) {
        ctx.run.blanks!.push([bang, bang + 1]);
        return;
      }
      this.emit(words, i, end, via, ctx);
      if (name.raw === "{") this.simple(words, i + 1, end, via, ctx, stdin, nest, hops + 1, opts);
      return;
    }
    this.emit(words, i, end, via, ctx);
    if (name.dynamic) return;
    const base = basename(name.text);
    if (hops >= MAX_WRAPPERS) {
      this.unknown("too_deep", `more than ${MAX_WRAPPERS} wrapper commands in a row; the rest was not analyzed`, ctx.run.src.slice(name.start, end));
      return;
    }
    const next = (j: number, label: string, o: InnerOpts = opts, input: Stdin | null = stdin): void => {
      this.simple(words, j, end, [...via, label], ctx, input, nest, hops + 1, o);
    };

    if (SHELLS.has(base)) {
      this.shell(words, i, end, via, ctx, stdin, base, opts);
      return;
    }

    const simple = SIMPLE_WRAPPERS[base];
    if (simple) {
      const p = parseOptions(words, i + 1, simple.spec);
      if (simple.none && simple.none.some((o) => p.seen.has(o))) return;
      let j = p.next;
      if (ctx.run.blanks && i === 0 && via === ctx.via && name.raw === base) {
        // bash's `time` / `coproc [NAME]` keywords before a compound command: tree-sitter parsed
        // the compound command as words
        let k = -1;
        if (base === "time" && j < words.length && COMPOUND_START.has(words[j]!.raw)) k = j;
        if (base === "coproc") {
          if (COMPOUND_START.has(words[1]?.raw ?? "")) k = 1;
          else if (COMPOUND_START.has(words[2]?.raw ?? "") && /^[A-Za-z_][A-Za-z0-9_]*$/.test(words[1]!.raw)) k = 2;
        }
        if (k > 0) {
          for (let w = 0; w < k; w++) ctx.run.blanks.push([words[w]!.start, words[w]!.end]);
          return;
        }
      }
      if (simple.assignments) while (j < words.length && ASSIGNMENT.test(words[j]!.raw)) j++;
      j += simple.positional ?? 0;
      if (j >= words.length) {
        const shellFlag =
          (base === "sudo" && (p.seen.has("s") || p.seen.has("i") || p.seen.has("shell") || p.seen.has("login"))) ||
          (base === "doas" && p.seen.has("s")) ||
          (base === "chroot" && p.next < words.length);
        if (shellFlag) this.shellStdin(`${base}${base === "chroot" ? "" : p.seen.has("i") || p.seen.has("login") ? " -i" : " -s"}`, stdin, via, ctx, words[i]!, end);
        return;
      }
      next(j, base);
      return;
    }

    switch (base) {
      case "env":
        this.env(words, i, end, via, ctx, stdin, nest, hops, opts);
        return;
      case "eval": {
        const args = words.slice(i + 1);
        if (args.length === 0) return;
        this.reparse(args.map((w) => w.text).join(" "), args, "eval", via, ctx, "eval runs a string that is only known at run time");
        return;
      }
      case "xargs": {
        const p = parseOptions(words, i + 1, XARGS_SPEC);
        let ph: string | null = null;
        if (p.values.has("I")) ph = p.values.get("I")!;
        else if (p.seen.has("i")) ph = p.values.get("i") || "{}";
        else if (p.seen.has("replace")) ph = p.values.get("replace") || "{}";
        const o: InnerOpts = { ph: ph || null, appended: !ph };
        if (p.next < words.length) {
          next(p.next, "xargs", o, null);
        } else {
          const echo: Word = { sw: { value: "echo", dynamic: false }, text: "echo", raw: "echo", dynamic: false, start: name.start, end: name.end };
          this.simple([echo], 0, end, [...via, "xargs"], ctx, null, nest, hops + 1, o);
        }
        return;
      }
      case "find":
        this.find(words, i, via, ctx, nest, hops);
        return;
      case "watch": {
        const p = parseOptions(words, i + 1, WATCH_SPEC);
        if (p.next >= words.length) return;
        if (p.seen.has("x") || p.seen.has("exec")) {
          next(p.next, "watch", opts, null);
          return;
        }
        const args = words.slice(p.next);
        this.reparse(args.map((w) => w.text).join(" "), args, "watch", via, ctx, "watch runs a command line that is only known at run time");
        return;
      }
      case "trap": {
        const dd = words[i + 1] && !words[i + 1]!.dynamic && words[i + 1]!.text === "--" ? 1 : 0;
        const a = words[i + 1 + dd];
        if (!a || (!a.dynamic && (a.text === "-" || a.text === "" || a.text.startsWith("-")))) return;
        if (words.length === i + 2 + dd && !a.dynamic && /^(\d+|SIG\w+|[A-Z]+)$/.test(a.text)) return; // `trap INT`: reset
        this.reparse(a.text, [a], "trap", via, ctx, "trap sets a handler that is only known at run time");
        return;
      }
      case "su":
      case "runuser":
        this.su(words, i, end, via, ctx, stdin, base, nest, hops, opts);
        return;
      case "script": {
        const c = findDashC(words, i + 1, "cEIOBTmo", ["command", "output-limit", "log-in", "log-out", "log-io", "log-timing", "logging-format", "echo"]);
        if (c) this.reparse(c.text, [c.word], "script -c", via, ctx, "script -c runs a command that is only known at run time");
        return;
      }
      case "flock": {
        const p = parseOptions(words, i + 1, FLOCK_SPEC);
        const j = p.next + 1; // after the lock file
        if (j >= words.length) return;
        const w = words[j]!;
        if (!w.dynamic && (w.text === "-c" || w.text === "--command")) {
          const s = words[j + 1];
          if (s) this.reparse(s.text, [s], "flock -c", via, ctx, "flock -c runs a command that is only known at run time");
          return;
        }
        next(j, "flock");
        return;
      }
      case "source":
      case ".": {
        const f = words[i + 1];
        if (f && f.dynamic) {
          this.unknown("dynamic_shell_input", `${base} runs a script whose name is only known at run time`, ctx.run.src.slice(name.start, end));
        }
        return;
      }
    }
  }

  /** `bash [opts] -c STRING`, `bash -s`, `bash` reading stdin, `bash FILE`. */
  private shell(words: Word[], i: number, end: number, via: string[], ctx: Ctx, stdin: Stdin | null, base: string, opts: InnerOpts): void {
    const m = shellMode(words, i + 1);
    const src = ctx.run.src;
    switch (m.kind) {
      case "c": {
        const label = `${base} -c`;
        const w = words[m.index];
        if (!w) {
          if (opts.appended) {
            this.unknown("dynamic_shell_input", `${label} gets its script from xargs input, only known at run time`, src.slice(words[i]!.start, end));
          }
          return;
        }
        let text = w.text;
        if (m.inline) text = text.slice(text.indexOf("=") + 1);
        if (opts.ph && !w.dynamic && w.text === opts.ph) {
          this.unknown("dynamic_shell_input", `${label} runs a script that is a file name only known at run time`, src.slice(words[i]!.start, end));
          return;
        }
        this.reparse(text, [w], label, via, ctx, `${label} runs a script that is only known at run time`);
        return;
      }
      case "stdin":
        this.shellStdin(base, stdin, via, ctx, words[i]!, end);
        return;
      case "file": {
        const f = words[m.index]!;
        if (f.dynamic) {
          this.unknown("dynamic_shell_input", `${base} runs a script file only known at run time (${clip(f.raw)})`, src.slice(words[i]!.start, end));
        }
        return;
      }
    }
  }

  /** A shell reading its script from stdin (heredoc, here-string, pipe, file). */
  private shellStdin(shell: string, stdin: Stdin | null, via: string[], ctx: Ctx, name: Word, end: number): void {
    if (!stdin) return;
    const here = ctx.run.src.slice(name.start, end);
    if (stdin.text === null) {
      const from = stdin.label === "file" ? `a file (${stdin.src})` : `the output of ${JSON.stringify(clip(stdin.src))}`;
      this.unknown("dynamic_shell_input", `${shell} reads its script from ${from}, which is only known at run time`, here);
      return;
    }
    const label = `${stdin.label} → ${shell}`;
    if (stdin.dynamic) {
      this.unknown("dynamic_shell_input", `${shell} reads a script (${stdin.label}) that contains expansions only known at run time`, here);
    }
    if (stdin.text.trim() === "") return;
    this.run(stdin.text, [...via, label], ctx.depth + 1, null);
  }

  /** Parse a string that becomes shell code; dynamic → unknown plus a best-effort parse. */
  private reparse(text: string, from: Word[], label: string, via: string[], ctx: Ctx, dynamicMessage: string): void {
    const dynamic = from.some((w) => w.dynamic);
    if (dynamic) {
      const s = from[0]!.start;
      const e = from[from.length - 1]!.end;
      this.unknown("dynamic_shell_input", dynamicMessage, ctx.run.src.slice(s, e));
    }
    if (text.trim() === "") return;
    this.run(text, [...via, label], ctx.depth + 1, null);
  }

  private env(words: Word[], i: number, end: number, via: string[], ctx: Ctx, stdin: Stdin | null, nest: number, hops: number, opts: InnerOpts): void {
    let j = i + 1;
    let split: { value: Word; text: string; at: number } | null = null;
    options: while (j < words.length) {
      const w = words[j]!;
      if (w.dynamic) break;
      const v = w.text;
      if (v === "--") {
        j++;
        break;
      }
      if (v === "-") {
        j++;
        continue;
      }
      if (v.startsWith("--")) {
        const eq = v.indexOf("=");
        const name = eq < 0 ? v.slice(2) : v.slice(2, eq);
        const takes = ["unset", "chdir", "split-string"].find((l) => l.startsWith(name) && name.length >= 2);
        if (takes && eq < 0) {
          if (takes === "split-string" && words[j + 1]) {
            split = { value: words[j + 1]!, text: words[j + 1]!.text, at: j + 2 };
            break options;
          }
          j += 2;
          continue;
        }
        if (takes === "split-string") {
          split = { value: w, text: v.slice(eq + 1), at: j + 1 };
          break options;
        }
        j++;
        continue;
      }
      if (v[0] === "-" && v.length > 1) {
        for (let k = 1; k < v.length; k++) {
          const ch = v[k]!;
          if (ch === "u" || ch === "C" || ch === "S") {
            const attached = v.slice(k + 1);
            if (ch === "S") {
              if (attached) split = { value: w, text: attached, at: j + 1 };
              else if (words[j + 1]) split = { value: words[j + 1]!, text: words[j + 1]!.text, at: j + 2 };
              break options;
            }
            j += attached ? 1 : 2;
            continue options;
          }
        }
        j++;
        continue;
      }
      break;
    }
    if (split) {
      // env -S 'STRING' rest...: STRING is split into more arguments (options, NAME=VALUE, command)
      const rest = words.slice(split.at).map((w) => (w.dynamic ? w.raw : shellQuote(w.text)));
      const text = ["env", split.text, ...rest].join(" ");
      this.reparse(text, [split.value], "env -S", via, ctx, "env -S splits a string that is only known at run time");
      return;
    }
    while (j < words.length) {
      const w = words[j]!;
      if (w.dynamic ? ASSIGNMENT.test(w.raw) : w.text.includes("=")) j++;
      else break;
    }
    if (j >= words.length) return;
    this.simple(words, j, end, [...via, "env"], ctx, stdin, nest, hops + 1, opts);
  }

  private find(words: Word[], i: number, via: string[], ctx: Ctx, nest: number, hops: number): void {
    for (let j = i + 1; j < words.length; j++) {
      const w = words[j]!;
      if (w.dynamic || !FIND_EXEC.has(w.text)) continue;
      let k = j + 1;
      while (k < words.length) {
        const t = words[k]!;
        if (!t.dynamic && (t.text === ";" || (t.text === "+" && k > j + 1 && words[k - 1]!.text === "{}"))) break;
        k++;
      }
      if (k > j + 1) {
        const inner = words.slice(j + 1, k);
        this.simple(inner, 0, inner[inner.length - 1]!.end, [...via, `find ${w.text}`], ctx, null, nest, hops + 1, { ph: "{}", appended: false });
      }
      j = k;
    }
  }

  private su(words: Word[], i: number, end: number, via: string[], ctx: Ctx, stdin: Stdin | null, base: string, nest: number, hops: number, opts: InnerOpts): void {
    // -c/--command and -C/--session-command take the command string
    const c = findDashC(words, i + 1, SU_VALUE + (base === "runuser" ? "u" : ""), SU_LONG_VALUE, "cC");
    if (c) {
      this.reparse(c.text, [c.word], `${base} -c`, via, ctx, `${base} -c runs a command that is only known at run time`);
      return;
    }
    if (base === "runuser") {
      const p = parseOptions(words, i + 1, { value: "ugGsw", longValue: SU_LONG_VALUE });
      if ((p.seen.has("u") || p.seen.has("user")) && p.next < words.length) {
        this.simple(words, p.next, end, [...via, "runuser"], ctx, stdin, nest, hops + 1, opts);
        return;
      }
    }
    this.shellStdin(base, stdin, via, ctx, words[i]!, end);
  }
}

/** The offset of a `!` word just before `at` (only blanks between), or -1. */
function precedingBang(src: string, at: number): number {
  let j = at - 1;
  while (j >= 0 && (src[j] === " " || src[j] === "\t")) j--;
  if (j < 0 || src[j] !== "!") return -1;
  if (j > 0 && !/[\s;&|({]/.test(src[j - 1]!)) return -1;
  return j;
}

/**
 * Find `-c STRING` / `--command[=]STRING` anywhere in the arguments (permuted options). `value`
 * lists the short options taking a value; `commandLetters` those whose value is the command.
 */
function findDashC(words: Word[], start: number, value: string, longValue: readonly string[], commandLetters = "c"): { word: Word; text: string } | null {
  for (let j = start; j < words.length; j++) {
    const w = words[j]!;
    if (w.dynamic) continue;
    const v = w.text;
    if (v === "--") return null;
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      const name = eq < 0 ? v.slice(2) : v.slice(2, eq);
      const full = longValue.find((l) => l.startsWith(name) && name.length >= 2);
      if (full === "command" || full === "session-command") {
        if (eq >= 0) return { word: w, text: v.slice(eq + 1) };
        const s = words[j + 1];
        return s ? { word: s, text: s.text } : null;
      }
      if (full && eq < 0) j++;
      continue;
    }
    if (v[0] !== "-" || v.length < 2) continue;
    for (let k = 1; k < v.length; k++) {
      const ch = v[k]!;
      if (!value.includes(ch)) continue;
      const attached = v.slice(k + 1);
      if (commandLetters.includes(ch)) {
        if (attached) return { word: w, text: attached };
        const s = words[j + 1];
        return s ? { word: s, text: s.text } : null;
      }
      if (!attached) j++;
      break;
    }
  }
  return null;
}

export interface CreateShellAnalyzerOptions {
  /** Bytes of web-tree-sitter.wasm. */
  coreWasm: Uint8Array;
  /** Bytes of tree-sitter-bash.wasm. */
  bashWasm: Uint8Array;
  limits?: Partial<ShellLimits>;
}

let initialized: Promise<void> | null = null;

/** Create an analyzer (one warm parser). Init costs ~20-40 ms once per process. */
export async function createShellAnalyzer(opts: CreateShellAnalyzerOptions): Promise<ShellAnalyzer> {
  if (!initialized) {
    initialized = Parser.init({ wasmBinary: opts.coreWasm }).catch((e: unknown) => {
      initialized = null;
      throw e;
    });
  }
  await initialized;
  const language = await Language.load(opts.bashWasm);
  const parser = new Parser();
  parser.setLanguage(language);
  const limits: ShellLimits = { ...DEFAULT_SHELL_LIMITS, ...(opts.limits ?? {}) };
  return new Analyzer(parser, limits);
}

export type { ShellAnalysis, ShellAnalyzer, ShellCommand, ShellLimits, ShellUnknown, ShellWord };
