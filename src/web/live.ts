/**
 * The gateway's event stream (`/api/v1/events`, SSE) read with fetch, because the token goes in a
 * header and EventSource cannot send one. Reconnects with capped exponential backoff, and on
 * reconnecting bumps the ticks so every page refetches what it missed while the stream was down.
 */
import { signal } from "@preact/signals";
import { signOut, token } from "./api";

export type LiveState = "connecting" | "live" | "reconnecting" | "off";

export const liveState = signal<LiveState>("off");
/** bumped on every decision event: pages showing decisions refresh when it changes */
export const decisionTick = signal(0);
/** bumped on every session event */
export const sessionTick = signal(0);
/** bumped on every approval or pairing event (requests, decisions, approver presence) */
export const approvalTick = signal(0);

const STALE_MS = 40_000;

let controller: AbortController | null = null;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

export function stopLive(): void {
  controller?.abort();
  controller = null;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  liveState.value = "off";
}

function dispatch(event: string): void {
  if (event === "decision") decisionTick.value++;
  else if (event === "session") sessionTick.value++;
  else if (event === "approval" || event === "pairing") approvalTick.value++;
}

export function startLive(): void {
  stopLive();
  const ctl = new AbortController();
  controller = ctl;
  let attempt = 0;
  const connect = async () => {
    liveState.value = attempt === 0 ? "connecting" : "reconnecting";
    // the gateway sends a ping every 15 s: a stream silent for longer is dead (a proxy or a
    // sleeping laptop dropped it without a close) and is replaced
    const conn = new AbortController();
    const onAbort = () => conn.abort();
    ctl.signal.addEventListener("abort", onAbort);
    let watchdog = setTimeout(() => conn.abort(), STALE_MS);
    const heard = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => conn.abort(), STALE_MS);
    };
    try {
      const res = await fetch("/api/v1/events", { headers: { authorization: `Bearer ${token.value ?? ""}`, accept: "text/event-stream" }, signal: conn.signal });
      if (res.status === 401) {
        // the token was revoked: retrying cannot help
        signOut("Your token was not accepted any more. Sign in again.");
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        heard();
        buffer += value.replace(/\r\n/g, "\n");
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: ?(.*)$/m.exec(block)?.[1] ?? "message";
          if (name === "hello") {
            // back after a drop: what happened meanwhile was not streamed, so pages refetch
            if (attempt > 0) {
              decisionTick.value++;
              sessionTick.value++;
              approvalTick.value++;
            }
            attempt = 0;
            liveState.value = "live";
          }
          dispatch(name);
        }
      }
    } catch {
      /* dropped or refused: retry below */
    } finally {
      clearTimeout(watchdog);
      ctl.signal.removeEventListener("abort", onAbort);
    }
    if (ctl.signal.aborted) return;
    attempt++;
    liveState.value = "reconnecting";
    const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)) * (0.75 + Math.random() * 0.5);
    retryTimer = setTimeout(() => void connect(), delay);
  };
  void connect();
}
