/**
 * src/approvals: known-answer vectors (RFC 8032 Ed25519, RFC 7748 X25519, and Airlock's own
 * envelope, decision and fingerprint formats pinned from fixed keys), and every way a request or a
 * decision can be refused.
 */
import { describe, expect, test } from "bun:test";
import {
  ApprovalCryptoError,
  actionHash,
  b64u,
  canonicalJson,
  exportKeyFile,
  fingerprint,
  formatUserCode,
  fromB64u,
  generateKeyPairs,
  importKeyFile,
  newPairingCode,
  newUserCode,
  normalizeCode,
  openEnvelope,
  publicKeys,
  sealAction,
  signDecision,
  verifyDecision,
} from "../../src/approvals";
import { CODE_ALPHABET, type ApprovalAction } from "../../src/protocol/approvals";

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16)));
const toHex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString("hex");
const s = crypto.subtle;
const pkcs8 = (alg: "X25519" | "Ed25519", key: string) => hex((alg === "X25519" ? "302e020100300506032b656e04220420" : "302e020100300506032b657004220420") + key);

// RFC 7748 section 6.1 (Alice and Bob) and RFC 8032 section 7.1 test 1
const ALICE_X = { priv: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", pub: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" };
const BOB_X = { priv: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", pub: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f" };
const SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
const ED1 = {
  priv: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  sigOfEmpty: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
};
// RFC 8032 test 2, used as the approver's signing key
const ED2 = { priv: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", pub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c" };

const importX = async (priv: string) => s.importKey("pkcs8", pkcs8("X25519", priv), { name: "X25519" }, true, ["deriveBits"]);
const importXPub = async (pub: string) => s.importKey("raw", hex(pub), { name: "X25519" }, true, []);
const importEd = async (priv: string) => s.importKey("pkcs8", pkcs8("Ed25519", priv), { name: "Ed25519" }, true, ["sign"]);

const action: ApprovalAction = {
  v: 1,
  request_id: "req-1",
  command: "helm upgrade web ./chart",
  cwd: "/w",
  agent: "claude",
  session_id: "s-1",
  role: "default-agent",
  tool: "helm",
  policy: "prod",
  rule: "rules[0]",
  reason: "prod releases need a human",
  host: "laptop",
  requested_at: "2026-11-22T10:00:00.000Z",
  expires_at: "2026-11-22T10:02:00.000Z",
};
const meta = { id: "req-1", pairing_id: "p-1", expires_at: action.expires_at };

// Airlock's formats, pinned: a change to any of these breaks every deployed pairing
const KAT_ENVELOPE = {
  v: 1,
  epk: "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
  iv: "BwcHBwcHBwcHBwcH",
  ct: "qOW6T6daz8N1n7oCfpwMa7qNEK5JHhm9vtB1ECFTIbMlYUF_CqMNW2RIXPT3JbbH0mm54RvqSq4zP7iIdPkR3_7bln-WQNAGFtrZ1uyqF5XRtKGHKDMdrG5p-uAq80vE_Gz3m64qXlYWHjFXxv3srVYivjq8SEvsZNDF4qkUqjO4C0m1blWRF3q72ELIOCMTtu-B1RaMXwXGKIyjt2wivRIhobM4xMH-X5zLvjvUM5VANwMgsQ3Z0JVBTefgY7L6KjJdQ66URYTwl-Iw8LSIAOdrvZzPTrXhc-iY_3uy3LohShuUfjN6dVxng3Ruc3uVjSv-VU9MUmvhb3vl-8kYv8LJF1ElajKhQIzXukd9BROy3xw2ixsVNky_xEarI8F43wyM-AZMMFVFJrrBOfWp7pSIHwEd_rDMBjZlUYIoeuhb6XVNlKZ5pa9wZmhYjz0",
  sig: "Xt4I3676YLrVNB_FKfLEaAnstvzUVRYdPHZMRs8B8p1-u9Z2q2vmsX2JFmNQEbPgFG01NVs0X-kVtGdRBPB2Ag",
} as const;
const KAT_ACTION_HASH = "uYmOa9S5_R4Mzz1LKkdYoLiC5R_fSqClZwRJbrb06SE";

const daemonKeys = { sign_key: b64u(hex(ED1.pub)), box_key: b64u(hex(ALICE_X.pub)) };
const approverKeys = { sign_key: b64u(hex(ED2.pub)), box_key: b64u(hex(BOB_X.pub)) };

