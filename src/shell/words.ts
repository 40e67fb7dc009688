/**
 * Bash word lexing shared by the policy loader (`splitWords`, synchronous, no tree-sitter) and the
 * shell analyzer (`lexWord`, `scanSubstitutions`, `unquoteAnsiC`).
 *
 * The lexer unquotes the way bash does: `'..'` is literal; inside `".."` only `\$ \` \" \\ \newline`
 * are escapes; outside quotes `\x` is `x` and `\newline` disappears; `$'..'` takes ANSI-C escapes;
 * `$".."` is a double-quoted string. Anything whose value needs running something (expansions,
 * command substitution, globs, brace expansion) makes the word dynamic.
 */

/** A substitution found while scanning (offsets into the scanned source). */
export interface Substitution {
  /** `cmd` = `$(..)`, `backtick` = `` `..` ``, `arith` = `$((..))`, `param` = `${..}`. */
  kind: "cmd" | "backtick" | "arith" | "param";
  /** Offsets of the whole construct. */
  start: number;
  end: number;
  /** Offsets of the inside (between the delimiters). */
  innerStart: number;
  innerEnd: number;
}

/** Result of lexing one word. */
export interface LexedWord {
  /** Unquoted value; the source text of expansions is kept verbatim (unquoted parts are unquoted). */
  value: string;
  /** True when the value depends on something only known at run time. */
  dynamic: boolean;
  /** Index just after the word. */
  end: number;
  /** Set in pattern mode when the word is not a plain literal (or is malformed). */
  error: string | null;
}

const BACKSLASH = 92;
const SQUOTE = 39;
const DQUOTE = 34;
const DOLLAR = 36;
const BACKTICK = 96;
const LPAREN = 40;
const RPAREN = 41;
const LBRACE = 123;
const RBRACE = 125;
const NEWLINE = 10;

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === NEWLINE || c === 13;
}
/** Special parameters: `$@ $* $# $? $- $$ $!`. */
function isSpecialParam(c: number): boolean {
  return c === 64 || c === 42 || c === 35 || c === 63 || c === 45 || c === DOLLAR || c === 33;
}

/** From just after an opening backtick: the index just after the closing one, or -1. */
export function skipBacktick(src: string, i: number, end: number): number {
  for (let j = i; j < end; j++) {
    const c = src.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === BACKTICK) return j + 1;
  }
  return -1;
}

/** From just after an opening `"`: the index just after the closing `"`, or -1. */
export function skipDoubleQuoted(src: string, i: number, end: number): number {
  return skipNested(src, i - 1, end);
}

function skipAnsiC(src: string, i: number, end: number): number {
  // i is just after `$'`
  for (let j = i; j < end; j++) {
    const c = src.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === SQUOTE) return j + 1;
  }
  return -1;
}

/**
 * From an opening `(` or `{`: the index just after its matching closer, or -1 when unterminated.
 * Quotes, backticks, nested expansions and comments are skipped. (A `case` pattern's lone `)` inside
 * `$(..)` can end it early; the word is dynamic either way.)
 */
export function skipGroup(src: string, i: number, end: number): number {
  return skipNested(src, i, end);
}

const M_PAREN = 0;
const M_BRACE = 1;
const M_DQ = 2;
const M_BT = 3;

/**
 * From an opening `(`, `{`, `"` or backtick: the index just after the matching closer, or -1.
 * Iterative (an explicit stack), so hostile nesting cannot exhaust the JS stack.
 */
