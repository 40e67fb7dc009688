/**
 * What the shell analyzer tells the policy engine about a shell string.
 *
 * The analyzer never decides anything: it reports every simple command the string would run,
 * word by word, and marks what it could not know statically. The engine decides.
 */

/** One word of a command, unquoted the way bash would. */
export interface ShellWord {
  /** The literal value after bash-accurate unquoting (`'a'b"c"\d` → `abcd`). */
  value: string;
  /**
   * True when the value cannot be known without running something: parameter/arithmetic/command
   * expansion, brace expansion, unquoted glob characters (`*`, `?`, `[`), or anything the analyzer
   * did not fully understand. `value` then holds the raw source text of the word.
   */
  dynamic: boolean;
}

/** One simple command the string would run. */
export interface ShellCommand {
  /** The command's words: name first, then arguments. Assignments and redirections are excluded. */
  words: ShellWord[];
  /** Source text of the command (for explanations), at most 200 characters. */
  text: string;
  /**
   * How it was reached, outermost first: e.g. `["sudo"]`, `["bash -c"]`, `["$(...)"]`,
   * `["xargs"]`, `["find -exec"]`, `["eval"]`, `["heredoc → bash"]`. Empty at top level.
   */
  via: string[];
}

/** Something the analyzer could not know statically. */
export interface ShellUnknown {
  reason:
    | "parse_error"
    | "too_large"
    | "too_deep"
    | "dynamic_shell_input";
  /** Human-readable explanation naming the construct. */
  message: string;
  /** The source text concerned, at most 200 characters. */
  text: string;
}

export interface ShellAnalysis {
  commands: ShellCommand[];
  unknowns: ShellUnknown[];
}

export interface ShellAnalyzer {
  analyze(source: string): ShellAnalysis;
}

export interface ShellLimits {
  /** Maximum source length in bytes (default 65536). */
  maxBytes: number;
  /** Maximum nesting of `bash -c` / eval / heredoc-into-shell recursion (default 8). */
  maxDepth: number;
}
