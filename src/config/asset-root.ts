/**
 * The folder holding `policies/` and `shims/`: the binary's embedded root (`/$bunfs/root`), or the
 * repository checkout under `bun run`/`bun test`. No imports: the shim loads this on every call.
 */
export function assetRoot(): string {
  const dir = import.meta.dir;
  if (dir.startsWith("/$bunfs") || dir.includes("~BUN")) return dir;
  return dir.slice(0, dir.lastIndexOf("/src/"));
}
