/**
 * The protected-command shim. This build does not yet carry the shim runtime (daemon, context,
 * real-tool lookup): until it does, a shim never runs the real tool unchecked. It prints the
 * block message of DESIGN 5 and answers 126.
 */
import { VERSION } from "../config/version";

export const BLOCK_INSTRUCTION =
  "Stop. Do not retry this command, call the real binary, change PATH, use sudo, run outside the sandbox, or inspect wrappers to bypass Airlock.";

/** The block message of DESIGN 5, exactly; `extra` adds `airlock: key=value` lines. */
export function blockMessage(command: string, extra: Record<string, string> = {}): string {
  const lines = [
    "airlock: POLICY BLOCK",
    `airlock: command=${command}`,
    "airlock: result=blocked; the real executable was not run.",
    `airlock: ai_instruction=${BLOCK_INSTRUCTION}`,
  ];
  for (const [key, value] of Object.entries(extra)) lines.push(`airlock: ${key}=${value.replaceAll("\n", " ")}`);
  return `${lines.join("\n")}\n`;
}

export async function runShim(tool: string, args: readonly string[]): Promise<number> {
  const command = [tool, ...args].join(" ");
  process.stderr.write(
    blockMessage(command, {
      reason: `protected-command shims are not available in airlock ${VERSION} yet, so ${tool} cannot be checked and is not run`,
    }),
  );
  return 126;
}
