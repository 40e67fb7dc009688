/**
 * The approvals side of the gateway's live state: which approver sockets are open per pairing
 * (presence), pushing `request` / `resolved` / `unpaired` to them, publishing metadata-only
 * `approval` and `pairing` events on the bus (the admin UI's SSE stream, long polls), and expiring
 * pending approvals when their time is up (a timer per approval, plus lazy sweeps on reads).
 */
import type { ApprovalRecord, ApproverServerMessage, PairingRecord } from "../protocol/approvals";
import type { StoredPairing } from "../store/types";
import type { Logger } from "./context";
import type { EventBus } from "./events";
import type { Store } from "../store/types";

/** what the hub needs of a WebSocket */
export interface ApproverSocket {
  send(text: string): unknown;
  close(code?: number, reason?: string): unknown;
}

/** WebSocket close codes of GET /api/v1/approver/ws */
export const WS_CLOSE = { badMessage: 4400, unauthorized: 4401, forbidden: 4403, unpaired: 4410, shutdown: 1001 } as const;

/** an approval event on the bus: metadata only, never the envelope */
export function approvalMeta(a: ApprovalRecord, action: string) {
  return {
    action,
    id: a.id,
    pairing_id: a.pairing_id,
    client_id: a.client_id,
    session_id: a.session_id,
    status: a.status,
    created_at: a.created_at,
    expires_at: a.expires_at,
    decided_at: a.decided_at,
    verification: a.verification,
  };
}

export interface ApprovalsHub {
  /** an authenticated approver socket of this pairing is open */
  online(pairingId: string): boolean;
  withPresence(p: StoredPairing): PairingRecord;
  /** registers an authenticated socket; returns its detach */
  attach(pairingId: string, socket: ApproverSocket): () => void;
  send(socket: ApproverSocket, message: ApproverServerMessage): void;
  /** a new approval (pushed to its pairing's approvers in full), a decision, an expiry, a verification */
  approvalChanged(a: ApprovalRecord, action: "requested" | "decided" | "expired" | "verified"): void;
  pairingChanged(p: StoredPairing, action: "created" | "claimed" | "removed" | "online" | "offline"): void;
  /** tells the pairing's sockets `unpaired` and closes them */
  unpaired(pairingId: string): void;
  /** expire the approval when its time comes */
  schedule(a: ApprovalRecord): void;
  /** expires what is due now (one sweep at a time) */
  sweep(): Promise<void>;
  close(): void;
}

const MAX_TIMER_MS = 24 * 3_600_000;

export function createApprovalsHub(deps: { store: Store; bus: EventBus; log: Logger; now: () => Date }): ApprovalsHub {
  const sockets = new Map<string, Set<ApproverSocket>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let sweeping: Promise<void> | null = null;
  let closed = false;

  const send = (socket: ApproverSocket, message: ApproverServerMessage) => {
    try {
      socket.send(JSON.stringify(message));
    } catch {
      // a socket that cannot take a message is closing: its close handler detaches it
    }
  };
  const toPairing = (pairingId: string, message: ApproverServerMessage) => {
    for (const s of sockets.get(pairingId) ?? []) send(s, message);
  };

  const hub: ApprovalsHub = {
    online: (pairingId) => (sockets.get(pairingId)?.size ?? 0) > 0,
    withPresence: (p) => ({ ...p, approver_online: hub.online(p.id) }),

    attach(pairingId, socket) {
      let set = sockets.get(pairingId);
      if (!set) sockets.set(pairingId, (set = new Set()));
      const first = set.size === 0;
      set.add(socket);
      if (first) deps.bus.publish({ type: "pairing", data: { action: "online", id: pairingId, approver_online: true } });
      return () => {
        const current = sockets.get(pairingId);
        if (!current?.delete(socket)) return;
        if (current.size === 0) {
          sockets.delete(pairingId);
          deps.bus.publish({ type: "pairing", data: { action: "offline", id: pairingId, approver_online: false } });
        }
      };
    },

    send,

    approvalChanged(a, action) {
      deps.bus.publish({ type: "approval", data: approvalMeta(a, action) });
      if (action === "requested" && a.status === "pending") toPairing(a.pairing_id, { type: "request", approval: a });
      else if (action === "decided" || action === "expired") toPairing(a.pairing_id, { type: "resolved", id: a.id, status: a.status });
    },

    pairingChanged(p, action) {
      deps.bus.publish({
        type: "pairing",
        data: { action, id: p.id, status: p.status, client_id: p.client_id, user: p.user, label: p.label, approver_label: p.approver_label, approver_online: hub.online(p.id) },
      });
    },

    unpaired(pairingId) {
      const set = sockets.get(pairingId);
      if (!set) return;
      sockets.delete(pairingId);
      for (const s of set) {
        send(s, { type: "unpaired", pairing_id: pairingId });
        try {
          s.close(WS_CLOSE.unpaired, "unpaired");
        } catch {
          // already closed
        }
      }
      deps.bus.publish({ type: "pairing", data: { action: "offline", id: pairingId, approver_online: false } });
    },

    schedule(a) {
      if (closed || a.status !== "pending") return;
      const delay = Date.parse(a.expires_at) - deps.now().getTime();
      if (delay > MAX_TIMER_MS) return; // far off: a lazy sweep finds it
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          void hub.sweep();
        },
        Math.max(0, delay) + 10,
      );
      (timer as unknown as { unref?: () => void }).unref?.();
      timers.add(timer);
    },

    sweep() {
      if (closed) return Promise.resolve();
      sweeping ??= (async () => {
        try {
          for (const a of await deps.store.expireApprovals()) hub.approvalChanged(a, "expired");
        } catch (error) {
          if (!closed) deps.log.warn("expiring approvals failed", error);
        } finally {
          sweeping = null;
        }
      })();
      return sweeping;
    },

    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const set of sockets.values()) {
        for (const s of set) {
          try {
            s.close(WS_CLOSE.shutdown, "gateway stopping");
          } catch {
            // already closed
          }
        }
      }
      sockets.clear();
    },
  };
  return hub;
}
