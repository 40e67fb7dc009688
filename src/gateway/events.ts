/**
 * Live events: the UI's SSE stream, the daemons' change feed, approval long polls and the approver
 * sockets wake on these.
 *
 * One gateway, or several replicas sharing one store. When the store can broadcast (PostgreSQL:
 * LISTEN/NOTIFY, `Store.broadcast` / `Store.subscribe`), `publish` delivers an event to this
 * replica's listeners at once AND sends it to the other replicas, whose buses deliver it to their
 * listeners exactly once (`from` = the publishing replica's id; a replica skips what it sent
 * itself). On SQLite (one process) the bus is local only.
 *
 * On the wire (docs/deploy.md, "Live updates across replicas"):
 * - what a replica publishes within one tick goes out together, one NOTIFY per ≤ 7.9 kB of JSON,
 *   one in flight at a time (so a replica's messages arrive in the order it sent them);
 * - `decision` events carry ids only (`{count, ids}`, the batch's last 50): commands stay out of
 *   NOTIFY payloads; a receiving replica that has decision listeners re-reads those decisions from
 *   the store and delivers the usual `{count, decisions}`. Several decision events of one tick are
 *   merged into one;
 * - any other event too large for a NOTIFY goes out as its metadata (`action`, `id`) with
 *   `partial: true`;
 * - peer messages (`tell` / `onPeer`) carry replica state that is not a live event: approver
 *   presence (approvals-hub.ts), and the bus's own `bus.listeners`: how many decision listeners a
 *   replica has, so that `listeners` (which decisions.ts checks before building a decision event)
 *   counts the admin UIs connected to any replica. Announced at once when it becomes non-zero,
 *   otherwise every heartbeat (10 s); a replica not heard of for 30 s counts for nothing.
 * - `bus.hello` when a replica starts listening (and after its link dropped and came back:
 *   `bus.resync` locally), answered with the peers' state; `bus.bye` when it stops.
 * Delivery is at most once: a NOTIFY lost while a link is down is not replayed (hence the
 * resync, and the long polls' periodic re-read).
 */
import type { DecisionRecord } from "../protocol/records";
import { STORE_RESYNC, STORE_SIGNAL_MAX_BYTES, type Store, type StoreSignal, type StoreSubscription } from "../store/types";

export type LiveEventType = "decision" | "session" | "policy" | "role" | "client" | "token" | "approval" | "pairing";

export interface LiveEvent {
  type: LiveEventType;
  /** the audit sequence number after which this change is visible, when known */
  seq?: number;
  data: unknown;
}

/** `from`: null for an event published on this replica, else the id of the replica that published it */
export type LiveListener = (event: LiveEvent, from: string | null) => void;

/** a message from another replica (or, for `bus.resync`, from this bus itself) */
export interface PeerMessage {
  type: string;
  data: unknown;
  from: string;
}

/** peer message types the bus sends and delivers itself */
export const PEER_HELLO = "bus.hello";
export const PEER_BYE = "bus.bye";
/** delivered locally (never sent) when this replica's link to the others came back after a drop */
export const PEER_RESYNC = "bus.resync";
const PEER_LISTENERS = "bus.listeners";

export interface EventBus {
  /** this replica's id (the `from` its events carry elsewhere) */
  readonly id: string;
  /** whether events travel to other replicas (the store broadcasts) */
  readonly shared: boolean;
  /** resolves once events from other replicas are being received (at once when not shared) */
  readonly ready: Promise<void>;
  publish(event: LiveEvent): void;
  /** `types`: only these (default every type) */
  subscribe(listener: LiveListener, types?: readonly LiveEventType[]): () => void;
  /** listeners that take decision events, here and (as last announced) on the other replicas */
  readonly listeners: number;
  /** sends a peer message to the other replicas (not to this one); nothing when not shared */
  tell(type: string, data: unknown): void;
  onPeer(handler: (message: PeerMessage) => void): () => void;
  /** says bye to the other replicas and stops listening to them */
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** the store whose broadcast carries events between replicas; `getDecision` re-reads decisions */
  store?: Pick<Store, "broadcast" | "subscribe" | "getDecision">;
  log?: { warn(message: string, ...args: unknown[]): void };
  /** this replica's id (default random) */
  id?: string;
  /** how often this replica re-announces its listeners (default 10 s) */
  heartbeatMs?: number;
  /** after how long without news a replica's announced listeners count for nothing (default 30 s) */
  peerTtlMs?: number;
}

/** the signal type of the bus on the store */
const SIGNAL = "airlock.bus";
/** how many decision ids one event carries between replicas */
const DECISION_IDS = 50;
/** outgoing messages kept while the database does not take them */
const OUTBOX_MAX = 10_000;

type Wire = { e: LiveEvent } | { p: string; d: unknown };
interface BusSignal {
  o: string;
  m: Wire[];
}

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

