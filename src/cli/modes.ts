/**
 * The approval mode, local auto-approve patterns and fail mode of this workstation, in
 * $AIRLOCK_HOME/config.json (docs/approvals.md, Modes, patterns, fail mode). The daemon reads
 * them on each check. Policy blocks and a policy's `require_approval` always apply.
 */
import { defineCommand } from "citty";
import { readEnv } from "../config/env";
import { readConfigFile, updateConfigFile } from "../config/file";
import { airlockPaths } from "../config/paths";
import { err, out } from "../config/stdio";
import { splitWords } from "../shell/words";
import { AirlockError } from "../protocol/errors";
import { printJson } from "./_remote";

function configPath(): string {
  return airlockPaths(readEnv()).config;
}

const MAX_PATTERN = 512;

/**
 * A pattern as the daemon's matcher reads it: shell words, the first a command name (matched by
 * basename), then subcommands and required flags; a final `*` word means "any further words" (the
 * same as leaving it out). Returns the pattern with its words joined by one space.
 */
export function normalizePattern(raw: string): string {
  const text = raw.trim();
  if (text === "") throw new AirlockError("usage", "the pattern is empty: give a command prefix like 'kubectl get' or 'terraform plan *'");
  if (text.length > MAX_PATTERN) throw new AirlockError("usage", `the pattern is longer than ${MAX_PATTERN} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new AirlockError("usage", "the pattern holds a newline or another control character: give one command prefix");
  const star = /(^|\s)\*$/.test(text);
  const prefix = star ? text.replace(/\*$/, "").trim() : text;
  if (prefix === "") throw new AirlockError("usage", `'${text}' would approve every command: give a command prefix like 'kubectl get *'`);
  const split = splitWords(prefix);
  if (!split.ok) {
    throw new AirlockError("usage", `${split.error}${/[*?[\]]/.test(prefix) ? "; only a final '*' word is allowed (any further arguments), like 'kubectl get *'" : ""}`);
  }
  const [first] = split.words;
  if (first === undefined) throw new AirlockError("usage", "the pattern is empty");
  if (first.startsWith("-")) throw new AirlockError("usage", `the pattern must start with a command name, not ${JSON.stringify(first)}`);
  const words = split.words.map((w) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`));
  return `${words.join(" ")}${star ? " *" : ""}`;
}

/** Two spellings of the same pattern: `kubectl get` and `kubectl get *`. */
function sameRule(a: string, b: string): boolean {
  const strip = (p: string) => p.replace(/\s+\*$/, "");
  return strip(a) === strip(b);
}

function onePattern(args: { _: string[] }, usage: string): string {
  const raw = args._.join(" ");
  if (args._.length === 0 || raw.trim() === "") throw new AirlockError("usage", `missing the pattern: ${usage}`);
  return normalizePattern(raw);
}

const modeText = (auto: boolean) =>
  auto ? "auto-on: only what a policy marks require_approval needs a human" : "auto-off: every command of a governed agent needs approval unless it matches a local pattern";

export const autoOnCommand = defineCommand({
  meta: { name: "auto-on", description: "Skip approvals beyond the policies' own (the default): only a policy's require_approval asks a human. Policy blocks still apply" },
  args: { json: { type: "boolean", description: "Print the new settings as JSON" } },
  run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `auto-on takes no argument, got ${JSON.stringify(args._[0])}`);
    const c = updateConfigFile(configPath(), { auto: true });
    if (args.json) printJson({ auto: c.auto, fail_mode: c.fail_mode, patterns: c.auto_approve });
    else out(`${modeText(true)}\n`);
    return 0;
  },
});

export const autoOffCommand = defineCommand({
  meta: {
    name: "auto-off",
    description: "Gate every command of a governed agent on a human approval, except those matching a local pattern ('airlock approve'). Needs a paired approver ('airlock pair')",
  },
  args: { json: { type: "boolean", description: "Print the new settings as JSON" } },
  run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `auto-off takes no argument, got ${JSON.stringify(args._[0])}`);
    const c = updateConfigFile(configPath(), { auto: false });
    if (args.json) printJson({ auto: c.auto, fail_mode: c.fail_mode, patterns: c.auto_approve });
    else {
      out(`${modeText(false)}\n`);
      out(c.auto_approve.length === 0 ? "no local patterns yet: add some with 'airlock approve <pattern>'\n" : `${c.auto_approve.length} local pattern${c.auto_approve.length === 1 ? "" : "s"} ('airlock patterns')\n`);
    }
    return 0;
  },
});

