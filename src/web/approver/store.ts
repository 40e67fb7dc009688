/**
 * The approver's device state in IndexedDB: the pairing, the approver token and the key pairs as
 * non-extractable CryptoKeys (structured clone keeps them non-extractable; the private keys never
 * exist as bytes outside WebCrypto). One record, replaced on pairing, deleted on unpairing.
 */
import type { PairingRecord } from "../../protocol/approvals";

export interface Device {
  pairing: PairingRecord;
  approver_token: string;
  sign: CryptoKeyPair;
  box: CryptoKeyPair;
  fingerprint: string;
  /** the person confirmed that the fingerprint matches the terminal's */
  confirmed: boolean;
}

const DB = "airlock-approver";
const STORE = "device";
const KEY = "current";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB is not available"));
    req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab of this page"));
  });
}

async function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? req.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    });
  } finally {
    db.close();
  }
}

export const loadDevice = async (): Promise<Device | null> => ((await run("readonly", (s) => s.get(KEY))) as Device | undefined) ?? null;
export const saveDevice = async (d: Device): Promise<void> => void (await run("readwrite", (s) => s.put(d, KEY)));
export const clearDevice = async (): Promise<void> => void (await run("readwrite", (s) => s.delete(KEY)));