/** a live event as it may travel: decisions by id, anything too large by its metadata */
function forWire(event: LiveEvent, budget: number): LiveEvent | null {
  let wire = event;
  if (event.type === "decision") {
    const data = event.data as { count?: number; decisions?: { id: string }[]; ids?: string[] };
    if (!Array.isArray(data?.ids)) {
      const ids = (data?.decisions ?? []).map((d) => d.id).slice(-DECISION_IDS);
      wire = { ...event, data: { count: data?.count ?? ids.length, ids } };
    }
  }
  if (byteLength(JSON.stringify({ e: wire })) <= budget) return wire;
  const data = (event.data ?? {}) as Record<string, unknown>;
  const meta: Record<string, unknown> = { partial: true };
  for (const key of ["action", "id", "count"]) if (typeof data[key] === "string" || typeof data[key] === "number") meta[key] = data[key];
  wire = { ...event, data: meta };
  return byteLength(JSON.stringify({ e: wire })) <= budget ? wire : null;
}

export function createEventBus(options: EventBusOptions = {}): EventBus {
  const store = options.store?.broadcast && options.store.subscribe ? options.store : null;
  const id = options.id ?? `gw-${crypto.randomUUID()}`;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const peerTtlMs = options.peerTtlMs ?? 30_000;

  const listeners = new Set<{ listener: LiveListener; types: ReadonlySet<LiveEventType> | null }>();
  const peerHandlers = new Set<(message: PeerMessage) => void>();
  /** decision listeners per other replica, as last announced */
  const peerListeners = new Map<string, { n: number; at: number }>();
  let decisionListeners = 0;
  let announced = 0;
  let closed = false;

  const takesDecisions = (types: ReadonlySet<LiveEventType> | null) => types === null || types.has("decision");

  const deliver = (event: LiveEvent, from: string | null) => {
    for (const { listener, types } of [...listeners]) {
      if (types !== null && !types.has(event.type)) continue;
      try {
        listener(event, from);
      } catch {
        // a broken subscriber must not break the publisher
      }
    }
  };

  // ------------------------------------------------------------ sending

  const outbox: Wire[] = [];
  let flushing: Promise<void> | null = null;
  let scheduled = false;
  let warnedAt = 0;
  const envelopeBytes = byteLength(JSON.stringify({ type: SIGNAL, data: { o: id, m: [] } }));
  const budget = STORE_SIGNAL_MAX_BYTES - envelopeBytes - 2;

  const warn = (message: string, error?: unknown) => {
    const now = Date.now();
    if (now - warnedAt < 60_000) return; // the database being down is logged once a minute, not per event
    warnedAt = now;
    options.log?.warn(message, error);
  };

  const send = (message: Wire) => {
    if (!store || closed) return;
    if (outbox.length >= OUTBOX_MAX) {
      outbox.shift();
      warn("live events to the other replicas are being dropped: the database does not take them");
    }
    outbox.push(message);
    if (!scheduled && !flushing) {
      scheduled = true;
      setTimeout(() => {
        scheduled = false;
        void flush();
      }, 0);
    }
  };

  /** one tick's messages: decision events merged, each fitted, packed into as few signals as fit */
  const pack = (messages: Wire[]): Wire[][] => {
    let decision: { count: number; ids: string[]; seq?: number } | null = null;
    let decisionAt = -1;
    const fitted: Wire[] = [];
    for (const m of messages) {
      if ("e" in m && m.e.type === "decision") {
        const wire = forWire(m.e, budget)?.data as { count: number; ids: string[] } | undefined;
        if (!wire) continue;
        decision ??= { count: 0, ids: [] };
        decision.count += wire.count;
        decision.ids = [...decision.ids, ...wire.ids].slice(-DECISION_IDS);
        if (m.e.seq !== undefined) decision.seq = m.e.seq;
        if (decisionAt < 0) {
          decisionAt = fitted.length;
          fitted.push(m); // replaced below
        }
        continue;
      }
      if ("e" in m) {
        const wire = forWire(m.e, budget);
        if (wire) fitted.push({ e: wire });
        else warn(`a ${m.e.type} event is too large to reach the other replicas`);
      } else if (byteLength(JSON.stringify(m)) <= budget) fitted.push(m);
      else warn(`a ${m.p} message is too large to reach the other replicas`);
    }
    if (decision) {
      const { seq, ...data } = decision;
      fitted[decisionAt] = { e: { type: "decision", ...(seq === undefined ? {} : { seq }), data } };
    }
    const batches: Wire[][] = [];
    let current: Wire[] = [];
    let size = 0;
    for (const m of fitted) {
      const bytes = byteLength(JSON.stringify(m)) + 1;
      if (current.length > 0 && size + bytes > budget) {
        batches.push(current);
        current = [];
        size = 0;
      }
      current.push(m);
      size += bytes;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  };

  const flush = (): Promise<void> => {
    flushing ??= (async () => {
      try {
        while (outbox.length > 0 && store) {
          for (const batch of pack(outbox.splice(0))) {
            const signal: StoreSignal = { type: SIGNAL, data: { o: id, m: batch } satisfies BusSignal };
            try {
              await store.broadcast!(signal);
            } catch (error) {
              if (!closed) warn("could not send live events to the other replicas", error);
            }
          }
        }
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  };

  // ------------------------------------------------------------ receiving

  const peerMessage = (message: PeerMessage) => {
    if (message.type === PEER_LISTENERS) {
      const n = Number((message.data as { n?: unknown })?.n ?? 0);
      if (Number.isFinite(n) && n > 0) peerListeners.set(message.from, { n, at: Date.now() });
      else peerListeners.delete(message.from);
      return;
    }
    if (message.type === PEER_HELLO) {
      if (decisionListeners > 0) send({ p: PEER_LISTENERS, d: { n: decisionListeners } });
    } else if (message.type === PEER_BYE) {
      peerListeners.delete(message.from);
    }
    for (const handler of [...peerHandlers]) {
      try {
        handler(message);
      } catch {
        // one broken handler must not keep the message from the others
      }
    }
  };

  /** a remote decision event: the decisions re-read by id (only when someone here takes them) */
  const remoteDecision = (event: LiveEvent, from: string) => {
    if (decisionListeners === 0) return;
    const data = event.data as { count?: number; ids?: unknown };
    const ids = Array.isArray(data?.ids) ? data.ids.filter((x): x is string => typeof x === "string").slice(-DECISION_IDS) : [];
    void Promise.all(ids.map((d) => store!.getDecision(d).catch(() => null))).then((found) => {
      if (closed) return;
      const decisions = found.filter((d): d is DecisionRecord => d !== null);
      deliver({ ...event, data: { count: typeof data?.count === "number" ? data.count : decisions.length, decisions } }, from);
    });
  };

  const received = (signal: StoreSignal) => {
    if (closed) return;
    if (signal.type === STORE_RESYNC) {
      send({ p: PEER_HELLO, d: null });
      peerMessage({ type: PEER_RESYNC, data: null, from: id });
      return;
    }
    if (signal.type !== SIGNAL) return;
    const data = signal.data as Partial<BusSignal> | null;
    if (typeof data?.o !== "string" || data.o === id || !Array.isArray(data.m)) return; // our own, or not the bus's
    for (const m of data.m) {
      if (typeof m !== "object" || m === null) continue;
      if ("e" in m && typeof m.e === "object" && m.e !== null && typeof m.e.type === "string") {
        if (m.e.type === "decision") remoteDecision(m.e, data.o);
        else deliver(m.e, data.o);
      } else if ("p" in m && typeof m.p === "string") {
        peerMessage({ type: m.p, data: m.d ?? null, from: data.o });
      }
    }
  };

  let subscription: StoreSubscription | null = null;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let ready: Promise<void> = Promise.resolve();
  if (store) {
    subscription = store.subscribe!(received);
    ready = subscription.ready.then(() => {
      if (!closed) send({ p: PEER_HELLO, d: null });
    });
    heartbeat = setInterval(() => {
      const now = Date.now();
      for (const [peer, entry] of peerListeners) if (now - entry.at > peerTtlMs) peerListeners.delete(peer);
      if (decisionListeners > 0 || announced > 0) {
        announced = decisionListeners;
        send({ p: PEER_LISTENERS, d: { n: decisionListeners } });
      }
    }, heartbeatMs);
    (heartbeat as unknown as { unref?: () => void }).unref?.();
  }

  return {
    id,
    shared: store !== null,
    ready,
    publish(event) {
      deliver(event, null);
      if (store && !closed) send({ e: event });
    },
    subscribe(listener, types) {
      const entry = { listener, types: types ? new Set(types) : null };
      listeners.add(entry);
      if (takesDecisions(entry.types)) {
        decisionListeners++;
        // the first decision listener is announced at once; the last one leaving waits for the heartbeat
        if (announced === 0 && store) {
          announced = decisionListeners;
          send({ p: PEER_LISTENERS, d: { n: decisionListeners } });
        }
      }
      return () => {
        if (listeners.delete(entry) && takesDecisions(entry.types)) decisionListeners--;
      };
    },
    get listeners() {
      let n = decisionListeners;
      if (peerListeners.size > 0) {
        const now = Date.now();
        for (const entry of peerListeners.values()) if (now - entry.at <= peerTtlMs) n += entry.n;
      }
      return n;
    },
    tell(type, data) {
      send({ p: type, d: data });
    },
    onPeer(handler) {
      peerHandlers.add(handler);
      return () => peerHandlers.delete(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      peerHandlers.clear();
      if (store) {
        // what is still queued, and bye, go out NOW (each NOTIFY is handed to the database before
        // close() returns): the gateway closes the store right after, without waiting for us
        const last = pack([...outbox.splice(0), { p: PEER_BYE, d: null }]).map((batch) =>
          store.broadcast!({ type: SIGNAL, data: { o: id, m: batch } satisfies BusSignal }).catch(() => {
            // the others notice by the missing heartbeats instead
          }),
        );
        await Promise.all([flushing, ...last]);
      }
      subscription?.unsubscribe();
      subscription = null;
    },
  };
}
