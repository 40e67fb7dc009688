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
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import pkg from "./package.json" with { type: "json" };

async function gitDescribe(): Promise<string> {
  try {
    const out = await Bun.$`git rev-parse --short HEAD`.quiet().nothrow();
    return out.exitCode === 0 ? out.stdout.toString().trim() : "";
  } catch {
    return "";
  }
}

/**
 * The admin UI (src/web, Preact) → `web-dist/`: minified browser chunks and a stylesheet under
 * `assets/` with content hashes in their names, and `index.html` pointing at them. Preact's JSX
 * settings belong to this build only; the UI source uses `h()` so the project's tsconfig needs no JSX.
 * `entry.ts` loads the admin UI or the approver (`/approver`) as separate chunks; the approver's PWA
 * files (manifest, icons, service worker) sit at the root, unhashed, as browsers expect them.
 */
export async function buildWeb(outdir = "web-dist"): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await Bun.build({
    entrypoints: ["src/web/entry.ts"],
    outdir,
    target: "browser",
    format: "esm",
    minify: true,
    splitting: true,
    naming: { entry: "assets/[name]-[hash].[ext]", chunk: "assets/[name]-[hash].[ext]", asset: "assets/[name]-[hash].[ext]" },
    jsx: { runtime: "automatic", importSource: "preact" },
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("web build failed");
  }
  const js = result.outputs.find((o) => o.kind === "entry-point");
  if (!js) throw new Error("web build produced no entry point");
  const css = Buffer.concat([readFileSync("src/web/style.css"), readFileSync("src/web/approver/approver.css")]);
  const cssName = `assets/style-${Bun.hash(css).toString(16).padStart(16, "0").slice(0, 16)}.css`;
  writeFileSync(`${outdir}/${cssName}`, css);
  const jsName = js.path.slice(js.path.indexOf("assets/"));
  const html = readFileSync("src/web/index.html", "utf8").replace("%CSS%", `/${cssName}`).replace("%JS%", `/${jsName}`);
  writeFileSync(`${outdir}/index.html`, html);
  await buildApproverFiles(outdir);
}

async function buildApproverFiles(outdir: string): Promise<void> {
  const files: [string, string][] = [
    ["manifest.webmanifest", "approver.webmanifest"],
    ["icon.svg", "approver-icon.svg"],
    ["icon-192.png", "approver-icon-192.png"],
    ["icon-512.png", "approver-icon-512.png"],
  ];
  for (const [from, to] of files) writeFileSync(`${outdir}/${to}`, readFileSync(`src/web/approver/${from}`));
  const sw = await Bun.build({ entrypoints: ["src/web/approver/sw.ts"], target: "browser", format: "esm", minify: true });
  if (!sw.success) {
    for (const log of sw.logs) console.error(log);
    throw new Error("service worker build failed");
  }
  writeFileSync(`${outdir}/approver-sw.js`, await sw.outputs[0]!.text());
}

export async function build(options: { outfile?: string; quiet?: boolean } = {}): Promise<string> {
  const outfile = options.outfile ?? "dist/airlock";
  const sha = await gitDescribe();
  const version = sha ? `${pkg.version}+${sha}` : pkg.version;
  mkdirSync("dist", { recursive: true });
  await buildWeb();
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
