/**
 * Runs the real tool in the shim's place: inherited stdio (interactive prompts work), signals
 * forwarded, the tool's exit code returned (128 + n when a signal ended it).
 */
import { constants } from "node:os";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export async function runTool(
  path: string,
  argv0: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  onStart?: (pid: number) => void | Promise<void>,
): Promise<number> {
  const child = Bun.spawn([path, ...args], { argv0, env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  // Ctrl-C at a terminal already reaches the child (same process group): forwarding it too would
  // deliver it twice (Terraform reads a second interrupt as "cancel now"). From a non-terminal
  // caller (an agent killing the command) the signal reached only us, so it is forwarded.
  const interactive = Boolean(process.stdin.isTTY);
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      if (signal === "SIGINT" && interactive) return;
      try {
        child.kill(signal);
      } catch {
        // the child already exited
      }
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  if (onStart) await onStart(child.pid);
  const code = await child.exited;
  for (const [signal, handler] of handlers) process.off(signal, handler);
  if (child.signalCode) {
    const n = constants.signals[child.signalCode as keyof typeof constants.signals];
    return 128 + (typeof n === "number" ? n : 0);
  }
  return code;
}
