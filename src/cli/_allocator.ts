/**
 * The gateway re-executes itself once so that its allocator keeps freed memory while the load lasts.
 *
 * Bun allocates with mimalloc. By default mimalloc hands memory back to the OS 10 ms after it is
 * freed. A gateway under ingest frees and re-allocates megabytes per request (request bodies,
 * rendered rows, messages to its writer thread), so the same pages are unmapped and faulted back in
 * over and over. That costs about 5% of its CPU at 100,000 decisions/s (test/bench/gateway.ts,
 * alternating runs: 16.5–16.6 against 17.9–18.1 ms of CPU per 1,000 events).
 *
 * A 10 s delay, jemalloc's own default for servers, keeps the pages while the load lasts and still
 * returns them once it is over. mimalloc reads its options from the environment as the process
 * starts, so the process replaces itself before it does anything (`process.execve`: same pid, same
 * open files and standard streams).
 *
 * An operator's own MIMALLOC_PURGE_DELAY wins. A run from source (`bun src/main.ts`, which has no
 * single executable to re-execute) is left as it is.
 */

/** mimalloc's purge delay for long-running server processes, in ms */
const SERVER_PURGE_DELAY_MS = "10000";

/** Re-executes the compiled binary with the server allocator setting, unless it is set already; returns if it cannot. */
export function execWithServerAllocator(): void {
  if (process.env.MIMALLOC_PURGE_DELAY !== undefined) return;
  if (!Bun.main.startsWith("/$bunfs/")) return; // not the compiled binary
  if (typeof process.execve !== "function") return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.argv.slice(2)], { ...process.env, MIMALLOC_PURGE_DELAY: SERVER_PURGE_DELAY_MS });
  } catch {
    // the process could not be replaced: it runs on with mimalloc's default, which only costs time
  }
}
