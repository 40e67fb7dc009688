/**
 * Runs a citty command strictly: subcommands resolved by name, `--help` rendered without colour
 * in pipes, unknown options and missing values refused with exit 2 before anything runs.
 */
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { AirlockError } from "../protocol/errors";
import { isTerminal, out } from "../config/stdio";

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Refuses options the command does not define, and string options given no value. */
export function checkOptions(name: string, argsDef: ArgsDef, rawArgs: readonly string[]): void {
  const long = new Map<string, string>(); // --name → type
  const short = new Map<string, string>();
  for (const [key, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    long.set(kebab(key), def.type ?? "string");
    long.set(key, def.type ?? "string");
    const alias = (def as { alias?: string | string[] }).alias;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const a of aliases) (a.length === 1 ? short : long).set(a, def.type ?? "string");
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") return;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const optName = arg.slice(2, eq === -1 ? undefined : eq);
      const type = long.get(optName) ?? (optName.startsWith("no-") && long.get(optName.slice(3)) === "boolean" ? "boolean" : undefined);
      if (type === undefined) throw new AirlockError("usage", `unknown option --${optName} for ${name}; see '${name} --help'`);
      if (type !== "boolean" && eq === -1) {
        const next = rawArgs[i + 1];
        if (next === undefined || next === "--") throw new AirlockError("usage", `option --${optName} of ${name} needs a value`);
        i++;
      }
    } else if (arg.length > 1 && arg.startsWith("-") && !/^-\d/.test(arg)) {
      const letter = arg.slice(1, 2);
      const type = short.get(letter);
      if (type === undefined) throw new AirlockError("usage", `unknown option ${arg} for ${name}; see '${name} --help'`);
      if (type !== "boolean" && arg.length === 2) {
        if (rawArgs[i + 1] === undefined) throw new AirlockError("usage", `option ${arg} of ${name} needs a value`);
        i++;
      }
    }
  }
}

function wantsHelp(rawArgs: readonly string[]): boolean {
  for (const arg of rawArgs) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

export async function runCommandDef(name: string, cmd: CommandDef<any>, rawArgs: readonly string[]): Promise<number> {
  const subCommands = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
  if (subCommands) {
    const [sub, ...rest] = rawArgs;
    if (sub === undefined || sub === "--help" || sub === "-h") {
      out(`${stripAnsi(await renderUsage(cmd))}\n`);
      return sub === undefined ? 2 : 0;
    }
    const next = subCommands[sub];
    if (!next) {
      throw new AirlockError("usage", `unknown command ${JSON.stringify(sub)} for ${name}; choose one of: ${Object.keys(subCommands).join(", ")}`);
    }
    return runCommandDef(`${name} ${sub}`, await resolve(next), rest);
  }
  if (wantsHelp(rawArgs)) {
    out(`${stripAnsi(await renderUsage(cmd))}\n`);
    return 0;
  }
  checkOptions(name, cmd.args ? await resolve(cmd.args) : {}, rawArgs);
  const { result } = await runCommand(cmd, { rawArgs: [...rawArgs] });
  return typeof result === "number" ? result : 0;
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
  return !process.env.NO_COLOR && isTerminal(1) ? text : text.replace(/\u001b\[[0-9;]*m/g, "");
}
