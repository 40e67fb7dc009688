/** Fake hook dependencies for the hook unit tests: stdin is `input`, the daemon answers with `reply(path, body)`. */
import { leanEnv } from "../../src/config/lean";
import type { HookDeps } from "../../src/hooks/core";

export interface Sent {
  path: string;
  body: any;
  timeoutMs: number;
}

export function fakeDeps(input: string, reply: (path: string, body: any) => unknown, over: Partial<HookDeps> = {}, env: Record<string, string> = {}) {
  const sent: Sent[] = [];
  const d: Partial<HookDeps> = {
    env: leanEnv({ HOME: "/nonexistent", AIRLOCK_HOME: "/nonexistent/.airlock", ...env }),
    readInput: async () => input,
    request: async (path, body, timeoutMs) => {
      sent.push({ path, body, timeoutMs });
      return reply(path, body);
    },
    failMode: () => "closed",
    pid: 4242,
    ...over,
  };
  return { d, sent };
}