describe("known-answer vectors", () => {
  test("RFC 7748: X25519 through WebCrypto gives the published shared secret, both ways", async () => {
    expect(toHex(await s.deriveBits({ name: "X25519", public: await importXPub(BOB_X.pub) }, await importX(ALICE_X.priv), 256))).toBe(SHARED);
    expect(toHex(await s.deriveBits({ name: "X25519", public: await importXPub(ALICE_X.pub) }, await importX(BOB_X.priv), 256))).toBe(SHARED);
  });

  test("RFC 8032 test 1: Ed25519 signature of the empty message", async () => {
    expect(toHex(await s.sign({ name: "Ed25519" }, await importEd(ED1.priv), new Uint8Array()))).toBe(ED1.sigOfEmpty);
  });

  test("envelope: fixed keys and IV seal to the pinned bytes, and the approver (Bob) opens them", async () => {
    const envelope = await sealAction(
      { ...meta, action, daemonSign: await importEd(ED1.priv), approverBoxKey: b64u(hex(BOB_X.pub)) },
      { ephemeral: { privateKey: await importX(ALICE_X.priv), publicKey: await importXPub(ALICE_X.pub) }, iv: new Uint8Array(12).fill(7) },
    );
    expect(envelope).toEqual(KAT_ENVELOPE);
    expect(await openEnvelope({ ...meta, envelope: KAT_ENVELOPE, approverBox: await importX(BOB_X.priv), daemonSignKey: daemonKeys.sign_key })).toEqual(action);
  });

  test("envelope: the AES key is HKDF-SHA256(X25519 secret, salt = epk, info = airlock.approval.v1)", async () => {
    const ikm = await s.importKey("raw", hex(SHARED), "HKDF", false, ["deriveKey"]);
    const key = await s.deriveKey({ name: "HKDF", hash: "SHA-256", salt: hex(ALICE_X.pub), info: new TextEncoder().encode("airlock.approval.v1") }, ikm, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    const aad = new TextEncoder().encode(canonicalJson({ id: "req-1", pairing_id: "p-1", expires_at: action.expires_at, v: 1 }));
    const plain = await s.decrypt({ name: "AES-GCM", iv: fromB64u(KAT_ENVELOPE.iv), additionalData: aad }, key, fromB64u(KAT_ENVELOPE.ct));
    expect(new TextDecoder().decode(plain)).toBe(canonicalJson(action));
  });

  test("action hash, fingerprint and signed decision formats", async () => {
    expect(await actionHash(action)).toBe(KAT_ACTION_HASH);
    expect(await fingerprint(daemonKeys, approverKeys)).toBe("ZE9W-FVCH-TFYU");
    const signed = await signDecision({
      request_id: "req-1",
      action_hash: KAT_ACTION_HASH,
      expires_at: action.expires_at,
      decision: "approve",
      approverSign: await importEd(ED1.priv),
      now: new Date("2026-11-22T10:00:30.000Z"),
      nonce: new Uint8Array(16).fill(1),
    });
    expect(signed).toEqual({
      payload: `{"action_hash":"${KAT_ACTION_HASH}","decided_at":"2026-11-22T10:00:30.000Z","decision":"approve","domain":"airlock.approval-decision.v1","expires_at":"2026-11-22T10:02:00.000Z","nonce":"AQEBAQEBAQEBAQEBAQEBAQ","request_id":"req-1","v":1}`,
      sig: "_Caw93gziiJPPoinA0YpV8mac3wkYo3M3RYYfJew_XeHjH4mPSuchNZQD3YcHtRDmCmn0PmsTkCufYqss4drAA",
    });
  });
});

describe("codes and encodings", () => {
  test("pairing and user codes use the unambiguous alphabet only", () => {
    for (let i = 0; i < 200; i++) {
      expect(newPairingCode()).toMatch(new RegExp(`^[${CODE_ALPHABET}]{6}$`));
      expect(newUserCode()).toMatch(new RegExp(`^[${CODE_ALPHABET}]{8}$`));
    }
    expect(CODE_ALPHABET).not.toMatch(/[01OIL]/);
    expect(new Set(Array.from({ length: 50 }, newPairingCode)).size).toBeGreaterThan(45);
  });

  test("every symbol shows up (no symbol is unreachable)", () => {
    const seen = new Set(Array.from({ length: 400 }, newPairingCode).join(""));
    expect(seen.size).toBe(CODE_ALPHABET.length);
  });

  test("typed codes are normalized; look-alikes and wrong lengths are refused", () => {
    expect(normalizeCode(" k7q-m3x ", 6)).toBe("K7QM3X");
    expect(normalizeCode("K7QM3O", 6)).toBeNull();
    expect(normalizeCode("K7QM3", 6)).toBeNull();
    expect(formatUserCode("ABCDEFGH")).toBe("ABCD-EFGH");
  });

  test("base64url round trip and refusal of other alphabets", () => {
    const bytes = crypto.getRandomValues(new Uint8Array(33));
    expect(fromB64u(b64u(bytes))).toEqual(bytes);
    expect(() => fromB64u("ab+/")).toThrow(ApprovalCryptoError);
  });

  test("canonical JSON sorts keys at every depth and refuses non-JSON", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: null, y: "x" }], c: true }, u: undefined })).toBe('{"a":{"c":true,"d":[2,{"y":"x","z":null}]},"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(ApprovalCryptoError);
  });
});

