/** Approvals crypto, shared by the daemon, the CLI's headless approver and the browser approver (docs/approvals.md). */
export { digestToCode, formatUserCode, newPairingCode, newUserCode, normalizeCode, randomCode } from "./codes";
export { signDecision, verifyDecision, DECISION_DOMAIN, type VerifyResult } from "./decision";
export { ApprovalCryptoError, b64u, canonicalJson, fromB64u } from "./encoding";
export { actionHash, openEnvelope, sealAction, type RequestMeta } from "./envelope";
export { exportKeyFile, fingerprint, generateKeyPairs, importBoxPublic, importKeyFile, importSignPublic, KeyFile, publicKeys, type KeyPairs } from "./keys";
