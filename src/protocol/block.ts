/**
 * The block message of DESIGN 5, exactly: what a shim prints to stderr and what a hook carries
 * as its deny reason, so an agent reads the same lines whichever path stopped it.
 */

export const BLOCK_INSTRUCTION =
  "Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.";

/** The block lines; `extra` adds `airlock: key=value` lines (empty values are left out). */
export function blockMessage(command: string, extra: Record<string, string | null | undefined> = {}): string {
  const lines = [
    "airlock: POLICY BLOCK",
    `airlock: command=${oneLine(command)}`,
    "airlock: result=blocked; the real executable was not run.",
    `airlock: ai_instruction=${BLOCK_INSTRUCTION}`,
  ];
  for (const [key, value] of Object.entries(extra)) {
    if (value !== null && value !== undefined && value !== "") lines.push(`airlock: ${key}=${oneLine(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One line of the message: a newline inside a value would forge a line of its own. */
function oneLine(text: string): string {
  return text.replaceAll(/\r\n|\r|\n/g, " ");
}
