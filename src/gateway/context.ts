/** What every route module receives: the injected dependencies plus the shared gateway pieces. */
import type { CompiledProfile } from "../policy/profiles";
import type { ShellAnalyzer } from "../shell/types";
import type { Store } from "../store/types";
import type { ApprovalsHub } from "./approvals-hub";
import type { RateLimiter, Toucher } from "./auth";
import type { EventBus } from "./events";
import type { Metrics } from "./metrics";

export interface Logger {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export interface GatewayDeps {
  store: Store;
  analyzer: ShellAnalyzer;
  profiles: ReadonlyMap<string, CompiledProfile>;
  version: string;
  log: Logger;
  now?: () => Date;
  /** folder (or embedded root) holding the built admin UI; null when there is none */
  webRoot?: string | null;
  /** the role used when a check names none */
  defaultRole?: string;
  failedAuth?: { max: number; windowMs: number };
  /** sign-in starts (POST /api/v1/auth/device) allowed per address per window */
  deviceStarts?: { max: number; windowMs: number };
  /** the URL people reach this gateway at (links such as the sign-in page); else the request's origin */
  publicUrl?: string | null;
  /** how long an approver socket may take to authenticate (default 10 s) */
  approverAuthTimeoutMs?: number;
}

export interface RouteContext extends GatewayDeps {
  now: () => Date;
  bus: EventBus;
  limiter: RateLimiter;
  toucher: Toucher;
  metrics: Metrics;
  defaultRole: string;
  /** approver sockets, presence, approval expiry */
  hub: ApprovalsHub;
  /** counts every sign-in start per address (the failed-auth `limiter` counts failures) */
  starts: RateLimiter;
}
