/**
 * Key pairs of both ends of a pairing (docs/approvals.md, Keys and fingerprints): Ed25519 to sign,
 * X25519 to agree on keys. Public keys travel as base64url of their 32 raw bytes.
 */
import * as v from "valibot";
import type { PublicKeys } from "../protocol/approvals";
import { digestToCode } from "./codes";
import { ApprovalCryptoError, b64u, concatBytes, fromB64u, sha256, utf8 } from "./encoding";

export interface KeyPairs {
  sign: CryptoKeyPair;
  box: CryptoKeyPair;
}

const ED25519 = { name: "Ed25519" } as const;
const X25519 = { name: "X25519" } as const;

/**
 * Fresh key pairs. `extractable: false` for the browser approver (the private keys never leave
 * WebCrypto; CryptoKeys go into IndexedDB as they are); `true` where they are kept in a file.
 */
export async function generateKeyPairs(extractable: boolean): Promise<KeyPairs> {
  const sign = (await crypto.subtle.generateKey(ED25519, extractable, ["sign", "verify"])) as CryptoKeyPair;
  const box = (await crypto.subtle.generateKey(X25519, extractable, ["deriveBits"])) as CryptoKeyPair;
  return { sign, box };
}

export async function publicKeys(keys: KeyPairs): Promise<PublicKeys> {
  return {
    sign_key: b64u(await crypto.subtle.exportKey("raw", keys.sign.publicKey)),
    box_key: b64u(await crypto.subtle.exportKey("raw", keys.box.publicKey)),
  };
}

function raw32(key: string, what: string): Uint8Array<ArrayBuffer> {
  const bytes = fromB64u(key);
  if (bytes.length !== 32) throw new ApprovalCryptoError("malformed", `${what} must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

/** an Ed25519 public key (base64url raw) to verify with */
export async function importSignPublic(key: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", raw32(key, "sign_key"), ED25519, true, ["verify"]);
  } catch (error) {
    if (error instanceof ApprovalCryptoError) throw error;
    throw new ApprovalCryptoError("malformed", `not an Ed25519 public key: ${(error as Error).message}`);
  }
}

/** an X25519 public key (base64url raw) to agree with */
export async function importBoxPublic(key: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", raw32(key, "box_key"), X25519, true, []);
  } catch (error) {
    if (error instanceof ApprovalCryptoError) throw error;
    throw new ApprovalCryptoError("malformed", `not an X25519 public key: ${(error as Error).message}`);
  }
}

const OkpJwk = (crv: "Ed25519" | "X25519") =>
  v.looseObject({
    kty: v.literal("OKP"),
    crv: v.literal(crv),
    x: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes base64url")),
    d: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes base64url")),
  });

/** private keys as JWK, for daemon.db and the headless approver's 0600 key file */
export const KeyFile = v.object({ v: v.literal(1), sign: OkpJwk("Ed25519"), box: OkpJwk("X25519") });
export type KeyFile = v.InferOutput<typeof KeyFile>;

/** requires keys generated with `extractable: true` */
export async function exportKeyFile(keys: KeyPairs): Promise<KeyFile> {
  const jwk = async (key: CryptoKey) => {
    const { kty, crv, x, d } = await crypto.subtle.exportKey("jwk", key);
    return { kty, crv, x, d };
  };
  return v.parse(KeyFile, { v: 1, sign: await jwk(keys.sign.privateKey), box: await jwk(keys.box.privateKey) });
}

/** the key pairs of a key file (validated; the private keys stay extractable so the file can be rewritten) */
export async function importKeyFile(file: unknown): Promise<KeyPairs> {
  const parsed = v.safeParse(KeyFile, file);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new ApprovalCryptoError("malformed", `not an Airlock key file: ${(issue.path ?? []).map((p) => String(p.key)).join(".") || "(root)"} ${issue.message}`);
  }
  const { sign, box } = parsed.output;
  try {
    const okp = (k: { crv: string; x: string; d: string }) => ({ kty: "OKP", crv: k.crv, x: k.x, d: k.d });
    return {
      sign: {
        privateKey: await crypto.subtle.importKey("jwk", okp(sign), ED25519, true, ["sign"]),
        publicKey: await crypto.subtle.importKey("raw", fromB64u(sign.x), ED25519, true, ["verify"]),
      },
      box: {
        privateKey: await crypto.subtle.importKey("jwk", okp(box), X25519, true, ["deriveBits"]),
        publicKey: await crypto.subtle.importKey("raw", fromB64u(box.x), X25519, true, []),
      },
    };
  } catch (error) {
    throw new ApprovalCryptoError("malformed", `the key file holds an invalid key: ${(error as Error).message}`);
  }
}

/** `XXXX-XXXX-XXXX`: what both ends of a pairing show, computed from the four public keys */
export async function fingerprint(daemon: PublicKeys, approver: PublicKeys): Promise<string> {
  const digest = await sha256(
    concatBytes(
      utf8("airlock.pairing.v1"),
      raw32(daemon.sign_key, "daemon sign_key"),
      raw32(daemon.box_key, "daemon box_key"),
      raw32(approver.sign_key, "approver sign_key"),
      raw32(approver.box_key, "approver box_key"),
    ),
  );
  const code = digestToCode(digest, 12);
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}
