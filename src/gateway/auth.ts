/**
 * Credentials (DESIGN 6, issue 3): admin, viewer (read-only), client (its own sessions and
 * decisions, bundles), session (checks of its own session), enrollment (enroll once), user (from
 * sign-in: its own pairings), approver (from claiming a pairing code: its pairing's approvals).
 * 401 for a missing or invalid credential, 403 for the wrong class; failures are rate-limited per
 * address.
 */
import type { Context, MiddlewareHandler } from "hono";
import { AirlockError } from "../protocol/errors";
import type { SessionRecord } from "../protocol/records";
import type { Store } from "../store/types";
import { hashSecret, looksLikeSecret, sameHash } from "./tokens";

export type CredentialKind = "admin" | "viewer" | "client" | "session" | "enrollment" | "user" | "approver";

export interface Credential {
  kind: CredentialKind;
  /** audit actor: `admin:<token id>`, `client:<client id>`, `session:<id>`, `user:<id>`, `approver:<pairing id>` ... */
  actor: string;
  tokenId: string | null;
  clientId: string | null;
  session: SessionRecord | null;
  /** the pairing an approver credential serves */
  pairingId: string | null;
  /** the secret's hash (enrollment uses it to consume the token) */
  hash: string;
}

export interface GatewayEnv {
  Variables: { cred: Credential };
  /** from Bun.serve: the peer address, and the WebSocket upgrade (absent under `app.request()`) */
  Bindings: { ip?: string; upgrade?: (request: Request, data: unknown) => boolean };
}

export interface RateLimiter {
  /** true when this address may try again */
  allowed(key: string): boolean;
  fail(key: string): void;
}

/** At most `max` failed attempts per address per window; then 429 until the window passes. */
export function createRateLimiter(options: { max: number; windowMs: number; now: () => number }): RateLimiter {
  const failures = new Map<string, { count: number; since: number }>();
  return {
    allowed(key) {
      const f = failures.get(key);
      if (!f) return true;
      if (options.now() - f.since > options.windowMs) {
        failures.delete(key);
        return true;
      }
      return f.count < options.max;
    },
    fail(key) {
      const now = options.now();
      const f = failures.get(key);
      if (!f || now - f.since > options.windowMs) failures.set(key, { count: 1, since: now });
      else f.count++;
      if (failures.size > 10_000) failures.clear(); // bounded memory under a spray of addresses
    },
  };
}

/** last_used_at / last_seen_at are kept to the minute: a write per request would halve ingest throughput. */
const TOUCH_EVERY_MS = 60_000;

export interface Toucher {
  due(key: string): boolean;
}

export function createToucher(now: () => number): Toucher {
  const last = new Map<string, number>();
  return {
    due(key) {
      const t = now();
      const prev = last.get(key);
      if (prev !== undefined && t - prev < TOUCH_EVERY_MS) return false;
      if (last.size > 100_000) last.clear();
      last.set(key, t);
      return true;
    },
  };
}

async function resolveCredential(store: Store, toucher: Toucher, secret: string): Promise<Credential | null> {
  if (!looksLikeSecret(secret)) return null;
  const hash = await hashSecret(secret);
  if (secret.startsWith("al_s_")) {
    const session = await store.findSessionByToken(hash);
    return session ? { kind: "session", actor: `session:${session.id}`, tokenId: null, clientId: session.client_id, session, pairingId: null, hash } : null;
  }
  const token = await store.findToken(hash);
  if (!token || !sameHash(token.hash, hash)) return null;
  if (toucher.due(`t:${token.id}`)) await store.touchToken(token.id);
  if (token.kind === "client" && token.client_id && toucher.due(`c:${token.client_id}`)) await store.touchClient(token.client_id);
  if (token.kind === "user" || token.kind === "approver") {
    const binding = await store.getTokenBinding(token.id);
    if (token.kind === "user" && binding?.user) return { kind: "user", actor: binding.user, tokenId: token.id, clientId: null, session: null, pairingId: null, hash };
    if (token.kind === "approver" && binding?.pairing_id) {
      return { kind: "approver", actor: `approver:${binding.pairing_id}`, tokenId: token.id, clientId: null, session: null, pairingId: binding.pairing_id, hash };
    }
    return null; // an unbound user or approver token acts as nobody
  }
  const actor = token.kind === "client" ? `client:${token.client_id}` : `${token.kind}:${token.id}`;
  return { kind: token.kind, actor, tokenId: token.id, clientId: token.client_id, session: null, pairingId: null, hash };
}

export function clientAddress(c: Context<GatewayEnv>): string {
  return c.env?.ip ?? "local";
}

export interface AuthContext {
  store: Store;
  limiter: RateLimiter;
  toucher: Toucher;
}

/** The credential of a request (no class check), or an AirlockError: 429 when rate-limited, 401 when missing or invalid. */
export async function authenticate(auth: AuthContext, c: Context<GatewayEnv>): Promise<Credential> {
  return authenticateSecret(auth, clientAddress(c), c.req.header("authorization"), true);
}

/** `header` is an Authorization header (`Bearer <secret>`), or the bare secret when `bearer` is false (WebSocket auth). */
export async function authenticateSecret(auth: AuthContext, address: string, header: string | undefined, bearer: boolean): Promise<Credential> {
  const { store, limiter, toucher } = auth;
  if (!limiter.allowed(address)) throw new AirlockError("rate_limited", "too many failed authentication attempts; try again later");
  const secret = bearer ? header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] : header;
  if (!secret) {
    throw new AirlockError("unauthorized", header ? "malformed Authorization header: expected 'Bearer <token>'" : "missing credential: send 'Authorization: Bearer <token>'");
  }
  const cred = await resolveCredential(store, toucher, secret);
  if (!cred) {
    limiter.fail(address);
    throw new AirlockError("unauthorized", "invalid, expired or revoked credential");
  }
  return cred;
}

/** Requires a credential of one of `kinds`; sets `c.var.cred`. */
export function guard(auth: AuthContext, ...kinds: CredentialKind[]): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const cred = await authenticate(auth, c);
    if (!kinds.includes(cred.kind)) {
      throw new AirlockError("forbidden", `a ${cred.kind} credential cannot do this (needs ${kinds.join(" or ")})`);
    }
    c.set("cred", cred);
    await next();
  };
}

export const READERS: CredentialKind[] = ["admin", "viewer"];