export const approveCommand = defineCommand({
  meta: {
    name: "approve",
    description:
      "Add a local auto-approve pattern, used while auto is off: a command prefix (kubectl get) or the same with a final * (kubectl get *).\n\n" +
      "  airlock approve 'kubectl get *'\n  airlock approve terraform plan\n",
  },
  args: { pattern: { type: "positional", required: false, description: "Command prefix, e.g. 'kubectl get *'" }, json: { type: "boolean", description: "Print the patterns as JSON" } },
  run({ args }) {
    const pattern = onePattern(args, "airlock approve 'kubectl get *'");
    const path = configPath();
    const current = readConfigFile(path);
    const present = current.auto_approve.find((p) => sameRule(p, pattern));
    const c = present ? current : updateConfigFile(path, { auto_approve: [...current.auto_approve, pattern] });
    if (args.json) printJson({ added: present ? null : pattern, patterns: c.auto_approve, auto: c.auto });
    else {
      out(present ? `already approved: ${present}\n` : `approved: ${pattern}\n`);
      if (c.auto) err("airlock: note: auto is on, so patterns are not consulted; 'airlock auto-off' gates everything else on a human\n");
    }
    return 0;
  },
});

export const disapproveCommand = defineCommand({
  meta: { name: "disapprove", description: "Remove a local auto-approve pattern (as listed by 'airlock patterns')" },
  args: { pattern: { type: "positional", required: false, description: "The pattern to remove" }, json: { type: "boolean", description: "Print the patterns as JSON" } },
  run({ args }) {
    const pattern = onePattern(args, "airlock disapprove 'kubectl get *'");
    const path = configPath();
    const current = readConfigFile(path);
    const kept = current.auto_approve.filter((p) => !sameRule(p, pattern));
    if (kept.length === current.auto_approve.length) {
      throw new AirlockError("not_found", `no pattern ${JSON.stringify(pattern)}; the patterns are: ${current.auto_approve.length ? current.auto_approve.join(", ") : "(none)"}`);
    }
    const c = updateConfigFile(path, { auto_approve: kept });
    if (args.json) printJson({ removed: pattern, patterns: c.auto_approve, auto: c.auto });
    else out(`removed: ${pattern}\n`);
    return 0;
  },
});

export const patternsCommand = defineCommand({
  meta: { name: "patterns", description: "List the local auto-approve patterns (used while auto is off) and the mode" },
  args: { json: { type: "boolean", description: "Print as JSON" } },
  run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `patterns takes no argument; to add one, run 'airlock approve ${args._.join(" ")}'`);
    const c = readConfigFile(configPath());
    if (args.json) {
      printJson({ auto: c.auto, patterns: c.auto_approve });
      return 0;
    }
    out(`mode: ${c.auto ? "auto-on (patterns not consulted)" : "auto-off"}\n`);
    out(c.auto_approve.length === 0 ? "no patterns ('airlock approve <pattern>' adds one)\n" : `${c.auto_approve.map((p) => `  ${p}`).join("\n")}\n`);
    return 0;
  },
});

export const failModeCommand = defineCommand({
  meta: {
    name: "fail-mode",
    description:
      "What happens when an approval cannot be had for availability reasons (no pairing, gateway or daemon unreachable, timeout): closed blocks (the default), open allows. A signature that does not verify always blocks.\n\n" +
      "  airlock fail-mode closed\n  airlock fail-mode open\n  airlock fail-mode           # show it\n",
  },
  args: { mode: { type: "positional", required: false, description: "open or closed" }, json: { type: "boolean", description: "Print as JSON" } },
  run({ args }) {
    const path = configPath();
    if (args._.length === 0) {
      const c = readConfigFile(path);
      if (args.json) printJson({ fail_mode: c.fail_mode });
      else out(`fail mode: ${c.fail_mode}\n`);
      return 0;
    }
    if (args._.length > 1 || (args._[0] !== "open" && args._[0] !== "closed")) {
      throw new AirlockError("usage", `fail-mode takes open or closed, got ${JSON.stringify(args._.join(" "))}`);
    }
    const mode = args._[0] as "open" | "closed";
    const c = updateConfigFile(path, { fail_mode: mode });
    if (args.json) printJson({ fail_mode: c.fail_mode });
    else out(`fail mode: ${c.fail_mode}\n`);
    if (mode === "open") {
      err(
        "airlock: WARNING: fail mode is open: when no approver can be reached (no pairing, gateway or daemon down, timeout), actions that need approval RUN without one. Invalid signatures still block. 'airlock fail-mode closed' undoes it.\n",
      );
    }
    return 0;
  },
});
