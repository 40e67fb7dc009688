/** The gateway serves the built UI: content types, caching headers, SPA fallback, no path escape. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { serveWeb } from "../../src/gateway/static";
import { tempDir } from "../support/tmp";

describe("embedded web UI", () => {
  test("files, caching, SPA fallback, and 404s for missing assets and API paths", async () => {
    await using dir = await tempDir();
    const web = join(dir.path, "web");
    mkdirSync(join(web, "assets"), { recursive: true });
    writeFileSync(join(web, "index.html"), "<!doctype html><title>Airlock</title>");
    writeFileSync(join(web, "assets", "app-3f9a2c1d.js"), "console.log(1)");
    writeFileSync(join(dir.path, "secret.txt"), "nope");
    const app = new Hono().get("*", serveWeb(web));

    const index = await app.request("/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(index.headers.get("cache-control")).toBe("no-cache");

    const asset = await app.request("/assets/app-3f9a2c1d.js");
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");

    const route = await app.request("/sessions/ses_123");
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>Airlock</title>");

    expect((await app.request("/assets/missing.js")).status).toBe(404);
    expect((await app.request("/../secret.txt")).status).not.toBe(200);
    expect(await (await app.request("/%2e%2e/secret.txt")).text()).not.toContain("nope");
  });

  test("without a built UI the gateway says so", async () => {
    const app = new Hono().get("*", serveWeb(null));
    const res = await app.request("/");
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("/api/v1");
  });
});
