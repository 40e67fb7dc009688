/**
 * Tool profiles teach normalization which global options a tool takes before (or, for
 * `options_anywhere` tools, also after) its subcommand, and whether each takes a value.
 */
import type { ToolProfile } from "./schema";

export interface CompiledProfile {
  tool: string;
  optionsAnywhere: boolean;
  /** option name → takes a value */
  options: Map<string, boolean>;
  /** single-letter short options that take a value (`-n` → `-nfoo` is `-n foo`) */
  shortWithValue: Set<string>;
}

export function compileProfile(profile: ToolProfile): CompiledProfile {
  const options = new Map<string, boolean>();
  const shortWithValue = new Set<string>();
  for (const option of profile.options) {
    for (const name of option.names) {
      options.set(name, option.value);
      if (option.value && /^-[A-Za-z0-9]$/.test(name)) shortWithValue.add(name);
    }
  }
  return { tool: profile.tool, optionsAnywhere: profile.options_anywhere, options, shortWithValue };
}

export function compileProfiles(profiles: readonly ToolProfile[]): Map<string, CompiledProfile> {
  return new Map(profiles.map((p) => [p.tool, compileProfile(p)]));
}

export type OptionKind =
  /** a known option that stands alone (`-v`, `--opt=value`, `-nfoo`) */
  | "known_alone"
  /** a known option whose value is the next word */
  | "known_with_value"
  /** an option this profile does not know: `--x=y` stands alone; otherwise it may or may not take the next word */
  | "unknown_alone"
  | "unknown_maybe_value";

/** Classifies a word that starts with `-` (and is not `-` or `--`). */
export function classifyOption(word: string, profile: CompiledProfile | undefined): OptionKind {
  const eq = word.indexOf("=");
  if (eq > 0) {
    return profile?.options.has(word.slice(0, eq)) ? "known_alone" : "unknown_alone";
  }
  if (profile) {
    const takesValue = profile.options.get(word);
    if (takesValue !== undefined) return takesValue ? "known_with_value" : "known_alone";
    if (word.length > 2 && word[1] !== "-" && profile.shortWithValue.has(word.slice(0, 2))) return "known_alone";
  }
  return "unknown_maybe_value";
}
