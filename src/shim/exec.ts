/**
 * Runs the real tool in the shim's place: inherited stdio (interactive prompts work), signals
 * forwarded, the tool's exit code returned (128 + n when a signal ended it).
 *
 * Signal handlers are armed as early as possible (`armSignals()` at shim start-up): a handler
 * installed only after the spawn is not reliably in place in a compiled binary when a signal
 * arrives a few milliseconds later, and the shim would die leaving the tool orphaned. A signal
 * that arrives before the tool exists is remembered and delivered as soon as it does.
 */
import type { Subprocess } from "bun";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Forwarded = (typeof FORWARDED)[number];

export interface SignalRelay {
  /** the first signal received while no child was running, if any */
  readonly pending: Forwarded | null;
  attach(child: Subprocess): void;
  /** calls `fn` on the first signal received while no child runs (a shim waiting for approval cancels) */
  onSignal(fn: () => void): void;
  disarm(): void;
}

export function armSignals(): SignalRelay {
  // Ctrl-C at a terminal already reaches the child (same process group): forwarding it too would
  // deliver it twice (Terraform reads a second interrupt as "cancel now"). From a non-terminal
  // caller (an agent killing the command) the signal reached only us, so it is forwarded.
  // (asked only when a SIGINT arrives: touching process.stdin costs milliseconds at start-up)
  let child: Subprocess | null = null;
  let pending: Forwarded | null = null;
  const listeners: (() => void)[] = [];
  const forward = (signal: Forwarded) => {
    if (signal === "SIGINT" && child && process.stdin.isTTY) return;
    if (!child) {
      pending ??= signal;
      for (const fn of listeners.splice(0)) fn();
      return;
    }
    try {
      child.kill(signal);
    } catch {
      // the child already exited
    }
  };
  const handlers = FORWARDED.map((signal) => [signal, () => forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return {
    get pending() {
      return pending;
    },
    attach(c) {
      child = c;
      if (pending) forward(pending);
    },
    onSignal(fn) {
      if (pending) fn();
      else listeners.push(fn);
    },
    disarm() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}

/** Linux/macOS numbers of the signals a tool is commonly ended by (node:os is too slow to load here). */
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function signalExitCode(signal: string): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

export async function runTool(
  path: string,
  argv0: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { relay?: SignalRelay; onStart?: (pid: number) => void | Promise<void> } = {},
): Promise<number> {
  const relay = options.relay ?? armSignals();
  try {
    const child = Bun.spawn([path, ...args], { argv0, env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
    relay.attach(child);
    if (options.onStart) await options.onStart(child.pid);
    const code = await child.exited;
    return child.signalCode ? signalExitCode(String(child.signalCode)) : code;
  } finally {
    relay.disarm();
  }
}
