/**
 * Compiled policy sets per role, from one of two sources:
 * - `seed`: the policies embedded in the binary (standalone: not enrolled);
 * - `gateway`: the role bundles fetched from the gateway, cached in daemon.db (survive restarts)
 *   and compiled once per (etag, local auto-approve patterns).
 * A bundle is validated with the same loader as `policies/` before it replaces the cached one: a
 * malformed bundle never reaches the engine (the previous one stays).
 */
import { compilePolicySet, type CompiledPolicySet } from "../policy/engine";
import { errorCount, formatProblem, loadPolicySources, resolveRole, type LoadedPolicies } from "../policy/load";
import type { CompiledProfile } from "../policy/profiles";
import { AirlockError } from "../protocol/errors";
import type { DaemonDb } from "./db";
import type { WireBundle } from "./gateway-api";

export interface CompiledBundle {
  role: string;
  etag: string;
  /** ms since the epoch: the last time the source confirmed it (the daemon's start for the seed) */
  fetchedAt: number;
  source: "seed" | "gateway";
  set: CompiledPolicySet;
}

export type BundleInfo = Omit<CompiledBundle, "set">;

interface Entry {
  bundle: CompiledBundle;
  /** the validated documents, kept to recompile when the auto-approve patterns change */
  loaded: LoadedPolicies;
  autoKey: string;
}

export interface BundleCacheDeps {
  db: DaemonDb;
  profiles: ReadonlyMap<string, CompiledProfile>;
  /** the embedded seed, loaded on first use */
  seed: () => LoadedPolicies;
  /** config.json auto_approve */
  autoApprove: () => readonly string[];
  startedAt: number;
}

