/**
 * Everything the daemon does with the gateway, once enrolled:
 * - bundles: the roles in use are fetched with If-None-Match and cached (daemon.db); refreshed on
 *   every policy/role change in the feed, on reconnect, and periodically;
 * - the change feed (`/api/v1/changes`, long-poll): policy and role changes refresh bundles, a
 *   session revocation revokes the local session, a revocation of this client stops governed
 *   checks (fail closed) until `airlock client enroll` runs again; the cursor is kept in daemon.db;
 * - the outbox, shipped strictly in seq order (a session's registration before its decisions),
 *   decisions in batches; a row leaves only once the gateway acknowledged it (idempotent by id),
 *   failures back off exponentially with jitter, and a row the gateway refuses for good moves to
 *   outbox_rejected (a refused batch is split until the refused row is alone);
 * - reachability: the last contact and the last error.
 * Not enrolled (standalone): bundles come from the embedded seed and the outbox keeps everything.
 * Enrollment by another process (`airlock client enroll`) is noticed within `enrollPollMs`.
 */
import { GatewayRequestError } from "../client/gateway";
import type { ConfigFile } from "../config/file";
import { AirlockError } from "../protocol/errors";
import type { DaemonStatus } from "../protocol/daemon";
import type { BundleCache, CompiledBundle } from "./bundles";
import type { DaemonDb, EnrollmentRow, OutboxRow } from "./db";
import type { DaemonGatewayApi, FeedEvent, GatewayApiFactory, GatewayDecision, GatewaySessionBody } from "./gateway-api";
import type { Logger } from "./log";

export interface SyncTiming {
  /** long-poll wait of the change feed, seconds (default 20) */
  feedWaitSeconds: number;
  /** first retry delay of the outbox and the feed, ms (default 500) */
  retryBaseMs: number;
  /** longest retry delay, ms (default 30 000) */
  retryMaxMs: number;
  /** how often a new enrollment by another process is looked for, ms (default 1000) */
  enrollPollMs: number;
  /** how often cached bundles are re-confirmed while reachable, ms (default: a quarter of the max age, 10 s to 5 min) */
  refreshMs: number | null;
  /** per gateway request, ms (default 10 000) */
  requestTimeoutMs: number;
  /** decisions per batch (default 500; the gateway takes at most 1000) */
  batchSize: number;
  /** how long a check waits for a bundle it has to fetch first, ms (default 1500) */
  inlineFetchMs: number;
  /** how long new outbox rows wait to be batched with the next ones, ms (default 50) */
  shipDelayMs: number;
}

export const DEFAULT_SYNC_TIMING: SyncTiming = {
  feedWaitSeconds: 20,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  enrollPollMs: 1000,
  refreshMs: null,
  requestTimeoutMs: 10_000,
  batchSize: 500,
  inlineFetchMs: 1500,
  shipDelayMs: 50,
};

export interface SyncDeps {
  db: DaemonDb;
  bundles: BundleCache;
  now: () => Date;
  log: Logger;
  config: () => ConfigFile;
  gatewayApi: GatewayApiFactory;
  timing: SyncTiming;
  random?: () => number;
  /** a check path's kick: a new outbox row */
  defaultRole: () => string;
}

/** A check that must be blocked, with the reason (not an internal error). */
export class PolicyUnavailable extends AirlockError {
  constructor(message: string) {
    super("unavailable", message);
  }
}

const MAX_BATCH_BYTES = 2 * 1024 * 1024;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  p.catch(() => {}); // a late failure is already recorded by refreshRole
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A 4xx the gateway will answer the same way every time: retrying cannot help. */
function isPermanent(error: unknown): boolean {
  if (!(error instanceof GatewayRequestError) || error.status === null) return false;
  return error.status >= 400 && error.status < 500 && ![401, 408, 425, 429].includes(error.status);
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof GatewayRequestError && error.status === 401;
}

export class Sync {
  private readonly deps: SyncDeps;
  private enrollment: EnrollmentRow | null = null;
  private api: DaemonGatewayApi | null = null;
  private generation = 0;
  private running = false;
  private dataVersion = -1;
  private feedAbort: AbortController | null = null;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private shipping: Promise<void> | null = null;
  private shipAgain = false;
  private shipTimer: ReturnType<typeof setTimeout> | null = null;
  private shipTimerAt = 0;
  /** after a failed shipment: no attempt before this time (ms) */
  private retryAt = 0;
  private batchLimit: number;
  private refreshing = new Map<string, Promise<CompiledBundle | null>>();
  private lastInlineRefresh = new Map<string, { at: number; why: string | null }>();
  private readonly rolesInUse = new Set<string>();

