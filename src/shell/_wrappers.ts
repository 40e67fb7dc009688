/**
 * Option tables for commands that run other commands (wrappers) and a small getopt that finds where
 * the inner command starts. Every wrapper here stops option parsing at the first operand (GNU `+`
 * getopt mode), which is what the real tools do.
 */

/** The view of a word that option parsing needs. */
export interface OptWord {
  /** Unquoted value (meaningful only when not dynamic). */
  text: string;
  dynamic: boolean;
}

export interface OptSpec {
  /** Short options that take a value (attached `-uroot` or the next word `-u root`). */
  value?: string;
  /** Short options whose value is optional and only ever attached (`xargs -i{}`). */
  optional?: string;
  /** Long options that take a value (`--user=root` or `--user root`); unique prefixes accepted. */
  longValue?: readonly string[];
  /** Long options whose value is optional and only given with `=`. */
  longOptional?: readonly string[];
  /** `-5` (a number as an option, `nice -5`). */
  numeric?: boolean;
}

export interface ParsedOptions {
  /** Index of the first operand (words.length when there is none). */
  next: number;
  /** Short letters and long names seen (long names resolved to their full name when known). */
  seen: Set<string>;
  /** Values of value-taking options (last one wins), keyed like `seen`. */
  values: Map<string, string>;
}

function resolveLong(name: string, list: readonly string[] | undefined): string | null {
  if (!list) return null;
  if (list.includes(name)) return name;
  if (name.length < 2) return null;
  let found: string | null = null;
  for (const l of list) {
    if (l.startsWith(name)) {
      if (found) return null; // ambiguous
      found = l;
    }
  }
  return found;
}

/** Parse options from `start`; stops at the first operand, `--` (consumed) or a dynamic word. */
export function parseOptions(words: readonly OptWord[], start: number, spec: OptSpec): ParsedOptions {
  const seen = new Set<string>();
  const values = new Map<string, string>();
  const value = spec.value ?? "";
  const optional = spec.optional ?? "";
  let i = start;
  while (i < words.length) {
    const w = words[i]!;
    if (w.dynamic) break;
    const v = w.text;
    if (v === "--") {
      i++;
      break;
    }
    if (v.length < 2 || v[0] !== "-") break;
    if (v[1] === "-") {
      const eq = v.indexOf("=");
      const rawName = eq < 0 ? v.slice(2) : v.slice(2, eq);
      const longValue = resolveLong(rawName, spec.longValue);
      const longOptional = longValue ? null : resolveLong(rawName, spec.longOptional);
      const name = longValue ?? longOptional ?? rawName;
      seen.add(name);
      if (eq >= 0) {
        values.set(name, v.slice(eq + 1));
      } else if (longValue) {
        const n = words[i + 1];
        if (n) values.set(name, n.text);
        i++;
      }
      i++;
      continue;
    }
    // a cluster of short options
    let consumedNext = false;
    for (let k = 1; k < v.length; k++) {
      const ch = v[k]!;
      if (spec.numeric && ch >= "0" && ch <= "9") {
        seen.add("#");
        values.set("#", v.slice(k));
        break;
      }
      seen.add(ch);
      if (value.includes(ch)) {
        if (k + 1 < v.length) values.set(ch, v.slice(k + 1));
        else {
          const n = words[i + 1];
          if (n) values.set(ch, n.text);
          consumedNext = true;
        }
        break;
      }
      if (optional.includes(ch)) {
        values.set(ch, v.slice(k + 1));
        break;
      }
    }
    i += consumedNext ? 2 : 1;
  }
  return { next: Math.min(i, words.length), seen, values };
}

/** Simple wrappers: options, then (after `positional` fixed operands) the inner command. */
export interface SimpleWrapper {
  spec: OptSpec;
  /** Fixed operands before the command (timeout DURATION, chroot NEWROOT, taskset MASK, chrt PRIO). */
  positional?: number;
  /** Options after which the wrapper runs no command. */
  none?: readonly string[];
  /** Skip `NAME=VALUE` words before the command (sudo). */
  assignments?: boolean;
}

