/**
 * The admin UI in real Chromium against the compiled gateway (isolated data dir): sign-in, a
 * decision arriving live, revoking a session, filtering and exporting the audit trail, and a
 * viewer without write buttons. Screenshots of each main page go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../support/browser";
import { ADMIN, api, disposeWorlds, startGateway, world, type World } from "../support/world";

let w: World;
let browser: BrowserContext;
let viewerToken: string;
let clientToken: string;
let sessionId: string;

async function asClient(method: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

function decision(id: string, command: string, verdict: "allow" | "block") {
  return { id, session_id: sessionId, role: "default-agent", agent: "claude", tool: command.split(" ")[0]!, command, normalized: [command], verdict, policy: verdict === "block" ? "test-policy" : null, rule: verdict === "block" ? "test-block" : null, pattern: null, reason: verdict === "block" ? "force pushes rewrite shared history" : "no rule matched", source: "hook", cwd: "/home/alice/repo", decided_at: new Date().toISOString() };
}

async function signedIn(token: string, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(w.gatewayUrl);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

beforeAll(async () => {
  // Chromium first: without it every test here must fail, not skip
  browser = await launchBrowser();
  w = await world("airlock-browser-");
  await startGateway(w);
  viewerToken = (await api(w, "POST", "/api/v1/tokens", { kind: "viewer", name: "ui viewer" })).body.token;
  const enrollment = (await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "browser test" })).body.token;
  const enrolled = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, { method: "POST", headers: { authorization: `Bearer ${enrollment}`, "content-type": "application/json" }, body: JSON.stringify({ name: "ws1", hostname: "ws1.example", user: "alice", version: "test" }) });
  clientToken = ((await enrolled.json()) as { token: string }).token;
  const session = await asClient("POST", "/api/v1/sessions", { agent: "claude", role: "default-agent", user: "alice", host: "ws1.example", cwd: "/home/alice/repo" });
  expect(session.status).toBe(201);
  sessionId = session.body.session.id;
  expect((await asClient("POST", "/api/v1/decisions", { decisions: [decision("d-seed-1", "git status", "allow"), decision("d-seed-2", "rm -rf /", "block")] })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await disposeWorlds();
});

describe("admin UI in Chromium", () => {
  test("a wrong token is refused next to the field; the admin token signs in; the token never goes in the URL", async () => {
    const page = await browser.newPage();
    await page.goto(w.gatewayUrl);
    await page.getByLabel("Token").waitFor();
    // time from navigation start until the sign-in form is rendered (issue 6 asks for <= 300 ms on
    // loopback); the bound here is loose so a loaded CI machine does not flake, the number is printed
    const interactive = await page.evaluate(() => performance.now());
    console.log(`admin UI interactive after ${Math.round(interactive)} ms`);
    expect(interactive).toBeLessThan(3000);
    await page.getByLabel("Token").fill("not-a-real-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator("#token-error").textContent()).resolves.toBeTruthy();
    await screenshot(page, "sign-in-error");
    await page.getByLabel("Token").fill(ADMIN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator('[data-stat="block"]').waitFor();
    await page.getByText("rm -rf /").first().waitFor();
    expect(page.url()).not.toContain(ADMIN);
    expect(await page.evaluate(() => sessionStorage.getItem("airlock.role"))).toBe("admin");
    await page.locator(".live-live").waitFor();
    await screenshot(page, "overview");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Token").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("airlock.token"))).toBeNull();
    await page.close();
  }, 30_000);

  test("a decision posted by an enrolled client appears live, without a reload", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Decisions" }).click();
    await page.getByRole("heading", { name: "Decisions" }).waitFor();
    await page.locator('[data-decision="d-seed-2"]').waitFor();
    await page.locator(".live-live").waitFor();
    const marker = await page.evaluate(() => ((window as any).__noReload = true));
    expect(marker).toBe(true);
    expect((await asClient("POST", "/api/v1/decisions", { decisions: [decision("d-live-1", "git push --force origin main", "block")] })).status).toBe(200);
    await page.locator('[data-decision="d-live-1"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    // the verdict filter, applied on the server
    await page.getByLabel("Verdict").selectOption("allow");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-decision="d-live-1"]').waitFor({ state: "detached" });
    await page.locator('[data-decision="d-seed-1"]').waitFor();
    await page.getByLabel("Verdict").selectOption("");
    await page.getByLabel("Command contains").fill("push");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-decision="d-seed-1"]').waitFor({ state: "detached" });
    await page.locator('[data-decision="d-live-1"]').waitFor();
    await page.getByLabel("Command contains").fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-decision="d-seed-1"]').waitFor();
    await screenshot(page, "decisions");
    await page.close();
  }, 30_000);

  test("an admin revokes a session after confirming", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Sessions" }).click();
    const row = page.locator(`[data-session="${sessionId}"]`);
    await row.waitFor();
    await screenshot(page, "sessions");
    await row.getByRole("button", { name: /Revoke/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Revoke this session?").waitFor();
    await screenshot(page, "sessions-revoke-dialog");
    await dialog.getByRole("button", { name: "Revoke session" }).click();
    await dialog.waitFor({ state: "detached" });
    await row.getByText("revoked").waitFor();
    expect((await api(w, "GET", `/api/v1/sessions/${sessionId}`)).body.status).toBe("revoked");
    await page.close();
  }, 30_000);

  test("the audit trail filters by type, verifies its chain and exports JSONL", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Audit" }).click();
    await page.locator('[data-verify="ok"]').waitFor();
    await page.locator('[data-audit="token.created"]').first().waitFor();
    await page.getByLabel("Event type or prefix").fill("session.");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-audit="token.created"]').first().waitFor({ state: "detached" });
    const types = await page.locator("[data-audit]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-audit")));
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => t!.startsWith("session."))).toBe(true);
    expect(types).toContain("session.revoked");
    await screenshot(page, "audit");
    // an invalid filter: the gateway's message appears by the filter
    await page.getByLabel("Event type or prefix").fill("Not A Type");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page.locator("#audit-error").textContent()).resolves.toContain("event type");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export JSONL" }).click()]);
    const file = await download.path();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.some((e) => e.type === "session.revoked")).toBe(true);
    await page.close();
  }, 30_000);

  test("a viewer sees everything read-only: no revoke button", async () => {
    const page = await signedIn(viewerToken);
    expect(await page.evaluate(() => sessionStorage.getItem("airlock.role"))).toBe("viewer");
    await page.getByText("viewer (read-only)").waitFor();
    await page.getByRole("link", { name: "Sessions" }).click();
    await page.locator(`[data-session="${sessionId}"]`).waitFor();
    expect(await page.getByRole("button", { name: /Revoke/ }).count()).toBe(0);
    await page.close();
  }, 30_000);

  test("on a phone-sized screen the menu opens the navigation", async () => {
    const page = await signedIn(ADMIN, { width: 390, height: 844 });
    await expect(page.getByRole("link", { name: "Policies" }).isVisible()).resolves.toBe(false);
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByRole("heading", { name: "Policies" }).waitFor();
    await screenshot(page, "policies-phone");
    await page.getByRole("button", { name: "Menu" }).click();
    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator('[data-stat="block"]').waitFor();
    await screenshot(page, "overview-phone");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "overview-phone-dark");
    await page.close();
  }, 30_000);
});
