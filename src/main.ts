/**
 * Entry of the one binary. The name it was invoked by picks the face: a registered protected
 * tool (`terraform`, `kubectl`, ... through a symlink) is the shim; anything else is the CLI.
 * Only this file calls process.exit.
 */
import { PROTECTED_TOOLS } from "./shim/tools";

const argv0 = process.argv0;
const invokedAs = argv0.slice(argv0.lastIndexOf("/") + 1);
const args = process.argv.slice(2);

let code: number;
if (PROTECTED_TOOLS.has(invokedAs)) {
  const { runShim } = await import("./shim/entry");
  code = await runShim(invokedAs, args);
} else {
  const { runCli } = await import("./cli/entry");
  code = await runCli(args);
}
process.exit(code);
