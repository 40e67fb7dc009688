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
  /** `airlock sign-in`'s credential: gateway URL, user token, who (0600) */
  credentials: string;
  /** the headless approver's key file (`airlock approver`): JWKs, approver token, pairing (0600) */
  approverKeys: string;
  /** a sign-in or pairing started with --no-wait and not finished yet (0600) */
  pendingSignIn: string;
  pendingPair: string;
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
    credentials: join(home, "credentials.json"),
    approverKeys: join(home, "approver.json"),
    pendingSignIn: join(home, "run", "sign-in.pending.json"),
    pendingPair: join(home, "run", "pair.pending.json"),
  };
}
