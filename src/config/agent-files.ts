/**
 * Where each supported agent keeps the user-level hook configuration that `airlock install
 * --agent` merges into (the agents' own documented locations):
 *
 *   claude  $CLAUDE_CONFIG_DIR/settings.json, default ~/.claude/settings.json   (hooks.PreToolUse)
 *   codex   $CODEX_HOME/hooks.json,          default ~/.codex/hooks.json         (hooks.PreToolUse)
 *   cursor  ~/.cursor/hooks.json                                                  (version 1, hooks.<event>)
 *   gemini  ~/.gemini/settings.json                                               (hooks.BeforeTool)
 *
 * The agents' own variables are read here, with the rest of the environment.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export const AGENTS = ["claude", "codex", "cursor", "gemini"] as const;
export type AgentName = (typeof AGENTS)[number];

export function isAgentName(value: string): value is AgentName {
  return (AGENTS as readonly string[]).includes(value);
}

export function agentConfigFile(agent: AgentName, env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME || homedir();
  switch (agent) {
    case "claude":
      return join(env.CLAUDE_CONFIG_DIR || join(home, ".claude"), "settings.json");
    case "codex":
      return join(env.CODEX_HOME || join(home, ".codex"), "hooks.json");
    case "cursor":
      return join(home, ".cursor", "hooks.json");
    case "gemini":
      return join(home, ".gemini", "settings.json");
  }
}
