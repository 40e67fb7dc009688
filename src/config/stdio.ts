/**
 * Writing to stdout and stderr. In a compiled Bun binary the first `process.stdout.write` or
 * `process.stderr.write` into a pipe costs ~10 ms (stream set-up) — more than the whole shim
 * budget — while `console.log`/`console.error` cost nothing and are flushed before
 * `process.exit`. Everything Airlock prints goes through these two functions.
 */

function line(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** Writes `text` to stdout (a missing final newline is added). */
export function out(text: string): void {
  console.log(line(text));
}

/** Writes `text` to stderr (a missing final newline is added). */
export function err(text: string): void {
  console.error(line(text));
}

/**
 * Whether fd 1 (stdout) or 2 (stderr) is a terminal, for colours. `process.stdout.isTTY` sets up
 * the stream (~10 ms) and node:tty costs ~3 ms to load; a character device check is enough here
 * (/dev/null counts as one, which only means colour codes nobody reads).
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    return require("node:fs").fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}
