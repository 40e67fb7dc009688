/** `airlock shim <tool> [args...]`: the shim face, reached by name instead of through a symlink. */
import { defineCommand } from "citty";
import { PROTECTED_TOOLS } from "../shim/tools";
import { runShim } from "../shim/entry";
import { AirlockError } from "../protocol/errors";
import { out } from "../config/stdio";

/** Every argument after the tool is the tool's own: nothing here parses them. */
export async function runShimCommand(args: readonly string[]): Promise<number> {
  const [tool, ...rest] = args;
  if (tool === "--help" || tool === "-h") {
    out(`Usage: airlock shim <tool> [args...]\n\nRuns a protected tool through Airlock's checkpoint, exactly as a symlink named like the tool does.\nProtected tools: ${[...PROTECTED_TOOLS].join(", ")}\n`);
    return 0;
  }
  if (tool === undefined) throw new AirlockError("usage", "airlock shim needs a tool: airlock shim terraform plan");
  if (!PROTECTED_TOOLS.has(tool)) {
    throw new AirlockError("usage", `${JSON.stringify(tool)} is not a protected tool; protected tools: ${[...PROTECTED_TOOLS].join(", ")}`);
  }
  return runShim(tool, rest);
}

export const shimCommand = defineCommand({
  meta: {
    name: "shim",
    description: `Run a protected tool through Airlock's checkpoint, as a symlink named like the tool does: airlock shim terraform plan. Tools: ${[...PROTECTED_TOOLS].join(", ")}`,
  },
  args: { tool: { type: "positional", description: "The protected tool", required: true } },
  run: ({ rawArgs }) => runShimCommand(rawArgs),
});
