/** `airlock use <role>` and `airlock current`: the default role of future governed sessions. */
import { defineCommand } from "citty";
import { seedPolicyFiles } from "../config/assets";
import { readEnv } from "../config/env";
import { DEFAULT_ROLE, readConfigFile, updateConfigFile } from "../config/file";
import { airlockPaths } from "../config/paths";
import { loadPolicySources } from "../policy/load";
import { AirlockError } from "../protocol/errors";
import { err, out } from "../config/stdio";

export const useCommand = defineCommand({
  meta: { name: "use", description: "Set the default role for future governed sessions: airlock use terraform-restricted-agent" },
  args: { role: { type: "positional", required: true, description: "Role id" } },
  run({ args }) {
    const role = args.role;
    if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(role)) throw new AirlockError("usage", `not a role id: ${JSON.stringify(role)}`);
    const paths = airlockPaths(readEnv());
    const seedRoles = [...loadPolicySources(seedPolicyFiles()).roles.keys()];
    updateConfigFile(paths.config, { default_role: role });
    out(`default role: ${role} (in ${paths.config}); new governed sessions use it\n`);
    if (!seedRoles.includes(role)) {
      err(`airlock: note: ${role} is not one of the built-in roles (${seedRoles.join(", ")}); the gateway must have it, or checks of its sessions fail closed\n`);
    }
    return 0;
  },
});

export const currentCommand = defineCommand({
  meta: { name: "current", description: "Show the default role for governed sessions, and where it comes from" },
  args: { json: { type: "boolean", description: "Print as JSON" } },
  run({ args }) {
    const paths = airlockPaths(readEnv());
    const configured = readConfigFile(paths.config).default_role;
    const role = configured ?? DEFAULT_ROLE;
    const source = configured ? paths.config : "built-in default";
    if (args.json) out(`${JSON.stringify({ role, source })}\n`);
    else out(`${role} (${source})\n`);
    return 0;
  },
});