function sha256(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** Validates a gateway bundle with the policy loader: every problem named. */
export function loadWireBundle(roleId: string, wire: WireBundle, profiles: ReadonlyMap<string, CompiledProfile>): LoadedPolicies {
  const role = wire.role?.document as { id?: unknown } | undefined;
  if (!role || role.id !== roleId) throw new AirlockError("invalid_policy", `the gateway's bundle for role ${roleId} holds role ${JSON.stringify(role?.id ?? null)}`);
  const loaded = loadPolicySources(
    {
      policies: wire.policies.map((p) => ({ path: `policies/${String((p.document as { id?: unknown }).id)}.json`, text: JSON.stringify(p.document) })),
      roles: [{ path: `roles/${roleId}.json`, text: JSON.stringify(role) }],
      tests: [],
      profiles: [],
      agents: null,
    },
    { requireFileNameMatch: false },
  );
  if (errorCount(loaded.problems) > 0) {
    const problems = loaded.problems.filter((p) => p.severity === "error").map(formatProblem);
    throw new AirlockError("invalid_policy", `the gateway's bundle for role ${roleId} is invalid: ${problems.slice(0, 5).join("; ")}`);
  }
  loaded.profiles = new Map(profiles);
  return loaded;
}

export class BundleCache {
  private readonly deps: BundleCacheDeps;
  private readonly gatewayEntries = new Map<string, Entry>();
  private readonly seedEntries = new Map<string, Entry>();
  private seedLoaded: LoadedPolicies | null = null;
  private seedEtags = new Map<string, string>();

  constructor(deps: BundleCacheDeps) {
    this.deps = deps;
  }

  private lastAuto: { list: readonly string[]; key: string } | null = null;

  /** the auto-approve patterns and their cache key (the same list object → the same key, no join) */
  private autoKey(): { list: readonly string[]; key: string } {
    const list = this.deps.autoApprove();
    if (this.lastAuto?.list !== list) this.lastAuto = { list, key: list.join("\u0000") };
    return this.lastAuto;
  }

  private compile(roleId: string, loaded: LoadedPolicies, autoApprove: readonly string[]): CompiledPolicySet {
    const { role, policies } = resolveRole(loaded, roleId);
    return compilePolicySet({ role, policies, profiles: this.deps.profiles, autoApprove });
  }

  /** The seed's compiled set of `role`; unknown role → not_found. */
  seed(roleId: string): CompiledBundle {
    const auto = this.autoKey();
    const hit = this.seedEntries.get(roleId);
    if (hit && hit.autoKey === auto.key) return hit.bundle;
    this.seedLoaded ??= this.deps.seed();
    const loaded = this.seedLoaded;
    let etag = this.seedEtags.get(roleId);
    if (etag === undefined) {
      const { role, policies } = resolveRole(loaded, roleId);
      etag = `seed-${sha256(JSON.stringify({ role, policies })).slice(0, 32)}`;
      this.seedEtags.set(roleId, etag);
    }
    const bundle: CompiledBundle = { role: roleId, etag, fetchedAt: this.deps.startedAt, source: "seed", set: this.compile(roleId, loaded, auto.list) };
    this.seedEntries.set(roleId, { bundle, loaded, autoKey: auto.key });
    return bundle;
  }

  seedHasRole(roleId: string): boolean {
    this.seedLoaded ??= this.deps.seed();
    return this.seedLoaded.roles.has(roleId);
  }

  /** The cached gateway bundle of `role` (memory, else daemon.db), or null. */
  cached(roleId: string): CompiledBundle | null {
    const auto = this.autoKey();
    const hit = this.gatewayEntries.get(roleId);
    if (hit) {
      if (hit.autoKey !== auto.key) {
        hit.bundle = { ...hit.bundle, set: this.compile(roleId, hit.loaded, auto.list) };
        hit.autoKey = auto.key;
      }
      return hit.bundle;
    }
    const row = this.deps.db.bundle(roleId);
    if (!row) return null;
    const wire = JSON.parse(row.documents) as WireBundle;
    const loaded = loadWireBundle(roleId, wire, this.deps.profiles);
    const bundle: CompiledBundle = { role: roleId, etag: row.etag, fetchedAt: row.fetched_at, source: "gateway", set: this.compile(roleId, loaded, auto.list) };
    this.gatewayEntries.set(roleId, { bundle, loaded, autoKey: auto.key });
    return bundle;
  }

  /** A bundle the gateway sent: validated and compiled first, then cached (db + memory). */
  store(roleId: string, wire: WireBundle, gatewayUrl: string, at: number): CompiledBundle {
    const auto = this.autoKey();
    const loaded = loadWireBundle(roleId, wire, this.deps.profiles);
    const set = this.compile(roleId, loaded, auto.list);
    this.deps.db.putBundle({ role: roleId, documents: JSON.stringify({ role: wire.role, policies: wire.policies, etag: wire.etag }), etag: wire.etag, gateway_url: gatewayUrl, fetched_at: at });
    const bundle: CompiledBundle = { role: roleId, etag: wire.etag, fetchedAt: at, source: "gateway", set };
    this.gatewayEntries.set(roleId, { bundle, loaded, autoKey: auto.key });
    return bundle;
  }

  /** The gateway confirmed the cached bundle (304). */
  touch(roleId: string, etag: string, at: number): void {
    this.deps.db.touchBundle(roleId, etag, at);
    const hit = this.gatewayEntries.get(roleId);
    if (hit && hit.bundle.etag === etag) hit.bundle = { ...hit.bundle, fetchedAt: at };
  }

  /** The role is gone at the gateway. */
  drop(roleId: string): void {
    this.deps.db.deleteBundle(roleId);
    this.gatewayEntries.delete(roleId);
  }

  /** Forget the in-memory gateway bundles (a new enrollment cleared the db rows). */
  clearGateway(): void {
    this.gatewayEntries.clear();
  }

  /** Roles with a cached gateway bundle (db). */
  cachedRoles(): string[] {
    return this.deps.db.bundles().map((b) => b.role);
  }

  gatewayList(): BundleInfo[] {
    return this.deps.db.bundles().map((row) => ({ role: row.role, etag: row.etag, fetchedAt: row.fetched_at, source: "gateway" as const }));
  }

  seedList(): BundleInfo[] {
    return [...this.seedEntries.values()].map(({ bundle: { set: _set, ...info } }) => info);
  }
}