function skipNested(src: string, i: number, end: number): number {
  const first = src.charCodeAt(i);
  const stack: number[] = [first === LPAREN ? M_PAREN : first === LBRACE ? M_BRACE : first === DQUOTE ? M_DQ : M_BT];
  let j = i + 1;
  while (j < end) {
    const mode = stack[stack.length - 1]!;
    const c = src.charCodeAt(j);
    if (c === BACKSLASH) {
      j += 2;
      continue;
    }
    if (mode === M_BT) {
      if (c === BACKTICK) {
        stack.pop();
        if (stack.length === 0) return j + 1;
      }
      j++;
      continue;
    }
    if (c === DOLLAR) {
      const n = src.charCodeAt(j + 1);
      if (n === LPAREN) {
        stack.push(M_PAREN);
        j += 2;
        continue;
      }
      if (n === LBRACE) {
        stack.push(M_BRACE);
        j += 2;
        continue;
      }
      if (n === SQUOTE && mode !== M_DQ) {
        const k = skipAnsiC(src, j + 2, end);
        if (k < 0) return -1;
        j = k;
        continue;
      }
      j++;
      continue;
    }
    if (c === BACKTICK) {
      stack.push(M_BT);
      j++;
      continue;
    }
    if (mode === M_DQ) {
      if (c === DQUOTE) {
        stack.pop();
        if (stack.length === 0) return j + 1;
      }
      j++;
      continue;
    }
    // inside $( ) or ${ }
    if (c === SQUOTE) {
      const k = src.indexOf("'", j + 1);
      if (k < 0 || k >= end) return -1;
      j = k + 1;
      continue;
    }
    if (c === DQUOTE) {
      stack.push(M_DQ);
      j++;
      continue;
    }
    if (mode === M_PAREN) {
      if (c === LPAREN) stack.push(M_PAREN);
      else if (c === RPAREN) {
        stack.pop();
        if (stack.length === 0) return j + 1;
      } else if (c === 35 /* # */) {
        const p = src.charCodeAt(j - 1);
        if (isBlank(p) || p === LPAREN || p === 59 || p === 124 || p === 38) {
          const k = src.indexOf("\n", j);
          if (k < 0 || k >= end) return -1;
          j = k + 1;
          continue;
        }
      }
    } else if (c === LBRACE) stack.push(M_BRACE);
    else if (c === RBRACE) {
      stack.pop();
      if (stack.length === 0) return j + 1;
    }
    j++;
  }
  return -1;
}

/**
 * At a `$`: the index just after the expansion it starts, or -1 when the `$` is literal
 * (followed by nothing that expands). `$'` and `$"` are not expansions (handled by the caller).
 * An unterminated `$(` / `${` returns `end`.
 */
export function expansionEnd(src: string, i: number, end: number): number {
  if (i + 1 >= end) return -1;
  const n = src.charCodeAt(i + 1);
  if (n === LPAREN || n === LBRACE) {
    const k = skipGroup(src, i + 1, end);
    return k < 0 ? end : k;
  }
  if (isNameStart(n)) {
    let j = i + 2;
    while (j < end && isNameChar(src.charCodeAt(j))) j++;
    return j;
  }
  if (isDigit(n) || isSpecialParam(n)) return i + 2;
  return -1;
}

function classifyExpansion(src: string, i: number): Substitution["kind"] | null {
  const n = src.charCodeAt(i + 1);
  if (n === LPAREN) return src.charCodeAt(i + 2) === LPAREN ? "arith" : "cmd";
  if (n === LBRACE) return "param";
  return null;
}

function recordExpansion(
  src: string,
  i: number,
  e: number,
  subs: Substitution[] | undefined,
  end: number,
): void {
  if (!subs) return;
  const kind = classifyExpansion(src, i);
  if (!kind) return;
  const open = kind === "arith" ? 3 : 2;
  const closed = kind === "arith" ? src.startsWith("))", e - 2) : src.charCodeAt(e - 1) === (kind === "param" ? RBRACE : RPAREN);
  const close = closed && e <= end ? (kind === "arith" ? 2 : 1) : 0;
  subs.push({ kind, start: i, end: e, innerStart: Math.min(i + open, e), innerEnd: Math.max(Math.min(i + open, e), e - close) });
}

