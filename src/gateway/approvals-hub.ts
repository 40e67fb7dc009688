/**
 * The approvals side of the gateway's live state: which approver sockets are open per pairing
 * (presence), pushing `request` / `resolved` / `unpaired` to them, publishing metadata-only
 * `approval` and `pairing` events on the bus (the admin UI's SSE stream, long polls), and expiring
 * pending approvals when their time is up (a timer per approval, plus lazy sweeps on reads).
 *
 * Across replicas (the bus is shared: PostgreSQL): an approval event published by another replica
 * reaches the approver sockets open here (`request` re-reads the approval, envelope included, from
 * the store by id: the event itself carries metadata only; `resolved` needs none), a pairing removed
 * through another replica closes its sockets here, and presence is the union of every replica's
 * sockets: each replica tells the others `presence` {id, online} when a pairing's first socket
 * opens here or its last one closes, and `presence.all` {ids} (what is online here) every heartbeat
 * (10 s), when another replica says hello and after a resync. A replica's presence not refreshed
 * for 30 s (it died without saying bye) counts for nothing.
 */
import type { ApprovalRecord, ApproverServerMessage, PairingRecord } from "../protocol/approvals";
import type { StoredPairing } from "../store/types";
import type { Logger } from "./context";
import { PEER_BYE, PEER_HELLO, PEER_RESYNC, type EventBus, type LiveEvent } from "./events";
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
  /** an authenticated approver socket of this pairing is open, on this replica or (as last told) another */
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
  schedule(a: Pick<ApprovalRecord, "status" | "expires_at">): void;
  /** expires what is due now (one sweep at a time) */
  sweep(): Promise<void>;
  close(): void;
}

const MAX_TIMER_MS = 24 * 3_600_000;
/** peer message types of presence */
const PRESENCE = "presence";
const PRESENCE_ALL = "presence.all";
/** pairing ids per presence.all message (each well inside a NOTIFY) */
const PRESENCE_CHUNK = 100;

export function createApprovalsHub(deps: { store: Store; bus: EventBus; log: Logger; now: () => Date; heartbeatMs?: number; presenceTtlMs?: number }): ApprovalsHub {
  const sockets = new Map<string, Set<ApproverSocket>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let sweeping: Promise<void> | null = null;
  let closed = false;
  const presenceTtlMs = deps.presenceTtlMs ?? 30_000;
  /** the pairings other replicas have sockets for, per replica, and when that replica last told */
  const remote = new Map<string, { ids: Set<string>; at: number }>();
  const remoteOnline = (pairingId: string) => {
    const now = Date.now();
    for (const [replica, entry] of remote) {
      if (now - entry.at > presenceTtlMs) remote.delete(replica);
      else if (entry.ids.has(pairingId)) return true;
    }
    return false;
  };
  /** whether the last presence.all said something was online here (an empty one is sent once, then no more) */
  let toldOnline = false;
  const tellAll = () => {
    const ids = [...sockets.keys()];
    if (ids.length === 0 && !toldOnline) return;
    toldOnline = ids.length > 0;
    for (let i = 0; i === 0 || i < ids.length; i += PRESENCE_CHUNK) {
      deps.bus.tell(PRESENCE_ALL, { ids: ids.slice(i, i + PRESENCE_CHUNK), first: i === 0 });
    }
  };

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
    online: (pairingId) => (sockets.get(pairingId)?.size ?? 0) > 0 || (remote.size > 0 && remoteOnline(pairingId)),
    withPresence: (p) => ({ ...p, approver_online: hub.online(p.id) }),

    attach(pairingId, socket) {
      let set = sockets.get(pairingId);
      if (!set) sockets.set(pairingId, (set = new Set()));
      const first = set.size === 0;
      set.add(socket);
      if (first) {
        deps.bus.tell(PRESENCE, { id: pairingId, online: true });
        toldOnline = true;
        deps.bus.publish({ type: "pairing", data: { action: "online", id: pairingId, approver_online: true } });
      }
      return () => {
        const current = sockets.get(pairingId);
        if (!current?.delete(socket)) return;
        if (current.size === 0) {
          sockets.delete(pairingId);
          deps.bus.tell(PRESENCE, { id: pairingId, online: false });
          // offline here; `approver_online` says whether a socket on another replica still serves it
          deps.bus.publish({ type: "pairing", data: { action: "offline", id: pairingId, approver_online: hub.online(pairingId) } });
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
      deps.bus.tell(PRESENCE, { id: pairingId, online: false });
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
      stopRemote();
      stopPeers();
      if (heartbeat) clearInterval(heartbeat);
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

  // ------------------------------------------------------------ other replicas

  const stopPeers = deps.bus.onPeer((m) => {
    if (m.type === PRESENCE) {
      const { id, online } = (m.data ?? {}) as { id?: unknown; online?: unknown };
      if (typeof id !== "string") return;
      let entry = remote.get(m.from);
      if (!entry) remote.set(m.from, (entry = { ids: new Set(), at: Date.now() }));
      entry.at = Date.now();
      if (online === true) entry.ids.add(id);
      else entry.ids.delete(id);
    } else if (m.type === PRESENCE_ALL) {
      const { ids, first } = (m.data ?? {}) as { ids?: unknown; first?: unknown };
      if (!Array.isArray(ids)) return;
      const entry = first === true ? { ids: new Set<string>(), at: 0 } : (remote.get(m.from) ?? { ids: new Set<string>(), at: 0 });
      for (const id of ids) if (typeof id === "string") entry.ids.add(id);
      entry.at = Date.now();
      remote.set(m.from, entry);
    } else if (m.type === PEER_BYE) {
      remote.delete(m.from);
    } else if (m.type === PEER_HELLO) {
      if (sockets.size > 0) tellAll();
    } else if (m.type === PEER_RESYNC) {
      toldOnline = true; // what the others heard last is unknown: tell them even "nothing"
      tellAll();
    }
  });

  const heartbeat = deps.bus.shared
    ? setInterval(() => {
        if (!closed) tellAll();
      }, deps.heartbeatMs ?? 10_000)
    : null;
  (heartbeat as unknown as { unref?: () => void } | null)?.unref?.();

  // approval and pairing events published by other replicas, for the sockets open here, in order
  let pushing: Promise<void> = Promise.resolve();
  const fromRemote = async (event: LiveEvent) => {
    const data = (event.data ?? {}) as { action?: string; id?: string; pairing_id?: string; status?: ApprovalRecord["status"]; expires_at?: string };
    if (typeof data.id !== "string") return;
    if (event.type === "pairing") {
      if (data.action === "removed") hub.unpaired(data.id);
      return;
    }
    if (typeof data.pairing_id !== "string") return;
    if (data.action === "requested" && data.status === "pending" && typeof data.expires_at === "string") {
      hub.schedule({ status: "pending", expires_at: data.expires_at }); // whichever replica is up expires it on time
      if (!sockets.has(data.pairing_id)) return;
      const approval = await deps.store.getApproval(data.id);
      if (approval?.status === "pending") toPairing(approval.pairing_id, { type: "request", approval });
    } else if ((data.action === "decided" || data.action === "expired") && data.status !== undefined) {
      toPairing(data.pairing_id, { type: "resolved", id: data.id, status: data.status });
    }
  };
  const stopRemote = deps.bus.subscribe(
    (event, from) => {
      if (from === null || closed) return; // this replica's own: already pushed by approvalChanged / unpaired
      pushing = pushing
        .then(() => fromRemote(event))
        .catch((error) => {
          if (!closed) deps.log.warn("relaying another replica's approval event failed", error);
        });
    },
    ["approval", "pairing"],
  );

  return hub;
}
