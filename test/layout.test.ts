/**
 * DESIGN section 9 as a test: each folder imports only what the table allows, the pure folders do
 * no I/O, only main.ts calls process.exit, and only src/config reads AIRLOCK_* variables.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "..", "src");
const PURE = ["policy", "shell", "audit", "approvals", "protocol"];

const ALLOWED: Record<string, string[]> = {
  main: ["cli", "shim"],
  cli: ["gateway", "daemon", "shim", "hooks", "client", "store", "config", ...PURE],
  gateway: ["store", "config", ...PURE],
  daemon: ["store", "client", "config", ...PURE],
  shim: ["client", "config", ...PURE],
  hooks: ["client", "config", ...PURE],
  client: ["protocol"],
  store: ["protocol", "audit"],
  config: ["protocol"],
  policy: ["shell", "protocol"],
  shell: [],
  audit: ["protocol"],
  approvals: ["protocol"],
  protocol: [],
  web: ["protocol", "approvals"],
};

/** Modules that do I/O: a pure folder importing one of these is not pure. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|http|https|http2|dgram|dns|os|tls|worker_threads|cluster|readline|process)$|^bun:sqlite$|^bun$/;
const IO_CALLS = /\b(Bun\.(file|write|spawn|spawnSync|serve|connect|listen|\$)|fetch\(|process\.(env|argv|stdin|stdout|stderr|cwd|chdir|kill))/;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(ts|tsx)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

function folderOf(path: string): string {
  const rel = relative(SRC, path);
  return rel === "main.ts" ? "main" : rel.split("/")[0]!;
}

function imports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[^\w.])(?:import|export)\s*(?:[^"'`;]*?\sfrom\s*)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2])!);
  return out;
}

const sources = [...files(SRC)].map((path) => ({ path, folder: folderOf(path), text: readFileSync(path, "utf8") }));

describe("DESIGN 9 layout", () => {
  test("every source file lives in a known folder", () => {
    const unknown = sources.filter((s) => !(s.folder in ALLOWED)).map((s) => relative(SRC, s.path));
    expect(unknown).toEqual([]);
  });

  test("folders import only the folders the table allows", () => {
    const violations: string[] = [];
    for (const s of sources) {
      for (const spec of imports(s.text)) {
        if (!spec.startsWith(".")) continue;
        const target = resolve(dirname(s.path), spec);
        if (!target.startsWith(SRC)) continue; // assets outside src (node_modules wasm)
        // `../approvals` is the folder's index.ts; `../x/y` is a file
        const file = target.endsWith(".ts") ? target : existsSync(join(target, "index.ts")) ? join(target, "index.ts") : `${target}.ts`;
        const to = folderOf(file);
        if (to !== s.folder && !ALLOWED[s.folder]?.includes(to)) violations.push(`${relative(SRC, s.path)} imports ${spec} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("the pure folders do no I/O", () => {
    const violations: string[] = [];
    for (const s of sources.filter((x) => PURE.includes(x.folder))) {
      for (const spec of imports(s.text)) if (IO_MODULES.test(spec)) violations.push(`${relative(SRC, s.path)} imports ${spec}`);
      const code = s.text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      const call = code.match(IO_CALLS);
      if (call) violations.push(`${relative(SRC, s.path)} calls ${call[0]}`);
    }
    expect(violations).toEqual([]);
  });

  test("only main.ts calls process.exit", () => {
    const callers = sources.filter((s) => s.folder !== "main" && /process\.exit\s*\(/.test(s.text)).map((s) => relative(SRC, s.path));
    expect(callers).toEqual([]);
  });

  test("only src/config reads AIRLOCK_* variables", () => {
    const readers = sources.filter((s) => s.folder !== "config" && /process\.env\.AIRLOCK_|process\.env\[["']AIRLOCK_/.test(s.text)).map((s) => relative(SRC, s.path));
    expect(readers).toEqual([]);
  });

  test("output goes through config/stdio (process.stdout/stderr cost ~10 ms to set up in the binary)", () => {
    // allowed: the daemon (long-running), the audit export's streamed bytes (backpressure), and
    // the shim asking for a TTY only when a SIGINT arrives
    const allowed = /^(daemon\/|cli\/audit\.ts$|shim\/exec\.ts$|config\/stdio\.ts$)/;
    const offenders: string[] = [];
    for (const s of sources) {
      const rel = relative(SRC, s.path);
      if (allowed.test(rel)) continue;
      const code = s.text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      if (/process\.(stdout|stderr)\.(write|isTTY)|process\.stdin\.isTTY/.test(code)) offenders.push(rel);
    }
    expect(offenders).toEqual([]);
  });

  test("the layout check itself catches a violation", () => {
    expect(imports(`import { x } from "../store/sqlite";`)).toEqual(["../store/sqlite"]);
    expect(imports(`const m = await import("./check");`)).toEqual(["./check"]);
    expect(imports(`import type { A } from "../policy/engine";`)).toEqual(["../policy/engine"]);
    expect(IO_MODULES.test("node:fs")).toBe(true);
    expect(IO_CALLS.test("await Bun.file(x).text()")).toBe(true);
  });
});
