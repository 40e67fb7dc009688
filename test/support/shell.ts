/**
 * A warm shell analyzer for tests, created once per test process from the wasm files in node_modules.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createShellAnalyzer } from "../../src/shell/analyzer";
import type { ShellAnalyzer, ShellLimits } from "../../src/shell/types";

const require = createRequire(import.meta.url);

let wasm: { coreWasm: Uint8Array; bashWasm: Uint8Array } | null = null;

/** The two wasm files (web-tree-sitter core and tree-sitter-bash), read once. */
export function shellWasm(): { coreWasm: Uint8Array; bashWasm: Uint8Array } {
  if (!wasm) {
    wasm = {
      coreWasm: new Uint8Array(readFileSync(require.resolve("web-tree-sitter/web-tree-sitter.wasm"))),
      bashWasm: new Uint8Array(readFileSync(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm"))),
    };
  }
  return wasm;
}

const cache = new Map<string, Promise<ShellAnalyzer>>();

/** A warm analyzer (cached per test process and per limits). */
export function shellAnalyzer(limits?: Partial<ShellLimits>): Promise<ShellAnalyzer> {
  const key = JSON.stringify(limits ?? {});
  let a = cache.get(key);
  if (!a) {
    a = (async () => {
      const analyzer = await createShellAnalyzer({ ...shellWasm(), limits });
      analyzer.analyze("true"); // warm the first parse
      return analyzer;
    })();
    cache.set(key, a);
  }
  return a;
}
