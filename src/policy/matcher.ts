/**
 * The word trie every verdict walks. Cost grows with the length of the command, not with the
 * number of patterns: a role with 10,000 patterns is walked like one with ten.
 *
 * A pattern's words that do not start with `-` form its path in the trie (word 0 compared by
 * executable basename); words that start with `-` are required flags, present anywhere after
 * the command name (`git push --force` matches `git push origin main --force`).
 */
import type { ShellWord } from "../shell/types";
import { splitWords } from "../shell/words";
import { classifyOption, type CompiledProfile } from "./profiles";
import type { Action } from "./schema";

export interface RuleRef {
  /** id of the policy the rule belongs to */
  policy: string;
  /** JSON path of the rule inside its policy: `blocked_commands[0]`, `rules[2]` */
  rule: string;
  /** the pattern as written */
  pattern: string;
  action: Action;
  reason?: string;
  /** required flags (pattern words starting with `-`) */
  flags: string[];
  /** insertion order; lower wins among equals, so verdicts are deterministic */
  order: number;
}

interface TrieNode {
  children: Map<string, TrieNode> | null;
  rules: RuleRef[];
}

export interface Trie {
  root: TrieNode;
  size: number;
}

export function createTrie(): Trie {
  return { root: { children: null, rules: [] }, size: 0 };
}

/** Last path segment of an executable word: `/opt/homebrew/bin/terraform` → `terraform`. */
export function basename(word: string): string {
  const slash = word.lastIndexOf("/");
  return slash === -1 ? word : word.slice(slash + 1);
}

/** Adds a pattern; throws on a pattern `splitWords` rejects (the schema rejects those first). */
export function insertPattern(trie: Trie, rule: Omit<RuleRef, "flags" | "order">): void {
  const split = splitWords(rule.pattern);
  if (!split.ok) throw new Error(`invalid pattern ${JSON.stringify(rule.pattern)}: ${split.error}`);
  const [first, ...rest] = split.words;
  if (first === undefined) throw new Error("empty pattern");
  const path = [basename(first)];
  const flags: string[] = [];
  for (const word of rest) (word.length > 1 && word.startsWith("-") ? flags : path).push(word);
  let node = trie.root;
  for (const word of path) {
    node.children ??= new Map();
    let next = node.children.get(word);
    if (!next) {
      next = { children: null, rules: [] };
      node.children.set(word, next);
    }
    node = next;
  }
  node.rules.push({ ...rule, flags, order: trie.size++ });
}

export interface MatchResult {
  /** rules whose path and flags matched */
  rules: RuleRef[];
  /** why the command could not be judged statically, if it could not */
  unknown: string | null;
}

/** How many walk steps one command may cost before it is judged unknowable (unknown options branch). */
const WALK_BUDGET = 512;

interface WalkState {
  words: readonly ShellWord[];
  profile: CompiledProfile | undefined;
  rules: RuleRef[];
  unknown: string | null;
  budget: number;
}

/** Could a dynamic word expand to an option? Only if its source does not start with a literal non-dash character. */
function mayBeOption(word: ShellWord): boolean {
  const c = word.value.charCodeAt(0);
  // $, ", ', `, \, -, or empty: the expansion may start with '-'
  return !(
    (c >= 48 && c <= 57) || // 0-9
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    c === 46 || c === 47 || c === 95 || c === 126 || c === 58 || c === 64 || c === 43 || c === 44 || c === 37 || c === 61 // . / _ ~ : @ + , % =
  );
}

function flagPresent(flag: string, words: readonly ShellWord[]): boolean {
  const short = flag.length === 2 && flag[0] === "-" && flag[1] !== "-";
  const hasEq = flag.includes("=");
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w.dynamic) continue;
    const v = w.value;
    if (v === flag) return true;
    if (!hasEq && v.length > flag.length && v.startsWith(flag) && v[flag.length] === "=") return true;
    // a bundle of short flags: -uf contains -f
    if (short && v.length > 2 && v[0] === "-" && v[1] !== "-" && /^-[A-Za-z0-9]+$/.test(v) && v.includes(flag[1]!)) return true;
  }
  return false;
}