export const SIMPLE_WRAPPERS: Record<string, SimpleWrapper> = {
  sudo: {
    spec: {
      value: "ughpCDrtTUcaR",
      longValue: [
        "user", "group", "host", "prompt", "close-from", "chdir", "role", "type", "command-timeout",
        "other-user", "login-class", "auth-type", "chroot",
      ],
      longOptional: ["preserve-env"],
    },
    none: ["e", "edit", "v", "validate", "V", "version", "help"],
    assignments: true,
  },
  doas: { spec: { value: "uC" } },
  command: { spec: {}, none: ["v", "V"] },
  builtin: { spec: {} },
  exec: { spec: { value: "a" } },
  nohup: { spec: {} },
  nice: { spec: { value: "n", longValue: ["adjustment"], numeric: true } },
  ionice: {
    spec: { value: "cnpPu", longValue: ["class", "classdata", "pid", "pgid", "uid"] },
    none: ["p", "P", "u", "pid", "pgid", "uid"],
  },
  timeout: { spec: { value: "sk", longValue: ["signal", "kill-after"] }, positional: 1 },
  time: { spec: { value: "fo", longValue: ["format", "output"] } },
  stdbuf: { spec: { value: "ioe", longValue: ["input", "output", "error"] } },
  setsid: { spec: {} },
  chroot: { spec: { longValue: ["userspec", "groups"] }, positional: 1 },
  taskset: { spec: {}, positional: 1, none: ["p", "pid"] },
  chrt: { spec: { value: "TPD", longValue: ["sched-runtime", "sched-period", "sched-deadline"] }, positional: 1, none: ["p", "pid", "m", "max"] },
  busybox: { spec: {} },
  unbuffer: { spec: {} },
  coproc: { spec: {} },
  caffeinate: { spec: { value: "tw" } },
};

export const XARGS_SPEC: OptSpec = {
  value: "adEILnPs",
  optional: "iel",
  longValue: ["arg-file", "delimiter", "max-args", "max-procs", "max-chars", "process-slot-var"],
  longOptional: ["eof", "replace", "max-lines"],
};

export const WATCH_SPEC: OptSpec = {
  value: "nqs",
  optional: "d",
  longValue: ["interval", "equexit", "shotsdir"],
  longOptional: ["differences"],
};

export const FLOCK_SPEC: OptSpec = {
  value: "wE",
  longValue: ["timeout", "wait", "conflict-exit-code"],
};

export const SU_VALUE = "csgGwC";
export const SU_LONG_VALUE = ["command", "session-command", "shell", "group", "supp-group", "whitelist-environment", "user"];

/** Shells whose `-c STRING` / stdin script is analyzed recursively. */
export const SHELLS = new Set([
  "bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "rbash", "yash", "posh", "ksh93", "pdksh", "oksh", "fish",
]);

export type ShellMode =
  /** `index` is the script word; `inline` when the script is the `=value` of that word (`--command=..`). */
  | { kind: "c"; index: number; inline?: boolean }
  | { kind: "stdin" }
  | { kind: "file"; index: number };

/**
 * How a shell invocation gets its script: `-c` (index of the script word; options may follow
 * `-c`), stdin (`-s`, or no operand), or a script file (the first operand). A dynamic word before
 * the script is known is taken as the script (file) itself: what runs is then unknown either way.
 */
export function shellMode(words: readonly OptWord[], start: number): ShellMode {
  let cmode = false;
  let smode = false;
  let i = start;
  while (i < words.length) {
    const w = words[i]!;
    if (w.dynamic) {
      // after -c the first operand is the script; otherwise a script file (or an option) only
      // known at run time
      return cmode ? { kind: "c", index: i } : { kind: "file", index: i };
    }
    const v = w.text;
    if (v === "--" || v === "-") {
      i++;
      break;
    }
    if (v.startsWith("--")) {
      const name = v.slice(2);
      if (name === "rcfile" || name === "init-file") {
        i += 2;
        continue;
      }
      if (name.startsWith("command=")) return { kind: "c", index: i, inline: true }; // fish --command=...
      if (name === "command") {
        cmode = true;
      }
      i++;
      continue;
    }
    if ((v[0] === "-" || v[0] === "+") && v.length > 1) {
      let extra = 0;
      for (let k = 1; k < v.length; k++) {
        const ch = v[k];
        if (ch === "c") cmode = true;
        else if (ch === "s") smode = true;
        else if (ch === "o" || ch === "O") extra++;
      }
      i += 1 + extra;
      continue;
    }
    break;
  }
  if (cmode) return { kind: "c", index: i };
  if (i < words.length && !smode) return { kind: "file", index: i };
  return { kind: "stdin" };
}
