/**
 * The only build recipe: `bun run build.ts` → `dist/airlock`, one self-contained executable.
 *
 * - lazy `import()`s become separate chunks (`splitting`), so `airlock --version` and the shim
 *   path load only what they use; `--bytecode` needs `--format=esm` (top-level await, import.meta);
 * - the binary never reads a bunfig.toml or .env from the working directory: a hostile checkout
 *   must not reconfigure a security tool;
 * - `policies/` and `shims/` are embedded as folders, the tree-sitter wasm files as file imports,
 *   `web-dist/` once the UI exists.
 */
import { existsSync, mkdirSync } from "node:fs";
import pkg from "./package.json" with { type: "json" };

async function gitDescribe(): Promise<string> {
  try {
    const out = await Bun.$`git rev-parse --short HEAD`.quiet().nothrow();
    return out.exitCode === 0 ? out.stdout.toString().trim() : "";
  } catch {
    return "";
  }
}

export async function build(options: { outfile?: string; quiet?: boolean } = {}): Promise<string> {
  const outfile = options.outfile ?? "dist/airlock";
  const sha = await gitDescribe();
  const version = sha ? `${pkg.version}+${sha}` : pkg.version;
  mkdirSync("dist", { recursive: true });
  const assets = ["policies", "shims"];
  if (existsSync("web-dist")) assets.push("web-dist");
  const started = performance.now();
  const result = await Bun.build({
    entrypoints: ["src/main.ts"],
    compile: { outfile, assets, autoloadBunfig: false, autoloadDotenv: false },
    splitting: true,
    minify: true,
    bytecode: true,
    format: "esm",
    target: "bun",
    define: { AIRLOCK_VERSION: JSON.stringify(version) },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("build failed");
  }
  if (!options.quiet) {
    const size = Bun.file(outfile).size / 1024 / 1024;
    console.error(`built ${outfile} (airlock ${version}, ${size.toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms`);
  }
  return outfile;
}

if (import.meta.main) {
  try {
    await build();
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