function considerRules(node: TrieNode, st: WalkState): void {
  for (const rule of node.rules) {
    if (rule.flags.length === 0 || rule.flags.every((f) => flagPresent(f, st.words))) {
      st.rules.push(rule);
    } else if (rule.action !== "allow" && st.unknown === null) {
      const hidden = st.words.find((w, i) => i > 0 && w.dynamic && mayBeOption(w));
      if (hidden) {
        st.unknown = `${JSON.stringify(hidden.value)} may expand to ${rule.flags.join(" ")} (rule ${JSON.stringify(rule.pattern)} of policy ${rule.policy})`;
      }
    }
  }
}

function walk(node: TrieNode, start: number, afterDoubleDash: boolean, sawPositional: boolean, st: WalkState): void {
  if (--st.budget < 0) {
    st.unknown ??= "too many unrecognized options to analyze the command";
    return;
  }
  considerRules(node, st);
  const children = node.children;
  if (children === null) return;
  const words = st.words;
  let dd = afterDoubleDash;
  for (let j = start; j < words.length; j++) {
    const w = words[j]!;
    if (w.dynamic) {
      // `--opt=$X` stands alone; anything else may be the subcommand itself (or an option taking it)
      if (!dd && w.value.startsWith("-") && w.value.includes("=")) continue;
      st.unknown ??= `${JSON.stringify(w.value)} is not static where a subcommand may stand`;
      return;
    }
    const v = w.value;
    if (!dd && v === "--") {
      dd = true;
      continue;
    }
    if (!dd && v.length > 1 && v.charCodeAt(0) === 45 /* - */) {
      const profile = !sawPositional || st.profile?.optionsAnywhere ? st.profile : undefined;
      const kind = classifyOption(v, profile);
      if (kind === "known_with_value") j++;
      else if (kind === "unknown_maybe_value" && j + 1 < words.length) walk(node, j + 2, dd, sawPositional, st);
      continue;
    }
    const child = children.get(v);
    if (child) walk(child, j + 1, dd, true, st);
    return;
  }
}

/** Every rule whose pattern matches the command, and whether the command was unknowable. */
export function matchWords(
  trie: Trie,
  words: readonly ShellWord[],
  profiles: ReadonlyMap<string, CompiledProfile>,
): MatchResult {
  const first = words[0];
  if (!first) return { rules: [], unknown: null };
  if (first.dynamic) return { rules: [], unknown: `the command name ${JSON.stringify(first.value)} is not static` };
  const name = basename(first.value);
  const node = trie.root.children?.get(name);
  if (!node) return { rules: [], unknown: null };
  const st: WalkState = { words, profile: profiles.get(name), rules: [], unknown: null, budget: WALK_BUDGET };
  walk(node, 1, false, false, st);
  return { rules: st.rules, unknown: st.unknown };
}

/** The command's words with the tool's known global options removed, word 0 as basename (for display). */
export function normalizeWords(words: readonly ShellWord[], profiles: ReadonlyMap<string, CompiledProfile>): string[] {
  const first = words[0];
  if (!first) return [];
  const name = first.dynamic ? first.value : basename(first.value);
  const profile = first.dynamic ? undefined : profiles.get(name);
  const out = [name];
  let sawPositional = false;
  let dd = false;
  for (let j = 1; j < words.length; j++) {
    const w = words[j]!;
    const v = w.value;
    if (profile && !dd && !w.dynamic && (!sawPositional || profile.optionsAnywhere)) {
      if (v === "--") {
        dd = true;
        out.push(v);
        continue;
      }
      if (v.length > 1 && v.startsWith("-")) {
        const kind = classifyOption(v, profile);
        if (kind === "known_alone") continue;
        if (kind === "known_with_value") {
          j++;
          continue;
        }
      }
    }
    if (!w.dynamic && !v.startsWith("-")) sawPositional = true;
    out.push(v);
  }
  return out;
}