describe("keys", () => {
  test("a key file round-trips; the imported keys sign and agree like the originals", async () => {
    const keys = await generateKeyPairs(true);
    const file = await exportKeyFile(keys);
    expect(Object.keys(file.sign).sort()).toEqual(["crv", "d", "kty", "x"]);
    const again = await importKeyFile(JSON.parse(JSON.stringify(file)));
    expect(await publicKeys(again)).toEqual(await publicKeys(keys));
    const sig = await s.sign({ name: "Ed25519" }, again.sign.privateKey, new Uint8Array([1]));
    expect(await s.verify({ name: "Ed25519" }, keys.sign.publicKey, sig, new Uint8Array([1]))).toBe(true);
  });

  test("a bad key file names the field", async () => {
    const file = await exportKeyFile(await generateKeyPairs(true));
    await expect(importKeyFile({ ...file, box: { ...file.box, crv: "P-256" } })).rejects.toThrow(/box\.crv/);
    await expect(importKeyFile("nope")).rejects.toThrow(ApprovalCryptoError);
  });

  test("non-extractable keys (the browser approver's) still give their public keys", async () => {
    const keys = await generateKeyPairs(false);
    const pub = await publicKeys(keys);
    expect(fromB64u(pub.sign_key)).toHaveLength(32);
    expect(fromB64u(pub.box_key)).toHaveLength(32);
    await expect(exportKeyFile(keys)).rejects.toThrow();
  });

  test("the fingerprint changes with any one of the four keys", async () => {
    const base = await fingerprint(daemonKeys, approverKeys);
    const other = await publicKeys(await generateKeyPairs(false));
    expect(await fingerprint({ ...daemonKeys, sign_key: other.sign_key }, approverKeys)).not.toBe(base);
    expect(await fingerprint(daemonKeys, { ...approverKeys, box_key: other.box_key })).not.toBe(base);
    expect(await fingerprint(approverKeys, daemonKeys)).not.toBe(base);
  });
});

describe("a sealed request is refused when anything was changed", () => {
  const setup = async () => {
    const daemon = await generateKeyPairs(false);
    const approver = await generateKeyPairs(false);
    const dpub = await publicKeys(daemon);
    const apub = await publicKeys(approver);
    const envelope = await sealAction({ ...meta, action, daemonSign: daemon.sign.privateKey, approverBoxKey: apub.box_key });
    const open = (over: Partial<Parameters<typeof openEnvelope>[0]> = {}) =>
      openEnvelope({ ...meta, envelope, approverBox: approver.box.privateKey, daemonSignKey: dpub.sign_key, ...over });
    return { envelope, open, dpub };
  };
  const reasonOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      expect(error).toBeInstanceOf(ApprovalCryptoError);
      return (error as ApprovalCryptoError).reason;
    }
    throw new Error("expected a refusal");
  };
  const flip = (text: string) => b64u(fromB64u(text).map((b, i) => (i === 5 ? b ^ 1 : b)));

  test("untouched, it opens", async () => {
    const { open } = await setup();
    expect((await open()).command).toBe("helm upgrade web ./chart");
  });
  test("a flipped ciphertext bit: bad signature", async () => {
    const { open, envelope } = await setup();
    expect(await reasonOf(open({ envelope: { ...envelope, ct: flip(envelope.ct) } }))).toBe("bad_signature");
  });
  test("moved to another pairing or expiry by the relay: bad signature", async () => {
    const { open } = await setup();
    expect(await reasonOf(open({ pairing_id: "p-2" }))).toBe("bad_signature");
    expect(await reasonOf(open({ expires_at: "2026-11-22T11:00:00.000Z" }))).toBe("bad_signature");
  });
  test("signed by someone else than the paired terminal (e.g. the gateway)", async () => {
    const { open } = await setup();
    const stranger = await publicKeys(await generateKeyPairs(false));
    expect(await reasonOf(open({ daemonSignKey: stranger.sign_key }))).toBe("bad_signature");
  });
  test("opened with another approver's key: cannot decrypt", async () => {
    const { open } = await setup();
    const other = await generateKeyPairs(false);
    expect(await reasonOf(open({ approverBox: other.box.privateKey }))).toBe("decrypt_failed");
  });
  test("an action that names another request is not sealed", async () => {
    const daemon = await generateKeyPairs(false);
    const apub = await publicKeys(await generateKeyPairs(false));
    expect(await reasonOf(sealAction({ ...meta, id: "req-2", action, daemonSign: daemon.sign.privateKey, approverBoxKey: apub.box_key }))).toBe("mismatch");
  });
});

