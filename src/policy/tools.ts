/**
 * Tool rules (docs/policies.md, "Tool rules"): a rule may name an agent tool (`Write`,
 * `mcp__github__*`) and, for file tools, a path glob (`**\/.env`, `infra/prod/**`). Pure: the
 * matching of tool names and file paths, no I/O.
 *
 * - A tool pattern is one or more names separated by `|` (`Write|Edit`, like a Claude Code
 *   matcher); `*` matches any run of characters, `?` one. Case-sensitive: tool names are exact.
 * - A path glob: `**` (a whole segment) matches any number of folders, `*` any characters but `/`,
 *   `?` one character but `/`, `[abc]`/`[!a-z]` a class, `{a,b}` alternatives. Dot files are not
 *   special. A glob with no `/` matches a file name in any folder (`*.pem` = `**\/*.pem`); one that
 *   starts with `/` matches absolute paths only. Case-insensitive: macOS and Windows file systems
 *   are, and a write to `.ENV` there is a write to `.env`.
 */

export interface ToolPatternCheck {
  ok: boolean;
  error?: string;
}

const TOOL_NAME = /^[A-Za-z0-9_.:@/*?-]+$/;

/** Checks a tool pattern (the schema's refinement). */
export function checkToolPattern(pattern: string): ToolPatternCheck {
  const parts = pattern.split("|");
  for (const part of parts) {
    if (part === "") return { ok: false, error: "an alternative between '|' is empty" };
    if (!TOOL_NAME.test(part)) return { ok: false, error: `${JSON.stringify(part)} may hold only letters, digits and _ . : @ / - with * and ? as wildcards` };
  }
  return { ok: true };
}

const escape = (c: string) => (/[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c);

/** A tool pattern as one anchored RegExp. Throws on an invalid pattern (the schema rejects those first). */
export function compileToolPattern(pattern: string): RegExp {
  const check = checkToolPattern(pattern);
  if (!check.ok) throw new Error(`invalid tool pattern ${JSON.stringify(pattern)}: ${check.error}`);
  const alternatives = pattern.split("|").map((part) => [...part].map((c) => (c === "*" ? ".*" : c === "?" ? "." : escape(c))).join(""));
  return new RegExp(`^(?:${alternatives.join("|")})$`);
}

export interface CompiledGlob {
  /** the glob as written */
  glob: string;
  /** matched against absolute paths only */
  absolute: boolean;
  re: RegExp;
}

/** Glob text → RegExp source; throws with a message on a malformed glob. */
function globSource(glob: string): string {
  let out = "";
  let i = 0;
  const n = glob.length;
  while (i < n) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atStart = i === 0 || glob[i - 1] === "/";
        const after = glob[i + 2];
        if (!atStart || (after !== undefined && after !== "/")) throw new Error("'**' must be a whole path segment (like a/**/b)");
        if (after === "/") {
          out += "(?:[^/]*/)*";
          i += 3;
        } else {
          out += ".*";
          i += 2;
        }
        continue;
      }
      out += "[^/]*";
      i++;
    } else if (c === "?") {
      out += "[^/]";
      i++;
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) throw new Error("'[' has no closing ']'");
      let body = glob.slice(i + 1, end);
      const negate = body.startsWith("!") || body.startsWith("^");
      if (negate) body = body.slice(1);
      if (body === "" || body.includes("/")) throw new Error("a [class] must hold characters other than '/'");
      out += `[${negate ? "^/" : ""}${body.replaceAll("\\", "\\\\").replaceAll("]", "\\]")}]`;
      i = end + 1;
    } else if (c === "{") {
      // find the matching brace, allowing nesting
      let depth = 0;
      let end = -1;
      for (let j = i; j < n; j++) {
        if (glob[j] === "{") depth++;
        else if (glob[j] === "}" && --depth === 0) {
          end = j;
          break;
        }
      }
      if (end === -1) throw new Error("'{' has no closing '}'");
      const alternatives: string[] = [];
      let start = i + 1;
      depth = 0;
      for (let j = i + 1; j < end; j++) {
        if (glob[j] === "{") depth++;
        else if (glob[j] === "}") depth--;
        else if (glob[j] === "," && depth === 0) {
          alternatives.push(glob.slice(start, j));
          start = j + 1;
        }
      }
      alternatives.push(glob.slice(start, end));
      out += `(?:${alternatives.map(globSource).join("|")})`;
      i = end + 1;
    } else if (c === "}" || c === "]") {
      throw new Error(`unbalanced '${c}'`);
    } else {
      out += escape(c);
      i++;
    }
  }
  return out;
}

/** Checks a path glob (the schema's refinement). */
export function checkPathGlob(glob: string): ToolPatternCheck {
  if (glob.trim() === "") return { ok: false, error: "must not be empty" };
  if (glob.includes("\0")) return { ok: false, error: "must not contain NUL" };
  if (glob.split("/").some((s) => s === "..")) return { ok: false, error: "must not contain '..' segments (paths are normalized before matching)" };
  try {
    globSource(glob);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** A path glob, compiled. Throws on an invalid glob (the schema rejects those first). */
export function compilePathGlob(glob: string): CompiledGlob {
  const check = checkPathGlob(glob);
  if (!check.ok) throw new Error(`invalid path glob ${JSON.stringify(glob)}: ${check.error}`);
  let g = glob.replace(/\/+/g, "/");
  const absolute = g.startsWith("/");
  if (absolute) g = g.slice(1);
  if (g.endsWith("/")) g = `${g}**`; // a folder: everything below it
  if (g.startsWith("./")) g = g.slice(2);
  if (!absolute && !g.includes("/")) g = `**/${g}`;
  return { glob, absolute, re: new RegExp(`^${globSource(g)}$`, "i") };
}

/** POSIX normalization: `//` → `/`, `.` dropped, `..` resolved (never above the root of an absolute path). */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out.at(-1) !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const joined = out.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

export interface PathForms {
  /** normalized absolute path, when known (without the leading `/`, as globs see it) */
  absolute: string | null;
  /** normalized path relative to the session's working folder, when the file is inside it */
  relative: string | null;
}

/** The forms of a file path globs are matched against: relative to `root` (the cwd), and absolute. */
export function pathForms(path: string, root?: string | null): PathForms {
  const p = normalizePath(path);
  const r = root && root.startsWith("/") ? normalizePath(root) : null;
  let absolute: string | null = null;
  let relative: string | null = null;
  if (p.startsWith("/")) {
    absolute = p;
    if (r !== null) {
      if (r === "/") relative = p.slice(1);
      else if (p.startsWith(`${r}/`)) relative = p.slice(r.length + 1);
    }
  } else if (p.startsWith("..")) {
    absolute = r !== null ? normalizePath(`${r}/${p}`) : null;
  } else {
    relative = p;
    if (r !== null) absolute = normalizePath(`${r}/${p}`);
  }
  return { absolute: absolute === null ? null : absolute.slice(1), relative };
}

/** Does the compiled glob match the path? Relative globs see the relative form and the absolute one. */
export function globMatches(glob: CompiledGlob, forms: PathForms): boolean {
  if (forms.absolute !== null && glob.re.test(forms.absolute)) return true;
  return !glob.absolute && forms.relative !== null && glob.re.test(forms.relative);
}