  reachable = false;
  lastContactAt: number | null = null;
  lastError: string | null = null;

  constructor(deps: SyncDeps) {
    this.deps = deps;
    this.batchLimit = deps.timing.batchSize;
  }

  private now(): number {
    return this.deps.now().getTime();
  }

  // ---------------------------------------------------------------- lifecycle

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loadEnrollment();
    const poll = () => {
      if (!this.running) return;
      try {
        const version = this.deps.db.dataVersion();
        if (version !== this.dataVersion) {
          this.dataVersion = version;
          this.loadEnrollment();
        }
      } catch (error) {
        this.deps.log.warn(`cannot read the enrollment: ${errorText(error)}`);
      }
      this.later(poll, this.deps.timing.enrollPollMs);
    };
    this.later(poll, this.deps.timing.enrollPollMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.feedAbort?.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.shipTimer) clearTimeout(this.shipTimer);
    this.shipTimer = null;
    // an in-flight request is not waited for long: its answer is ignored (the generation moved on)
    // and its rows stay in the outbox, to be shipped again (the gateway is idempotent by id)
    if (this.shipping) await Promise.race([this.shipping.catch(() => {}), Bun.sleep(500)]);
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  private backoff(attempt: number): number {
    const { retryBaseMs, retryMaxMs } = this.deps.timing;
    const exp = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempt - 1));
    const random = this.deps.random ?? Math.random;
    return Math.round(exp * (0.5 + random() * 0.5));
  }

  /** (Re)reads the enrollment row; a new or changed credential restarts the feed and the shipping. */
  private loadEnrollment(): void {
    this.dataVersion = this.deps.db.dataVersion();
    const next = this.deps.db.enrollment();
    const prev = this.enrollment;
    const same = prev !== null && next !== null && prev.client_id === next.client_id && prev.client_token === next.client_token && prev.gateway_url === next.gateway_url;
    if (same) {
      this.enrollment = next;
      return;
    }
    if (prev === null && next === null) return;
    this.generation++;
    this.feedAbort?.abort();
    this.feedAbort = null;
    this.enrollment = next;
    this.api = null;
    this.reachable = false;
    this.lastError = null;
    this.lastContactAt = null;
    this.retryAt = 0;
    this.deps.bundles.clearGateway();
    if (next === null) {
      this.deps.log.info("not enrolled: deciding from the embedded seed policies");
      return;
    }
    this.api = this.deps.gatewayApi({ baseUrl: next.gateway_url, token: next.client_token, timeoutMs: this.deps.timing.requestTimeoutMs });
    this.deps.log.info(`enrolled with ${next.gateway_url} as client ${next.client_id}${next.revoked_at ? " (REVOKED)" : ""}`);
    if (next.revoked_at || !this.running) return;
    const generation = this.generation;
    const abort = new AbortController();
    this.feedAbort = abort;
    void this.feedLoop(generation, abort.signal);
    this.scheduleRefresh(generation);
    this.kick(0);
  }

  /** The gateway of the current enrollment for approval requests; null when standalone or revoked. */
  approvalsGateway(): { api: DaemonGatewayApi; clientId: string } | null {
    try {
      if (this.deps.db.dataVersion() !== this.dataVersion) this.loadEnrollment();
    } catch (error) {
      this.deps.log.warn(`cannot read the enrollment: ${errorText(error)}`);
    }
    if (!this.api || !this.enrollment || this.enrollment.revoked_at) return null;
    return { api: this.api, clientId: this.enrollment.client_id };
  }

  get clientId(): string | null {
    return this.enrollment?.client_id ?? this.deps.db.enrollment()?.client_id ?? null;
  }

  get enrolled(): boolean {
    return this.enrollment !== null;
  }

  // ---------------------------------------------------------------- reachability

  private contact(): void {
    this.reachable = true;
    this.lastContactAt = this.now();
    this.lastError = null;
  }

  private failed(error: unknown): void {
    if (error instanceof GatewayRequestError && error.status !== null && error.status < 500) {
      // it answered: reachable, but this request was refused
      this.contact();
    } else {
      this.reachable = false;
    }
    this.lastError = errorText(error);
    if (isUnauthorized(error)) this.revoked(`the gateway refused this workstation's client credential: ${errorText(error)}`);
  }

  private revoked(reason: string): void {
    const e = this.enrollment;
    if (!e || e.revoked_at) return;
    if (this.deps.db.markRevoked(e.client_id, reason)) this.deps.log.error(`client ${e.client_id} revoked: ${reason}; governed checks are blocked until 'airlock client enroll' runs again`);
    this.enrollment = this.deps.db.enrollment();
    this.generation++;
    this.feedAbort?.abort();
  }

  // ---------------------------------------------------------------- bundles for checks

  private maxAgeMs(): number {
    return this.deps.config().bundle_max_age_seconds * 1000;
  }

  /** The compiled policy set to decide `role` with; throws (→ a block) when there is none to trust. */
  async policy(role: string): Promise<CompiledBundle> {
    const e = this.enrollment;
    if (e === null) return this.deps.bundles.seed(role);
    if (e.revoked_at) {
      throw new PolicyUnavailable(`this workstation's client credential was revoked at the gateway (${e.revoked_reason ?? "revoked"}); run 'airlock client enroll' again`);
    }
    this.rolesInUse.add(role);
    let bundle = this.deps.bundles.cached(role);
    const stale = (b: CompiledBundle) => this.now() - b.fetchedAt > this.maxAgeMs();
    if (bundle === null || (stale(bundle) && !this.reachable)) {
      // nothing cached, or too old while the gateway was unreachable: one try now, shared by
      // concurrent checks, and at most one a second per role (a looping agent must not flood the gateway)
      const due = this.now() - (this.lastInlineRefresh.get(role)?.at ?? 0) >= 1000;
      if (due || this.refreshing.has(role)) {
        if (due) this.lastInlineRefresh.set(role, { at: this.now(), why: null });
        try {
          // a check does not wait long for a slow gateway: the shim gives up after 3 s
          bundle = (await withTimeout(this.refreshRole(role), this.deps.timing.inlineFetchMs, `the gateway did not answer within ${this.deps.timing.inlineFetchMs} ms`)) ?? bundle;
        } catch (error) {
          const why =
            error instanceof GatewayRequestError && error.code === "not_found"
              ? `unknown role ${JSON.stringify(role)} at the gateway ${e.gateway_url}`
              : `no policy bundle for role ${role} is cached and the gateway cannot provide one: ${errorText(error)}`;
          this.lastInlineRefresh.set(role, { at: this.lastInlineRefresh.get(role)?.at ?? this.now(), why });
          if (bundle === null || why.startsWith("unknown role")) throw new PolicyUnavailable(why);
        }
      }
      if (bundle === null) {
        throw new PolicyUnavailable(this.lastInlineRefresh.get(role)?.why ?? `no policy bundle for role ${role} is cached and the gateway is unreachable${this.lastError ? `: ${this.lastError}` : ""}`);
      }
    }
    if (stale(bundle) && !this.reachable) {
      const age = Math.round((this.now() - bundle.fetchedAt) / 1000);
      throw new PolicyUnavailable(
        `the policy bundle of role ${role} is stale: last confirmed by the gateway ${age} s ago (max age ${this.deps.config().bundle_max_age_seconds} s) and the gateway is unreachable${this.lastError ? ` (${this.lastError})` : ""}`,
      );
    }
    return bundle;
  }

  /** Whether `role` exists: true/false, or null when it cannot be told now (gateway unreachable). */
  async knownRole(role: string): Promise<boolean | null> {
    if (this.enrollment === null) return this.deps.bundles.seedHasRole(role);
    if (this.deps.bundles.cached(role)) return true;
    try {
      return (await this.refreshRole(role)) !== null;
    } catch (error) {
      if (error instanceof GatewayRequestError && error.code === "not_found") return false;
      return null;
    }
  }

  /** Fetches one role's bundle (If-None-Match); the promise is shared by concurrent callers. */
  refreshRole(role: string): Promise<CompiledBundle | null> {
    const running = this.refreshing.get(role);
    if (running) return running;
    const p = (async () => {
      const api = this.api;
      const e = this.enrollment;
      if (!api || !e) return null;
      const generation = this.generation;
      const cached = this.deps.bundles.cached(role);
      try {
        const r = await api.bundle(role, cached?.etag ?? null);
        if (generation !== this.generation) return null;
        this.contact();
        if (r.status === "not_modified" && cached) {
          this.deps.bundles.touch(role, cached.etag, this.now());
          return this.deps.bundles.cached(role);
        }
        if (r.status === "ok") {
          const before = cached?.etag;
          const bundle = this.deps.bundles.store(role, r.bundle, e.gateway_url, this.now());
          if (before !== bundle.etag) this.deps.log.info(`policy bundle of role ${role}: ${before ? "updated" : "fetched"} (etag ${bundle.etag.slice(0, 12)})`);
          return bundle;
        }
        return cached;
      } catch (error) {
        if (generation !== this.generation) throw error;
        if (error instanceof GatewayRequestError && error.code === "not_found") {
          this.contact();
          this.deps.bundles.drop(role);
          this.deps.log.warn(`role ${role} does not exist at the gateway: checks under it are blocked`);
        } else if (error instanceof AirlockError && error.code === "invalid_policy") {
          this.lastError = error.message;
          this.deps.log.error(`${error.message}; keeping the cached bundle`);
        } else {
          this.failed(error);
        }
        throw error;
      }
    })().finally(() => this.refreshing.delete(role));
    this.refreshing.set(role, p);
    return p;
  }

  /** Every role in use: live sessions, the default role, anything checked or cached. */
  async refreshAll(): Promise<void> {
    const roles = new Set<string>([...this.rolesInUse, ...this.deps.db.liveRoles(), ...this.deps.bundles.cachedRoles(), this.deps.defaultRole()]);
    await Promise.all(
      [...roles].map((role) =>
        this.refreshRole(role).catch((error) => {
          if (!(error instanceof GatewayRequestError && error.code === "not_found")) this.deps.log.debug?.(`refresh of role ${role} failed: ${errorText(error)}`);
        }),
      ),
    );
  }

  private scheduleRefresh(generation: number): void {
    const every = this.deps.timing.refreshMs ?? Math.min(300_000, Math.max(10_000, this.maxAgeMs() / 4));
    this.later(() => {
      if (!this.running || generation !== this.generation) return;
      void this.refreshAll().finally(() => this.scheduleRefresh(generation));
    }, every);
  }

  // ---------------------------------------------------------------- change feed

  private async feedLoop(generation: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    let connected = false;
    let more = true; // catch up without waiting first
    while (this.running && generation === this.generation && !signal.aborted) {
      const api = this.api!;
      try {
        const page = await api.changes(this.deps.db.feedCursor(), more ? 0 : this.deps.timing.feedWaitSeconds, signal);
        if (generation !== this.generation) return;
        this.contact();
        failures = 0;
        if (!connected) {
          connected = true;
          this.deps.log.info(`connected to the gateway at ${api.baseUrl}`);
          this.retryAt = 0;
          this.deps.db.outboxReadyNow();
          this.kick(0);
          await this.refreshAll();
        }
        await this.apply(page.events);
        this.deps.db.setFeedCursor(page.next);
        more = page.more;
      } catch (error) {
        if (signal.aborted || generation !== this.generation) return;
        this.failed(error);
        if (isUnauthorized(error)) return;
        if (connected) this.deps.log.warn(`lost the gateway: ${errorText(error)}`);
        connected = false;
        more = true;
        failures++;
        await this.sleep(this.backoff(Math.min(failures, 4)), signal);
      }
    }
  }

  private async apply(events: readonly FeedEvent[]): Promise<void> {
    let refresh = false;
    for (const event of events) {
      if (event.type.startsWith("policy.") || event.type.startsWith("role.")) {
        refresh = true;
      } else if (event.type === "session.revoked" && event.target.startsWith("session:")) {
        const id = event.target.slice("session:".length);
        const session = this.deps.db.session(id);
        if (session && session.status !== "revoked") {
          this.deps.db.setSessionStatus(id, "revoked");
          this.deps.log.info(`session ${id} revoked by ${event.actor}`);
        }
      } else if (event.type === "client.revoked" && this.enrollment && event.target === `client:${this.enrollment.client_id}`) {
        this.revoked(`client ${this.enrollment.client_id} revoked by ${event.actor}`);
      }
    }
    if (refresh) await this.refreshAll();
  }

  // ---------------------------------------------------------------- outbox

  /** A new outbox row (or the gateway is back): ship soon. */
  /**
   * New outbox rows: ship after `delayMs` (default: the batching window, so a burst of checks
   * becomes one request, not one per check).
   */
  kick(delayMs = this.deps.timing.shipDelayMs): void {
    if (!this.running || !this.api || this.enrollment?.revoked_at) return;
    const now = this.now();
    // while backing off, a new row does not bring the next attempt forward
    const at = Math.max(now + delayMs, this.retryAt);
    if (this.shipTimer && this.shipTimerAt <= at) return;
    if (this.shipTimer) clearTimeout(this.shipTimer);
    this.shipTimerAt = at;
    this.shipTimer = setTimeout(() => {
      this.shipTimer = null;
      void this.ship();
    }, Math.max(0, at - now));
  }

  /** Ships the outbox in order until it is empty or the gateway fails; resolves when this round ends. */
  ship(): Promise<void> {
    if (this.shipping) {
      this.shipAgain = true;
      return this.shipping;
    }
    this.shipping = (async () => {
      try {
        do {
          this.shipAgain = false;
          await this.shipRound();
        } while (this.shipAgain && this.running);
      } finally {
        this.shipping = null;
      }
    })();
    return this.shipping;
  }

  private async shipRound(): Promise<void> {
    const generation = this.generation;
    while (this.running && generation === this.generation) {
      const api = this.api;
      if (!api || this.enrollment?.revoked_at) return;
      const head = this.deps.db.outboxHead(this.batchLimit);
      if (head.length === 0) return;
      const first = head[0]!;
      const wait = first.next_attempt_at - this.now();
      if (wait > 0) {
        this.retryAt = first.next_attempt_at;
        this.kick(wait);
        return;
      }
      const batch = this.takeBatch(head);
      try {
        await this.send(api, batch);
        if (generation !== this.generation) return;
        this.deps.db.acknowledge(batch);
        this.contact();
        this.batchLimit = this.deps.timing.batchSize;
      } catch (error) {
        if (generation !== this.generation) return;
        if (isPermanent(error)) {
          this.contact();
          if (batch.length > 1) {
            // one of them is refused: split until it is alone, so every other row still ships
            this.batchLimit = Math.max(1, Math.ceil(batch.length / 2));
            continue;
          }
          this.deps.db.reject(first, errorText(error));
          this.lastError = `the gateway refused outbox row ${first.seq} (${first.kind}), kept in outbox_rejected: ${errorText(error)}`;
          this.deps.log.warn(`the gateway refused outbox row ${first.seq} (${first.kind}) for good; kept in outbox_rejected: ${errorText(error)}`);
          continue;
        }
        this.failed(error);
        const delay = this.backoff(first.attempts + 1);
        this.retryAt = this.now() + delay;
        this.deps.db.retryLater(batch, this.retryAt, errorText(error));
        if (!isUnauthorized(error)) this.kick(delay);
        return;
      }
    }
  }

  private takeBatch(head: readonly OutboxRow[]): OutboxRow[] {
    const first = head[0]!;
    if (first.kind !== "decision") return [first];
    const batch: OutboxRow[] = [];
    let bytes = 0;
    for (const row of head) {
      if (row.kind !== "decision" || batch.length >= this.batchLimit) break;
      if (batch.length > 0 && bytes + row.payload.length > MAX_BATCH_BYTES) break;
      batch.push(row);
      bytes += row.payload.length;
    }
    return batch;
  }

  private async send(api: DaemonGatewayApi, batch: readonly OutboxRow[]): Promise<void> {
    const first = batch[0]!;
    if (first.kind === "decision") {
      await api.postDecisions(batch.map((r) => JSON.parse(r.payload) as GatewayDecision));
    } else if (first.kind === "session.create") {
      await api.createSession(JSON.parse(first.payload) as GatewaySessionBody);
    } else {
      const { id, ...body } = JSON.parse(first.payload) as { id: string; status: "running" | "exited"; exit_code?: number | null };
      try {
        await api.sessionStatus(id, body);
      } catch (error) {
        // already there (a retry after a crash), or the gateway moved it on (revoked): settled
        if (error instanceof GatewayRequestError && error.status === 409) return;
        throw error;
      }
    }
  }

  // ---------------------------------------------------------------- status

  gatewayStatus(): DaemonStatus["gateway"] {
    const e = this.enrollment;
    return {
      url: e?.gateway_url ?? null,
      enrolled: e !== null && e.revoked_at === null,
      client_id: e?.client_id ?? null,
      reachable: e !== null && this.reachable,
      last_contact_at: this.lastContactAt === null ? null : new Date(this.lastContactAt).toISOString(),
      last_error: e?.revoked_at ? `client credential revoked: ${e.revoked_reason ?? ""}`.trim() : this.lastError,
    };
  }

  bundleStatus(): DaemonStatus["bundles"] {
    const now = this.now();
    const maxAge = this.maxAgeMs();
    const list = this.enrollment === null ? this.deps.bundles.seedList() : this.deps.bundles.gatewayList();
    return list.map((b) => {
      const age = Math.max(0, now - b.fetchedAt);
      return {
        role: b.role,
        etag: b.etag,
        fetched_at: new Date(b.fetchedAt).toISOString(),
        age_seconds: Math.round(age / 1000),
        stale: b.source === "gateway" && age > maxAge && !this.reachable,
      };
    });
  }
}