describe("verifyDecision", () => {
  const now = new Date("2026-11-22T10:00:30.000Z");
  const setup = async () => {
    const approver = await generateKeyPairs(false);
    const pub = await publicKeys(approver);
    const hash = await actionHash(action);
    const sign = (over: Partial<Parameters<typeof signDecision>[0]> = {}) =>
      signDecision({ request_id: "req-1", action_hash: hash, expires_at: action.expires_at, decision: "approve", approverSign: approver.sign.privateKey, now, ...over });
    const used = new Set<string>();
    const verify = (signed: { payload: string; sig: string }, over: Partial<Parameters<typeof verifyDecision>[1]> = {}) =>
      verifyDecision(signed, { request_id: "req-1", action_hash: hash, approverSignKey: pub.sign_key, now, seen: (id, nonce) => used.has(id) || used.has(nonce), ...over });
    return { sign, verify, used, pub };
  };

  test("approve and deny verify, and say which", async () => {
    const { sign, verify } = await setup();
    expect(await verify(await sign())).toMatchObject({ ok: true, decision: "approve" });
    expect(await verify(await sign({ decision: "deny" }))).toMatchObject({ ok: true, decision: "deny" });
  });
  test("tampered signature", async () => {
    const { sign, verify } = await setup();
    const signed = await sign();
    const sig = fromB64u(signed.sig);
    sig[0]! ^= 1;
    expect(await verify({ ...signed, sig: b64u(sig) })).toMatchObject({ ok: false, reason: "bad_signature" });
  });
  test("payload edited after signing (deny → approve)", async () => {
    const { sign, verify } = await setup();
    const signed = await sign({ decision: "deny" });
    expect(await verify({ ...signed, payload: signed.payload.replace('"deny"', '"approve"') })).toMatchObject({ ok: false, reason: "bad_signature" });
  });
  test("signed by a key that is not the paired one", async () => {
    const { verify } = await setup();
    const stranger = await generateKeyPairs(false);
    const forged = await signDecision({ request_id: "req-1", action_hash: await actionHash(action), expires_at: action.expires_at, decision: "approve", approverSign: stranger.sign.privateKey, now });
    expect(await verify(forged)).toMatchObject({ ok: false, reason: "bad_signature" });
  });
  test("no pairing", async () => {
    const { sign, verify } = await setup();
    expect(await verify(await sign(), { approverSignKey: null })).toMatchObject({ ok: false, reason: "unpaired" });
  });
  test("a decision for another action (swapped command)", async () => {
    const { sign, verify } = await setup();
    const other = await actionHash({ ...action, command: "helm uninstall web" });
    expect(await verify(await sign({ action_hash: other }))).toMatchObject({ ok: false, reason: "action_mismatch" });
  });
  test("a decision for another request", async () => {
    const { sign, verify } = await setup();
    expect(await verify(await sign({ request_id: "req-2" }))).toMatchObject({ ok: false, reason: "wrong_request" });
  });
  test("expired: past its expiry, capped by the request's", async () => {
    const { sign, verify } = await setup();
    const signed = await sign({ ttlMs: 1000 });
    expect(JSON.parse(signed.payload).expires_at).toBe("2026-11-22T10:00:31.000Z");
    expect(await verify(signed, { now: new Date("2026-11-22T10:00:31.000Z") })).toMatchObject({ ok: false, reason: "expired" });
    const late = await sign({ now: new Date("2026-11-22T10:01:59.000Z") });
    expect(JSON.parse(late.payload).expires_at).toBe(action.expires_at);
  });
  test("replayed: the same decision, or another for a request already used", async () => {
    const { sign, verify, used } = await setup();
    const signed = await sign();
    const first = await verify(signed);
    expect(first.ok).toBe(true);
    if (first.ok) used.add(first.payload.nonce).add(first.payload.request_id);
    expect(await verify(signed)).toMatchObject({ ok: false, reason: "replayed" });
    expect(await verify(await sign())).toMatchObject({ ok: false, reason: "replayed" });
  });
  test("malformed inputs never throw", async () => {
    const { sign, verify } = await setup();
    const signed = await sign();
    expect(await verify({ payload: signed.payload, sig: "!!" })).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verify({ payload: signed.payload, sig: b64u(new Uint8Array(10)) })).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verify(null as never)).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verify(signed, { approverSignKey: "short" })).toMatchObject({ ok: false, reason: "malformed" });
  });
});
