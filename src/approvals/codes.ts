/**
 * Human-typed codes: pairing codes (6 characters), device-flow user codes (8, shown `ABCD-EFGH`)
 * and fingerprints, all in one alphabet without look-alikes (no 0/O, 1/I/L).
 */
import { CODE_ALPHABET } from "../protocol/approvals";

/** `n` characters of CODE_ALPHABET, uniformly (rejection sampling, no modulo bias) */
export function randomCode(n: number): string {
  const limit = 256 - (256 % CODE_ALPHABET.length);
  let out = "";
  while (out.length < n) {
    for (const byte of crypto.getRandomValues(new Uint8Array(n * 2))) {
      if (byte < limit && out.length < n) out += CODE_ALPHABET[byte % CODE_ALPHABET.length];
    }
  }
  return out;
}

export const newPairingCode = (): string => randomCode(6);
export const newUserCode = (): string => randomCode(8);

/** `ABCDEFGH` → `ABCD-EFGH` */
export function formatUserCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

/** What a person typed → the code (upper-case, spaces and dashes dropped), or null when it cannot be one */
export function normalizeCode(input: string, length: number): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== length) return null;
  for (const c of code) if (!CODE_ALPHABET.includes(c)) return null;
  return code;
}

/**
 * `chars` symbols of CODE_ALPHABET from the first 8 bytes of `bytes` (a digest), as a base-31
 * number: 12 symbols carry 59 bits. For fingerprints people compare by eye.
 */
export function digestToCode(bytes: Uint8Array, chars: number): string {
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  const base = BigInt(CODE_ALPHABET.length);
  let out = "";
  for (let i = 0; i < chars; i++) {
    out += CODE_ALPHABET[Number(n % base)];
    n /= base;
  }
  return out;
}