/** Decode the body of a `$'..'` string (between the quotes) the way bash does. */
export function unquoteAnsiC(body: string): string {
  if (body.indexOf("\\") < 0) return body;
  let out = "";
  const n = body.length;
  let i = 0;
  while (i < n) {
    const c = body[i]!;
    if (c !== "\\" || i + 1 >= n) {
      out += c;
      i++;
      continue;
    }
    const e = body[i + 1]!;
    i += 2;
    switch (e) {
      case "a": out += "\x07"; break;
      case "b": out += "\b"; break;
      case "e":
      case "E": out += "\x1b"; break;
      case "f": out += "\f"; break;
      case "n": out += "\n"; break;
      case "r": out += "\r"; break;
      case "t": out += "\t"; break;
      case "v": out += "\v"; break;
      case "\\": out += "\\"; break;
      case "'": out += "'"; break;
      case '"': out += '"'; break;
      case "?": out += "?"; break;
      case "x": {
        let j = i;
        while (j < n && j < i + 2 && /[0-9a-fA-F]/.test(body[j]!)) j++;
        if (j === i) out += "\\x";
        else out += String.fromCharCode(parseInt(body.slice(i, j), 16));
        i = j;
        break;
      }
      case "u":
      case "U": {
        const max = e === "u" ? 4 : 8;
        let j = i;
        while (j < n && j < i + max && /[0-9a-fA-F]/.test(body[j]!)) j++;
        if (j === i) out += "\\" + e;
        else {
          const cp = parseInt(body.slice(i, j), 16);
          out += cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
        }
        i = j;
        break;
      }
      case "c": {
        if (i < n) {
          const ch = body.charCodeAt(i);
          out += ch === 63 ? "\x7f" : String.fromCharCode((ch >= 97 && ch <= 122 ? ch - 32 : ch) & 0x1f);
          i++;
        } else out += "\\c";
        break;
      }
      default:
        if (e >= "0" && e <= "7") {
          let j = i - 1;
          while (j < n && j < i + 2 && body[j]! >= "0" && body[j]! <= "7") j++;
          out += String.fromCharCode(parseInt(body.slice(i - 1, j), 8) & 0xff);
          i = j;
        } else {
          out += "\\" + e;
        }
    }
  }
  // bash strings end at a NUL byte
  const z = out.indexOf("\0");
  return z < 0 ? out : out.slice(0, z);
}

/** Options for the double-quote / heredoc scanner. */
interface DqOptions {
  pattern: boolean;
  /** Heredoc body: `"` is an ordinary character and does not end the text. */
  heredoc: boolean;
  subs?: Substitution[];
}

interface DqResult {
  value: string;
  dynamic: boolean;
  end: number;
  error: string | null;
}

/** Scan double-quoted text (from just after the `"`), or a whole unquoted heredoc body. */
function scanDouble(src: string, i: number, end: number, opts: DqOptions): DqResult {
  let out = "";
  let dynamic = false;
  let j = i;
  let runStart = j;
  while (j < end) {
    const c = src.charCodeAt(j);
    if (c === DQUOTE && !opts.heredoc) {
      out += src.slice(runStart, j);
      return { value: out, dynamic, end: j + 1, error: null };
    }
    if (c === BACKSLASH) {
      const n = src.charCodeAt(j + 1);
      if (j + 1 < end && (n === DOLLAR || n === BACKTICK || n === BACKSLASH || n === NEWLINE || (n === DQUOTE && !opts.heredoc))) {
        out += src.slice(runStart, j);
        if (n !== NEWLINE) out += src[j + 1];
        j += 2;
        runStart = j;
        continue;
      }
      j += j + 1 < end ? 2 : 1;
      continue;
    }
    if (c === DOLLAR) {
      const e = expansionEnd(src, j, end);
      if (e < 0) {
        j++;
        continue;
      }
      if (opts.pattern) {
        return { value: out, dynamic: true, end: e, error: `contains the expansion ${quoteForMessage(src.slice(j, e))}; patterns must be literal` };
      }
      recordExpansion(src, j, e, opts.subs, end);
      out += src.slice(runStart, e);
      dynamic = true;
      j = e;
      runStart = j;
      continue;
    }
    if (c === BACKTICK) {
      if (opts.pattern) {
        return { value: out, dynamic: true, end: j, error: "contains a backtick command substitution; patterns must be literal" };
      }
      const k = skipBacktick(src, j + 1, end);
      const e = k < 0 ? end : k;
      if (opts.subs) opts.subs.push({ kind: "backtick", start: j, end: e, innerStart: j + 1, innerEnd: k < 0 ? end : e - 1 });
      out += src.slice(runStart, e);
      dynamic = true;
      j = e;
      runStart = j;
      continue;
    }
    j++;
  }
  out += src.slice(runStart, end);
  if (opts.heredoc) return { value: out, dynamic, end, error: null };
  return { value: out, dynamic: true, end, error: "unterminated double quote" };
}

function quoteForMessage(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
}

