/** Whether stack traces and debug logs are wanted (AIRLOCK_LOG=debug|trace). Tiny on purpose: the CLI entry loads it. */
export function debugEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return env.AIRLOCK_LOG === "debug" || env.AIRLOCK_LOG === "trace";
}
