/** Logs go to stderr (stdout belongs to the protocol and --json); JSON lines for servers. */
import { createConsola, type ConsolaInstance, type LogObject } from "consola";
import { err, isTerminal } from "../config/stdio";

const LEVELS = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 } as const;

export function createLogger(options: { level?: keyof typeof LEVELS; format?: "pretty" | "json"; tag: string }): ConsolaInstance {
  const level = LEVELS[options.level ?? "info"];
  if (options.format === "json") {
    return createConsola({
      level,
      reporters: [
        {
          log(obj: LogObject) {
            const [message, ...rest] = obj.args;
            const line: Record<string, unknown> = { time: obj.date.toISOString(), level: obj.type, tag: obj.tag || options.tag, msg: typeof message === "string" ? message : JSON.stringify(message) };
            const extra = rest.map((r) => (r instanceof Error ? { error: r.message } : r));
            if (extra.length) line.data = extra.length === 1 ? extra[0] : extra;
            err(`${JSON.stringify(line)}\n`);
          },
        },
      ],
    }).withTag(options.tag);
  }
  return createConsola({ level, stdout: process.stderr, stderr: process.stderr, formatOptions: { colors: !process.env.NO_COLOR && isTerminal(2), date: true } }).withTag(options.tag);
}