/**
 * Lex one word starting at `i`.
 * - Word mode (`pattern` false; the analyzer passes a word's exact source range): never fails; marks
 *   the word dynamic for expansions, globs, brace expansion, stray operators or malformed quoting.
 * - Pattern mode: stops at unquoted whitespace; sets `error` for anything that is not a plain literal.
 */
export function lexWord(src: string, i: number, end: number, pattern = false, subs?: Substitution[]): LexedWord {
  let out = "";
  let dynamic = false;
  let j = i;
  let braceDepth = 0;
  let braceFlags = 0; // bit k set: brace level k saw a top-level `,` or `..`
  let bracketOpen = false;
  const fail = (error: string, at: number): LexedWord => ({ value: out, dynamic: true, end: at, error });
  while (j < end) {
    const c = src.charCodeAt(j);
    switch (c) {
      case BACKSLASH: {
        if (j + 1 >= end) {
          if (pattern) return fail("ends with a lone backslash", end);
          out += "\\";
          j++;
          break;
        }
        if (src.charCodeAt(j + 1) !== NEWLINE) out += src[j + 1];
        j += 2;
        break;
      }
      case SQUOTE: {
        const k = src.indexOf("'", j + 1);
        if (k < 0 || k >= end) {
          if (pattern) return fail("unterminated single quote", end);
          out += src.slice(j, end);
          dynamic = true;
          j = end;
          break;
        }
        out += src.slice(j + 1, k);
        j = k + 1;
        break;
      }
      case DQUOTE: {
        const r = scanDouble(src, j + 1, end, { pattern, heredoc: false, subs });
        if (r.error && pattern) return fail(r.error, r.end);
        out += r.value;
        if (r.dynamic) dynamic = true;
        j = r.end;
        break;
      }
      case DOLLAR: {
        const n = src.charCodeAt(j + 1);
        if (j + 1 < end && n === SQUOTE) {
          const k = skipAnsiC(src, j + 2, end);
          if (k < 0) {
            if (pattern) return fail("unterminated $'...' string", end);
            out += src.slice(j, end);
            dynamic = true;
            j = end;
            break;
          }
          out += unquoteAnsiC(src.slice(j + 2, k - 1));
          j = k;
          break;
        }
        if (j + 1 < end && n === DQUOTE) {
          const r = scanDouble(src, j + 2, end, { pattern, heredoc: false, subs });
          if (r.error && pattern) return fail(r.error, r.end);
          out += r.value;
          if (r.dynamic) dynamic = true;
          j = r.end;
          break;
        }
        const e = expansionEnd(src, j, end);
        if (e < 0) {
          out += "$";
          j++;
          break;
        }
        if (pattern) return fail(`contains the expansion ${quoteForMessage(src.slice(j, e))}; patterns must be literal`, e);
        recordExpansion(src, j, e, subs, end);
        out += src.slice(j, e);
        dynamic = true;
        j = e;
        break;
      }
      case BACKTICK: {
        if (pattern) return fail("contains a backtick command substitution; patterns must be literal", j);
        const k = skipBacktick(src, j + 1, end);
        const e = k < 0 ? end : k;
        if (subs) subs.push({ kind: "backtick", start: j, end: e, innerStart: j + 1, innerEnd: k < 0 ? end : e - 1 });
        out += src.slice(j, e);
        dynamic = true;
        j = e;
        break;
      }
      case 42: // *
      case 63: // ?
        if (pattern) return fail(`contains the glob character '${src[j]}'; quote it to match it literally`, j);
        out += src[j];
        dynamic = true;
        j++;
        break;
      case 91: // [
        if (pattern) return fail("contains the glob character '['; quote it to match it literally", j);
        bracketOpen = true;
        out += "[";
        j++;
        break;
      case 93: // ]
        if (bracketOpen) dynamic = true;
        out += "]";
        j++;
        break;
      case LBRACE:
        braceDepth++;
        out += "{";
        j++;
        break;
      case 44: // ,
        if (braceDepth > 0 && braceDepth <= 31) braceFlags |= 1 << braceDepth;
        out += ",";
        j++;
        break;
      case 46: // .
        if (braceDepth > 0 && braceDepth <= 31 && src.charCodeAt(j + 1) === 46) braceFlags |= 1 << braceDepth;
        out += ".";
        j++;
        break;
      case RBRACE:
        if (braceDepth > 0) {
          if (braceDepth > 31 || braceFlags & (1 << braceDepth)) {
            if (pattern) return fail("contains a brace expansion ({a,b} or {1..3}); write each pattern separately", j);
            dynamic = true;
          }
          braceFlags &= ~(1 << braceDepth);
          braceDepth--;
        }
        out += "}";
        j++;
        break;
      case 59: // ;
      case 124: // |
      case 38: // &
      case 60: // <
      case 62: // >
      case LPAREN:
      case RPAREN:
        if (pattern) return fail(`contains the shell operator '${src[j]}'; patterns are a single simple command`, j);
        out += src[j];
        dynamic = true;
        j++;
        break;
      case 32:
      case 9:
      case NEWLINE:
      case 13:
        if (pattern) return { value: out, dynamic, end: j, error: null };
        out += src[j];
        dynamic = true;
        j++;
        break;
      default: {
        // copy a run of ordinary characters at once
        let k = j + 1;
        while (k < end && isPlain(src.charCodeAt(k))) k++;
        out += src.slice(j, k);
        j = k;
      }
    }
  }
  return { value: out, dynamic, end, error: null };
}

