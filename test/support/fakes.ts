/**
 * Fake protected tools for e2e tests: shell scripts that record their argv and stdin, exit with a
 * chosen code, and can sleep to receive signals. And a fake agent: a script named like one
 * (`claude`) that runs a command as its child, so a shim below it sees an agent ancestor.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FakeTools {
  /** folder holding the fake real tools */
  realBin: string;
  /** folder holding symlinks named like the tools, pointing at the airlock binary */
  shimBin: string;
  /** where each fake tool writes what it saw */
  logDir: string;
  /** the record a fake tool left, or null if it never ran */
  record(tool: string): Promise<{ argv: string[]; stdin: string } | null>;
}

export async function fakeTools(root: string, airlock: string, tools: string[] = ["terraform", "kubectl", "helm"]): Promise<FakeTools> {
  const realBin = join(root, "real-bin");
  const shimBin = join(root, "airlock-home", "bin");
  const logDir = join(root, "tool-logs");
  for (const d of [realBin, shimBin, logDir]) mkdirSync(d, { recursive: true });
  for (const tool of tools) {
    const script = `#!/bin/sh
# fake ${tool}: record argv (one per line) and stdin, then behave as FAKE_MODE says
log="${logDir}/${tool}"
: > "$log.argv"
for a in "$@"; do printf '%s\\n' "$a" >> "$log.argv"; done
if [ -t 0 ]; then : > "$log.stdin"; else cat > "$log.stdin"; fi
case "$FAKE_MODE" in
  sleep) trap 'echo got-TERM >> "$log.signals"; exit 143' TERM; trap 'echo got-INT >> "$log.signals"; exit 130' INT; trap 'echo got-HUP >> "$log.signals"; exit 129' HUP; echo ready > "$log.ready"; while :; do sleep 0.05; done ;;
  exit) exit "$FAKE_EXIT" ;;
esac
echo "fake ${tool} ran"
exit 0
`;
    writeFileSync(join(realBin, tool), script);
    chmodSync(join(realBin, tool), 0o755);
    symlinkSync(airlock, join(shimBin, tool));
  }
  return {
    realBin,
    shimBin,
    logDir,
    async record(tool) {
      const argvFile = Bun.file(join(logDir, `${tool}.argv`));
      if (!(await argvFile.exists())) return null;
      const argv = (await argvFile.text()).split("\n").slice(0, -1);
      const stdin = await Bun.file(join(logDir, `${tool}.stdin`)).text();
      return { argv, stdin };
    },
  };
}

/** A script named like an agent that runs its arguments as a child (not exec), so it stays an ancestor. */
export function fakeAgent(dir: string, name = "claude"): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n"$@"\nexit $?\n`);
  chmodSync(path, 0o755);
  return path;
}
