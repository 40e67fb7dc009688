/**
 * Live updates. `GET /api/v1/events` (SSE) streams decisions, session and policy changes, and the
 * metadata of approvals and pairings (never an envelope), to the UI; `GET /api/v1/changes?after=SEQ&wait=S` is the daemons' change feed: audit events that change
 * what a daemon decides (policies, roles, session and client revocations) after SEQ, long-polled.
 *
 * Both work across replicas sharing a PostgreSQL store: the bus carries other replicas' events
 * (events.ts), and the feed itself is read from the store's audit trail, so a long poll woken by
 * another replica's change reads it like its own.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { ChangesQuery } from "../../protocol/api";
import { guard, READERS, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { query } from "../validate";

const FEED_TYPES = /^(policy\.|role\.|session\.revoked|client\.revoked)/;
/** the live events that may mean a new feed entry */
const FEED_EVENTS = ["policy", "role", "session", "client", "token"] as const;

export function liveRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const readers = guard(ctx, ...READERS);
  const feedReaders = guard(ctx, "admin", "viewer", "client");

  app.get("/events", readers, (c) =>
    streamSSE(c, async (s) => {
      let id = 0;
      const queue: string[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = ctx.bus.subscribe((event) => {
        queue.push(JSON.stringify(event));
        if (queue.length > 1000) queue.shift(); // a slow reader loses the oldest, never the gateway's memory
        wake?.();
      });
      s.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      await s.writeSSE({ event: "hello", data: JSON.stringify({ version: ctx.version }), id: String(id++) });
      while (!s.aborted) {
        while (queue.length > 0 && !s.aborted) {
          const data = queue.shift()!;
          await s.writeSSE({ event: JSON.parse(data).type, data, id: String(id++) });
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000); // heartbeat keeps proxies from closing an idle stream
        });
        wake = null;
        if (queue.length === 0 && !s.aborted) await s.writeSSE({ event: "ping", data: "{}" });
      }
      unsubscribe();
    }),
  );

  app.get("/changes", feedReaders, async (c) => {
    const { after, wait } = query(c, ChangesQuery);
    const read = async () => {
      const events = await ctx.store.auditSince(after, 500);
      const last = events.at(-1)?.seq ?? after;
      return { events: events.filter((e) => FEED_TYPES.test(e.type)), next: last, more: events.length === 500 };
    };
    if (wait === 0) return c.json(await read());
    // subscribe BEFORE the first read: a change committed between the read and the subscription
    // would otherwise wait out the whole long poll
    let changed!: () => void;
    const woken = new Promise<void>((resolve) => {
      changed = resolve;
    });
    // what changes a daemon's decisions, published by this replica or another one (events.ts)
    const unsubscribe = ctx.bus.subscribe(() => changed(), FEED_EVENTS);
    try {
      let result = await read();
      if (result.events.length === 0 && !result.more) {
        const timer = setTimeout(changed, wait * 1000);
        c.req.raw.signal.addEventListener("abort", changed);
        await woken;
        clearTimeout(timer);
        result = await read();
      }
      return c.json(result);
    } finally {
      unsubscribe();
    }
  });

  return app;
}
