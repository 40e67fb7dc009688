/**
 * SHA-256 for the store: the audit chain's hash function and role-bundle ETags. Synchronous (the
 * runtime's BoringSSL hasher), so an event's hash is computed inside the same database transaction
 * as the state change it describes.
 */
export function sha256Hex(s: string): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex");
}
