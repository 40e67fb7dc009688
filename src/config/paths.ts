/** Where Airlock keeps its files on a workstation (DESIGN 2). */
import { join } from "node:path";
import { homedir } from "node:os";
import type { AirlockEnv } from "./env";

export interface AirlockPaths {
  home: string;
  bin: string;
  run: string;
  socket: string;
  daemonDb: string;
  gatewayDb: string;
  config: string;
  logs: string;
}

export function airlockPaths(env: AirlockEnv): AirlockPaths {
  const home = env.AIRLOCK_HOME ?? join(env.HOME ?? homedir(), ".airlock");
  return {
    home,
    bin: join(home, "bin"),
    run: join(home, "run"),
    socket: env.AIRLOCK_SOCKET ?? join(home, "run", "daemon.sock"),
    daemonDb: join(home, "daemon.db"),
    gatewayDb: join(home, "gateway.db"),
    config: join(home, "config.json"),
    logs: join(home, "logs"),
  };
}