function isPlain(c: number): boolean {
  switch (c) {
    case BACKSLASH: case SQUOTE: case DQUOTE: case DOLLAR: case BACKTICK:
    case 42: case 63: case 91: case 93: case LBRACE: case RBRACE: case 44: case 46:
    case 59: case 124: case 38: case 60: case 62: case LPAREN: case RPAREN:
    case 32: case 9: case NEWLINE: case 13:
      return false;
  }
  return true;
}

/**
 * Split a policy pattern into words with shell quoting rules. Only literal words are accepted:
 * no expansions, command substitution, globs, brace expansion, operators or comments.
 */
export function splitWords(text: string): { ok: true; words: string[] } | { ok: false; error: string } {
  const words: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isBlank(c)) i++;
      else if (c === BACKSLASH && text.charCodeAt(i + 1) === NEWLINE) i += 2;
      else break;
    }
    if (i >= n) break;
    if (text.charCodeAt(i) === 35) {
      return { ok: false, error: `pattern ${quoteForMessage(text)}: a word starts with '#', which begins a shell comment; quote it` };
    }
    const r = lexWord(text, i, n, true);
    if (r.error) return { ok: false, error: `pattern ${quoteForMessage(text)}: ${r.error}` };
    words.push(r.value);
    i = r.end;
  }
  if (words.length === 0) return { ok: false, error: "empty pattern" };
  return { ok: true, words };
}

/**
 * Scan an unquoted heredoc body (or other double-quote-like text) for what bash would expand.
 * Returns the text as bash would feed it with escapes removed (expansions kept verbatim), whether
 * any expansion occurs, and the substitutions (offsets into `src`).
 */
export function scanHeredoc(src: string, start = 0, end = src.length): { text: string; dynamic: boolean; subs: Substitution[] } {
  const subs: Substitution[] = [];
  const r = scanDouble(src, start, end, { pattern: false, heredoc: true, subs });
  return { text: r.value, dynamic: r.dynamic, subs };
}

/**
 * Collect the substitutions of arbitrary word-like text (used for `${..}`/`$((..))` insides and for
 * words the analyzer re-lexes). Offsets are into `src`.
 */
export function scanWordSubstitutions(src: string, start = 0, end = src.length): Substitution[] {
  const subs: Substitution[] = [];
  let j = start;
  while (j < end) {
    const r = lexWord(src, j, end, false, subs);
    j = r.end > j ? r.end : j + 1;
  }
  return subs;
}

/** Unescape the inside of a backtick substitution: `\\` `\`` `\$` (and `\"` inside double quotes). */
export function unescapeBacktick(inner: string, inDoubleQuotes: boolean): string {
  if (inner.indexOf("\\") < 0) return inner;
  let out = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === "\\" && i + 1 < inner.length) {
      const n = inner[i + 1]!;
      if (n === "\\" || n === "`" || n === "$" || (inDoubleQuotes && n === '"')) {
        out += n;
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** Quote a value so bash reads it back as exactly one literal word. */
export function shellQuote(value: string): string {
  if (value !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return "'" + value.replace(/'/g, "'\\''") + "'";
}
