/**
 * The approver's service worker (`/approver-sw.js`, scope `/approver`): keeps the app shell so the
 * installed approver opens offline (it then says "offline" and reconnects when it can). Pages are
 * network-first (a new build is picked up at once when online), hashed assets cache-first. The
 * API is never cached: requests and decisions only ever come live from the gateway.
 */
interface Waiting extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface Fetching extends Waiting {
  readonly request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface Messaging extends Waiting {
  readonly data: unknown;
}
interface WorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: "install" | "activate", fn: (e: Waiting) => void): void;
  addEventListener(type: "fetch", fn: (e: Fetching) => void): void;
  addEventListener(type: "message", fn: (e: Messaging) => void): void;
}
/** the DOM lib types `self` as a Window; in this file it is the service worker's global scope */
const sw = self as unknown as WorkerScope;

const CACHE = "airlock-approver-v1";
const PAGE = "/approver";
const SHELL = [PAGE, "/approver.webmanifest", "/approver-icon.svg", "/approver-icon-192.png", "/approver-icon-512.png"];

sw.addEventListener("install", (e) => e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => sw.skipWaiting())));

sw.addEventListener("activate", (e) =>
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("airlock-approver-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  ),
);

/** the page tells which hashed assets it runs on: keep those, drop older builds' */
sw.addEventListener("message", (e) => {
  const data = e.data as { type?: string; urls?: unknown } | null;
  if (data?.type !== "cache" || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((u): u is string => typeof u === "string" && u.startsWith("/assets/"));
  e.waitUntil(
    caches.open(CACHE).then(async (c) => {
      await c.addAll(urls);
      for (const req of await c.keys()) {
        const p = new URL(req.url).pathname;
        if (p.startsWith("/assets/") && !urls.includes(p)) await c.delete(req);
      }
    }),
  );
});

sw.addEventListener("fetch", (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== sw.location.origin || url.pathname.startsWith("/api/")) return;
  if (req.mode === "navigate") {
    e.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok && url.pathname === PAGE) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put(PAGE, copy));
          }
          return res;
        })
        .catch(async () => (await caches.match(PAGE)) ?? Response.error()),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/") || SHELL.includes(url.pathname)) {
    e.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ??
          fetch(req).then((res) => {
            if (res.ok && url.pathname.startsWith("/assets/")) {
              const copy = res.clone();
              void caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});

export {};
