// `import x from "./file.wasm" with { type: "file" }` gives the file's path (embedded in the binary).
declare module "*.wasm" {
  const path: string;
  export default path;
}

/** Injected by build.ts with `define`; absent under `bun run`. */
declare const AIRLOCK_VERSION: string;
