/**
 * Debian's Chromium driven by playwright-core, for test/browser. Launched headless with the flags
 * this machine needs (no outside network) and a fresh user-data-dir per launch. If Chromium is
 * missing or does not start, `launchBrowser` throws: browser tests fail loudly, never skip.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./binary";
import { tempDir } from "./tmp";
import { onDispose } from "./world";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, "test-output", "screenshots");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this`);
  const profile = await tempDir("airlock-chromium-");
  // launchPersistentContext passes the fresh folder as --user-data-dir
  const context = await chromium.launchPersistentContext(profile.path, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, timeout: 30_000 });
  onDispose(async () => {
    await context.close().catch(() => {});
    await profile[Symbol.asyncDispose]();
  });
  return context;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
