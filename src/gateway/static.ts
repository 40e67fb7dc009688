/**
 * The embedded admin UI (`web-dist/`): files with their content types, hashed assets cached for a
 * year, `index.html` never cached, and an SPA fallback for client-side routes.
 */
import { existsSync, statSync } from "node:fs";
import { join, normalize } from "node:path";
import type { Context } from "hono";

export function serveWeb(root: string | null | undefined) {
  const usable = root && existsSync(join(root, "index.html")) ? root : null;
  return async (c: Context): Promise<Response> => {
    if (!usable) {
      return c.text("The admin UI is not part of this build. The API is under /api/v1.\n", 404);
    }
    const path = normalize(decodeURIComponent(new URL(c.req.url).pathname)).replace(/^(\.\.(\/|$))+/, "");
    const file = join(usable, path);
    if (file.startsWith(usable) && path !== "/" && existsSync(file) && statSync(file).isFile()) {
      const immutable = /\/assets\//.test(path) || /\.[0-9a-z]{8,}\.(js|css|woff2?|png|svg)$/.test(path);
      return new Response(Bun.file(file), { headers: { "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache" } });
    }
    if (path.startsWith("/api/") || /\.[a-z0-9]+$/i.test(path)) return c.json({ code: "not_found", message: `no such file ${path}`, details: [] }, 404);
    return new Response(Bun.file(join(usable, "index.html")), { headers: { "Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8" } });
  };
}
