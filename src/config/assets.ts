/**
 * Files shipped inside the binary: the seed `policies/`, the tool profiles and agent assets under
 * `shims/`, and the tree-sitter wasm files. `build.ts` embeds the folders with `compile.assets`
 * (reachable through node:fs under `/$bunfs/root`); under `bun run`/`bun test` the same paths
 * resolve to the repository checkout.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import coreWasmPath from "../../node_modules/web-tree-sitter/web-tree-sitter.wasm" with { type: "file" };
import bashWasmPath from "../../node_modules/tree-sitter-bash/tree-sitter-bash.wasm" with { type: "file" };
import { AirlockError } from "../protocol/errors";

import { assetRoot } from "./asset-root";

export { assetRoot };

export interface SourceFile {
  path: string;
  text: string;
}

export interface PolicySourceFiles {
  policies: SourceFile[];
  roles: SourceFile[];
  tests: SourceFile[];
  profiles: SourceFile[];
  agents: SourceFile | null;
}

function jsonFiles(dir: string, shownAs: string): SourceFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => ({ path: join(shownAs, name), text: readFileSync(join(dir, name), "utf8") }));
}

/** The tool profiles shipped with the binary (`shims/tools/*.json`). */
export function profileFiles(): SourceFile[] {
  return jsonFiles(join(assetRoot(), "shims", "tools"), "shims/tools");
}

/**
 * Reads a policies folder laid out as `policies/*.json` (policies), `roles/*.json`, `tests/*.json`
 * and `known-agents.json`. Problems are the loader's job; this only reads.
 */
export function readPolicyDir(dir: string, shownAs = dir): PolicySourceFiles {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new AirlockError("invalid_input", `policies folder not found: ${dir}`);
  }
  if (!st.isDirectory()) throw new AirlockError("invalid_input", `not a folder: ${dir}`);
  const agentsPath = join(dir, "known-agents.json");
  return {
    policies: jsonFiles(join(dir, "policies"), join(shownAs, "policies")),
    roles: jsonFiles(join(dir, "roles"), join(shownAs, "roles")),
    tests: jsonFiles(join(dir, "tests"), join(shownAs, "tests")),
    profiles: profileFiles(),
    agents: existsSync(agentsPath) ? { path: join(shownAs, "known-agents.json"), text: readFileSync(agentsPath, "utf8") } : null,
  };
}

/** The seed policies embedded in the binary. */
export function seedPolicyFiles(): PolicySourceFiles {
  return readPolicyDir(join(assetRoot(), "policies"), "(embedded) policies");
}

/** Reads one file given on the command line, with a clear error. */
export function readUserFile(path: string): SourceFile {
  try {
    return { path, text: readFileSync(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a folder, not a file" : (error as Error).message;
    throw new AirlockError("invalid_input", `cannot read ${path}: ${why}`);
  }
}

/** Shows a path relative to the working directory when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && rel.length < path.length ? rel : path;
}

export async function shellWasm(): Promise<{ coreWasm: Uint8Array; bashWasm: Uint8Array }> {
  const [coreWasm, bashWasm] = await Promise.all([Bun.file(coreWasmPath).bytes(), Bun.file(bashWasmPath).bytes()]);
  return { coreWasm, bashWasm };
}
