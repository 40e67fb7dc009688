/**
 * The sealed approval request (docs/approvals.md, Approval request envelope): the action encrypted
 * for the paired approver's X25519 key with an ephemeral key (ECDH → HKDF-SHA256 → AES-256-GCM,
 * the routing metadata as additional data), signed by the daemon's Ed25519 key. The gateway relays
 * it and learns nothing but the metadata.
 */
import * as v from "valibot";
import { ApprovalAction, type Envelope } from "../protocol/approvals";
import { ApprovalCryptoError, b64u, canonicalJson, fromB64u, randomBytes, sha256, utf8 } from "./encoding";
import { importBoxPublic, importSignPublic } from "./keys";

const HKDF_INFO = utf8("airlock.approval.v1");
const REQUEST_DOMAIN = "airlock.approval-request.v1";

/** base64url(SHA-256(canonical JSON of the action)): what a signed decision is bound to */
export async function actionHash(action: ApprovalAction): Promise<string> {
  return b64u(await sha256(utf8(canonicalJson(action))));
}

export interface RequestMeta {
  id: string;
  pairing_id: string;
  expires_at: string;
}

async function aesKey(privateKey: CryptoKey, publicKey: CryptoKey, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const shared = await crypto.subtle.deriveBits({ name: "X25519", public: publicKey }, privateKey, 256);
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt, info: HKDF_INFO }, ikm, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

const aad = (meta: RequestMeta) => utf8(canonicalJson({ id: meta.id, pairing_id: meta.pairing_id, expires_at: meta.expires_at, v: 1 }));
const signedPart = (meta: RequestMeta, epk: string, iv: string, ct: string) =>
  utf8(canonicalJson({ domain: REQUEST_DOMAIN, id: meta.id, pairing_id: meta.pairing_id, expires_at: meta.expires_at, epk, iv, ct }));

/**
 * Seals `action` for the approver. `action.request_id` and `action.expires_at` must match the
 * request's. `fixed` pins the ephemeral key and IV: for known-answer tests only.
 */
export async function sealAction(
  input: RequestMeta & { action: ApprovalAction; daemonSign: CryptoKey; approverBoxKey: string },
  fixed?: { ephemeral: CryptoKeyPair; iv: Uint8Array<ArrayBuffer> },
): Promise<Envelope> {
  const { action } = input;
  if (action.request_id !== input.id || action.expires_at !== input.expires_at) {
    throw new ApprovalCryptoError("mismatch", "the action's request_id and expires_at must be the request's");
  }
  const approverBox = await importBoxPublic(input.approverBoxKey);
  const ephemeral = fixed?.ephemeral ?? ((await crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"])) as CryptoKeyPair);
  const epkRaw = new Uint8Array(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
  const key = await aesKey(ephemeral.privateKey, approverBox, epkRaw);
  const iv = fixed?.iv ?? randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(input) }, key, utf8(canonicalJson(action)));
  const [epk, ivText, ctText] = [b64u(epkRaw), b64u(iv), b64u(ct)];
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, input.daemonSign, signedPart(input, epk, ivText, ctText));
  return { v: 1, epk, iv: ivText, ct: ctText, sig: b64u(sig) };
}

/**
 * Opens an envelope on the approver: checks the daemon's signature first (a request the paired
 * terminal did not make is refused before decryption), then decrypts, then checks that the action
 * belongs to this request. Throws ApprovalCryptoError (`bad_signature`, `decrypt_failed`,
 * `malformed`, `mismatch`).
 */
export async function openEnvelope(input: RequestMeta & { envelope: Envelope; approverBox: CryptoKey; daemonSignKey: string }): Promise<ApprovalAction> {
  const { envelope } = input;
  const daemonSign = await importSignPublic(input.daemonSignKey);
  const sig = fromB64u(envelope.sig);
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, daemonSign, sig, signedPart(input, envelope.epk, envelope.iv, envelope.ct));
  if (!ok) throw new ApprovalCryptoError("bad_signature", "the request is not signed by the paired terminal");
  const epk = await importBoxPublic(envelope.epk);
  const key = await aesKey(input.approverBox, epk, fromB64u(envelope.epk));
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64u(envelope.iv), additionalData: aad(input) }, key, fromB64u(envelope.ct));
  } catch {
    throw new ApprovalCryptoError("decrypt_failed", "the request cannot be decrypted with this approver's key (tampered, or sealed for another device)");
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new ApprovalCryptoError("malformed", "the sealed action is not JSON");
  }
  const parsed = v.safeParse(ApprovalAction, json);
  if (!parsed.success) throw new ApprovalCryptoError("malformed", `the sealed action is invalid: ${parsed.issues[0].message}`);
  const action = parsed.output;
  if (action.request_id !== input.id || action.expires_at !== input.expires_at) {
    throw new ApprovalCryptoError("mismatch", "the sealed action belongs to another request");
  }
  return action;
}
