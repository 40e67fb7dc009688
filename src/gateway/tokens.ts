/** Bearer secrets: random 256-bit, shown once, stored only as a SHA-256 hash (WebCrypto). */
import { timingSafeEqual } from "node:crypto";

const PREFIX = { admin: "a", viewer: "v", client: "c", enrollment: "e", session: "s", user: "u", approver: "p", device: "d" } as const;
export type SecretKind = keyof typeof PREFIX;

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** `al_<kind letter>_<43 chars>`: the prefix tells a human which kind of secret leaked. */
export function newSecret(kind: SecretKind): string {
  return `al_${PREFIX[kind]}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return Buffer.from(digest).toString("hex");
}

export function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Shape check before any lookup, so garbage never reaches the store. Generated secrets are
 * `al_<k>_<43 chars>`; an operator-chosen bootstrap token (AIRLOCK_ADMIN_TOKEN) is any 32-256
 * printable characters without spaces.
 */
export function looksLikeSecret(value: string): boolean {
  return /^[A-Za-z0-9_.~+/=-]{32,256}$/.test(value);
}

export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}
