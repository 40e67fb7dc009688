/** In-process live events: the UI's SSE stream and the daemons' change feed wake on these. */
export interface LiveEvent {
  type: "decision" | "session" | "policy" | "role" | "client" | "token" | "approval" | "pairing";
  /** the audit sequence number after which this change is visible, when known */
  seq?: number;
  data: unknown;
}

export interface EventBus {
  publish(event: LiveEvent): void;
  subscribe(listener: (event: LiveEvent) => void): () => void;
  readonly listeners: number;
}

export function createEventBus(): EventBus {
  const listeners = new Set<(event: LiveEvent) => void>();
  return {
    publish(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          // a broken subscriber must not break the publisher
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get listeners() {
      return listeners.size;
    },
  };
}
