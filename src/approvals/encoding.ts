/** Byte encodings and canonical JSON for the signed and hashed content of approvals. */

/** base64url without padding */
export function b64u(bytes: Uint8Array | ArrayBuffer): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = "";
  for (let i = 0; i < view.length; i++) binary += String.fromCharCode(view[i]!);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url (with or without padding) → bytes; throws ApprovalCryptoError("malformed") on anything else */
export function fromB64u(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text) || text.replace(/=+$/, "").length % 4 === 1) throw new ApprovalCryptoError("malformed", "not base64url");
  const binary = atob(text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, `undefined` members left
 * out. Only JSON values (strings, finite numbers, booleans, null, arrays, plain objects).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ApprovalCryptoError("malformed", "canonical JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  throw new ApprovalCryptoError("malformed", `canonical JSON cannot hold a ${typeof value}`);
}

export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * A failure of the approvals crypto, with a stable reason:
 * - `malformed`: not the expected shape or encoding;
 * - `bad_signature`: a signature that does not verify under the expected key;
 * - `decrypt_failed`: AES-GCM refused (wrong key, tampered ciphertext or metadata);
 * - `mismatch`: the sealed action disagrees with the request it travels in.
 */
export class ApprovalCryptoError extends Error {
  override readonly name = "ApprovalCryptoError";
  constructor(
    readonly reason: "malformed" | "bad_signature" | "decrypt_failed" | "mismatch",
    message: string,
  ) {
    super(message);
  }
}
