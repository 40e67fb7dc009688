/** The agent hook adapters (DESIGN 1, 5): `airlock hook <agent>`. */
import type { Adapter, HookAgent } from "./core";
import { claude } from "./claude";
import { codex } from "./codex";
import { cursor } from "./cursor";
import { gemini } from "./gemini";

export { runHook, type Adapter, type HookAgent, type HookOptions } from "./core";

export const ADAPTERS: Readonly<Record<HookAgent, Adapter>> = { claude, codex, cursor, gemini };
