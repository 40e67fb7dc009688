/**
 * The approver's live link: `GET /api/v1/approver/ws`, the approver token in the first message
 * (never in the URL), `ready` → online. Reconnects with capped exponential backoff and jitter, at
 * once when the browser comes back online or the page becomes visible; pings so a dead link is
 * noticed. A refused token stops the link (the pairing is gone).
 */
import type { ApproverServerMessage } from "../../protocol/approvals";

export type LinkState = "connecting" | "online" | "offline";

export interface LinkHandlers {
  message(m: ApproverServerMessage): void;
  state(s: LinkState): void;
  /** the gateway refused the token: do not retry */
  refused(message: string): void;
}

const PING_MS = 25_000;
const PONG_WAIT_MS = 10_000;

export function openLink(token: string, on: LinkHandlers): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let attempt = 0;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let ping: ReturnType<typeof setInterval> | null = null;
  let pongDue: ReturnType<typeof setTimeout> | null = null;

  const clearTimers = () => {
    if (ping) clearInterval(ping);
    if (pongDue) clearTimeout(pongDue);
    ping = pongDue = null;
  };
  const schedule = () => {
    if (stopped || retry) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.75 + Math.random() * 0.5);
    attempt++;
    retry = setTimeout(() => {
      retry = null;
      connect();
    }, delay);
  };
  const connect = () => {
    if (stopped) return;
    clearTimers();
    on.state("connecting");
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/approver/ws`;
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      on.state("offline");
      return schedule();
    }
    ws = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
    socket.onmessage = (e) => {
      let m: ApproverServerMessage;
      try {
        m = JSON.parse(String(e.data)) as ApproverServerMessage;
      } catch {
        return;
      }
      if (m.type === "pong") {
        if (pongDue) clearTimeout(pongDue);
        pongDue = null;
        return;
      }
      if (m.type === "ready") {
        attempt = 0;
        on.state("online");
        ping = setInterval(() => {
          if (socket.readyState !== WebSocket.OPEN) return;
          socket.send(JSON.stringify({ type: "ping" }));
          if (!pongDue) pongDue = setTimeout(() => socket.close(), PONG_WAIT_MS);
        }, PING_MS);
      }
      if (m.type === "error" && (m.code === "unauthorized" || m.code === "forbidden")) {
        stop();
        on.refused(m.message);
        return;
      }
      on.message(m);
    };
    socket.onclose = (e) => {
      if (ws !== socket) return;
      ws = null;
      clearTimers();
      if (stopped) return;
      // 4401/4403: the gateway closed the socket because the token is not (or no longer) valid
      if (e.code === 4401 || e.code === 4403 || e.code === 1008) {
        stop();
        on.refused(e.reason || "The gateway no longer accepts this device.");
        return;
      }
      on.state("offline");
      schedule();
    };
  };
  const now = () => {
    if (stopped || (ws && ws.readyState <= WebSocket.OPEN)) return;
    if (retry) clearTimeout(retry);
    retry = null;
    connect();
  };
  const visible = () => document.visibilityState === "visible" && now();
  addEventListener("online", now);
  document.addEventListener("visibilitychange", visible);
  const stop = () => {
    stopped = true;
    removeEventListener("online", now);
    document.removeEventListener("visibilitychange", visible);
    if (retry) clearTimeout(retry);
    clearTimers();
    const s = ws;
    ws = null;
    s?.close();
    on.state("offline");
  };
  connect();
  return stop;
}
