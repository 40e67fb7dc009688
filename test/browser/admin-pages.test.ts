/**
 * The Policies, Roles and Clients pages in real Chromium against the compiled gateway: a policy
 * refused with its field error then fixed, simulated (a newly blocked command) and saved; attached
 * to a role, whose effective blocked list shows it; the try-it box; clients revoked and an
 * enrollment token shown once; a viewer without edit buttons. Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../support/browser";
import { ADMIN, api, disposeWorlds, startGateway, world, type World } from "../support/world";

let w: World;
let browser: BrowserContext;
let viewerToken: string;
let clientToken: string;
let sessionId: string;

async function enroll(name: string): Promise<{ token: string; id: string }> {
  const enrollment = (await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name })).body.token;
  const res = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, { method: "POST", headers: { authorization: `Bearer ${enrollment}`, "content-type": "application/json" }, body: JSON.stringify({ name, hostname: `${name}.example`, user: "alice", version: "test" }) });
  const body = (await res.json()) as { token: string; client: { id: string } };
  return { token: body.token, id: body.client.id };
}

async function asClient(method: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const decision = (id: string, command: string) => ({ id, session_id: sessionId, role: "default-agent", agent: "claude", tool: command.split(" ")[0]!, command, normalized: [command], verdict: "allow", policy: null, rule: null, pattern: null, reason: "no rule matched", source: "hook", cwd: "/home/alice/repo", decided_at: new Date().toISOString() });

async function signedIn(token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(w.gatewayUrl);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

const INVALID = JSON.stringify({ id: "no-git-status", name: "No git status", status: "sometimes", blocked_commands: ["git status"] }, null, 2);
const VALID = JSON.stringify({ id: "no-git-status", name: "No git status", status: "active", description: "Agents must not look at the work tree.", blocked_commands: ["git status"] }, null, 2);

beforeAll(async () => {
  browser = await launchBrowser();
  w = await world("airlock-browser-pages-");
  await startGateway(w);
  viewerToken = (await api(w, "POST", "/api/v1/tokens", { kind: "viewer", name: "ui viewer" })).body.token;
  clientToken = (await enroll("ws1")).token;
  await enroll("old-laptop");
  const session = await asClient("POST", "/api/v1/sessions", { agent: "claude", role: "default-agent", user: "alice", host: "ws1.example", cwd: "/home/alice/repo" });
  expect(session.status).toBe(201);
  sessionId = session.body.session.id;
  expect((await asClient("POST", "/api/v1/decisions", { decisions: [decision("p-1", "git status"), decision("p-2", "ls -la"), decision("p-3", "git status --short")] })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await disposeWorlds();
});

describe("policies, roles and clients in Chromium", () => {
  test("a new policy: its field error is shown, then fixed; simulation reports newly blocked commands; it saves", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Policies" }).click();
    await page.locator('[data-policy="git-guard"]').waitFor();
    await screenshot(page, "policies");
    await page.getByRole("button", { name: "New policy" }).click();
    const editor = page.getByLabel("Policy (JSON)");
    await editor.fill(INVALID);
    await page.getByRole("button", { name: "Create policy" }).click();
    const problem = page.locator('#policy-field-errors [data-field="status"]');
    await problem.waitFor();
    expect(await problem.textContent()).toContain("status must be one of active, disabled");
    expect(await editor.getAttribute("aria-invalid")).toBe("true");
    await screenshot(page, "policies-field-error");
    expect((await api(w, "GET", "/api/v1/policies/no-git-status")).status).toBe(404);

    await editor.fill(VALID);
    await page.getByLabel("Simulate for role").selectOption("default-agent");
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.locator('[data-simulation="done"]').waitFor();
    await page.locator("#policy-field-errors").waitFor({ state: "detached" });
    const blocked = await page.locator('[data-change="newly_blocked"] code').allTextContents();
    expect(blocked.sort()).toEqual(["git status", "git status --short"]);
    await expect(page.locator('[data-count="newly_blocked"]').textContent()).resolves.toBe("2 newly blocked");
    await screenshot(page, "policies-simulation");
    expect((await api(w, "GET", "/api/v1/policies/no-git-status")).status).toBe(404);

    await page.getByRole("button", { name: "Create policy" }).click();
    await page.getByText("Saved no-git-status, version 1.").waitFor();
    await page.locator('[data-policy="no-git-status"]').waitFor();
    expect((await api(w, "GET", "/api/v1/policies/no-git-status")).body.document.status).toBe("active");

    // the active/disabled switch
    await page.getByRole("button", { name: "Disable policy no-git-status" }).click();
    await page.locator('[data-policy="no-git-status"] .p-disabled').waitFor();
    expect((await api(w, "GET", "/api/v1/policies/no-git-status")).body.document.status).toBe("disabled");
    await page.getByRole("button", { name: "Activate policy no-git-status" }).click();
    await page.locator('[data-policy="no-git-status"] .p-active').waitFor();
    await page.close();
  }, 30_000);

  test("the policy is attached to a role, whose effective blocked list then shows it; the try-it box blocks it", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Roles" }).click();
    await page.getByRole("button", { name: "Edit role default-agent" }).click();
    await page.locator('[data-blocked="git push --force"]').waitFor();
    expect(await page.locator('[data-blocked="git status"]').count()).toBe(0);
    await page.getByRole("checkbox", { name: "no-git-status" }).check();
    await page.getByRole("button", { name: "Save role" }).click();
    await page.locator('[data-blocked="git status"]').waitFor();
    expect((await api(w, "GET", "/api/v1/roles/default-agent")).body.document.policies).toContain("no-git-status");
    await screenshot(page, "roles");

    // a role error is shown by its field
    await page.getByRole("button", { name: "New role" }).click();
    await page.getByLabel("Id").fill("Bad Id");
    await page.getByLabel("Name").fill("Bad");
    await page.getByRole("button", { name: "Create role" }).click();
    await expect(page.locator("#role-id-error").textContent()).resolves.toBeTruthy();

    await page.getByRole("link", { name: "Policies" }).click();
    await page.getByLabel("Command", { exact: true }).fill("git status");
    await page.locator(`select[name="role"]`).selectOption("default-agent");
    await page.getByRole("button", { name: "Check" }).click();
    const result = page.locator('[data-check-verdict="block"]');
    await result.waitFor();
    expect(await result.textContent()).toContain("no-git-status");
    await page.getByLabel("Command", { exact: true }).fill("ls -la");
    await page.getByRole("button", { name: "Check" }).click();
    await page.locator('[data-check-verdict="allow"]').waitFor();
    await screenshot(page, "policies-try-it");
    await page.close();
  }, 30_000);

  test("clients: revoke after confirming; an enrollment token is shown once", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Clients" }).click();
    const row = page.locator("tr", { hasText: "old-laptop" });
    await row.waitFor();
    await row.getByRole("button", { name: "Revoke client old-laptop" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("Revoke this client?").waitFor();
    await dialog.getByRole("button", { name: "Revoke client" }).click();
    await dialog.waitFor({ state: "detached" });
    await row.getByText("revoked").waitFor();
    await page.getByLabel("Token name").fill("bob's laptop");
    await page.getByRole("button", { name: "Create enrollment token" }).click();
    const secret = await page.locator('[data-secret="enrollment"]').textContent();
    expect(secret).toMatch(/^al_/);
    await page.getByText("it is shown only once").waitFor();
    await screenshot(page, "clients");
    await page.close();
  }, 30_000);

  test("a session's detail lists its decisions; a decision's detail explains it and checks it again", async () => {
    const page = await signedIn(ADMIN);
    await page.getByRole("link", { name: "Sessions" }).click();
    await page.getByRole("link", { name: new RegExp(`^Session ${sessionId}`) }).click();
    await page.getByRole("heading", { name: `Session ${sessionId}` }).waitFor();
    await page.locator('[data-decision="p-1"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(3);
    expect(page.url()).toEndWith(`/sessions/${sessionId}`);
    await screenshot(page, "session-detail");
    await page.locator('[data-decision="p-1"] a').click();
    const detail = page.locator('[data-decision-detail="p-1"]');
    await detail.waitFor();
    expect(await detail.textContent()).toContain("no rule matched");
    // recorded as allowed; under today's policies (no-git-status attached above) it is blocked
    await page.getByRole("button", { name: "Check again now" }).click();
    await page.locator('[data-recheck="block"]').waitFor();
    await screenshot(page, "decision-detail");
    await page.goBack();
    await page.getByRole("heading", { name: `Session ${sessionId}` }).waitFor();
    await page.close();
  }, 30_000);

  test("a viewer reads policies, roles and clients without edit buttons, and may still try and simulate", async () => {
    const page = await signedIn(viewerToken);
    await page.getByRole("link", { name: "Policies" }).click();
    await page.locator('[data-policy="no-git-status"]').waitFor();
    expect(await page.getByRole("button", { name: "New policy" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^(Disable|Activate) policy/ }).count()).toBe(0);
    await page.getByRole("button", { name: "View policy no-git-status" }).click();
    expect(await page.getByLabel("Policy (JSON)").getAttribute("readonly")).not.toBeNull();
    expect(await page.getByRole("button", { name: /Save policy|Create policy/ }).count()).toBe(0);
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.locator('[data-simulation="done"]').waitFor();
    await screenshot(page, "policies-viewer");
    await page.getByRole("link", { name: "Roles" }).click();
    await page.locator('[data-role="default-agent"]').waitFor();
    expect(await page.getByRole("button", { name: "New role" }).count()).toBe(0);
    await page.getByRole("button", { name: "View role default-agent" }).click();
    await page.locator('[data-blocked="git status"]').waitFor();
    expect(await page.getByRole("button", { name: "Save role" }).count()).toBe(0);
    await page.getByRole("link", { name: "Clients" }).click();
    await page.locator("tr", { hasText: "ws1" }).first().waitFor();
    expect(await page.getByRole("button", { name: /Revoke/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Create enrollment token" }).count()).toBe(0);
    await page.close();
  }, 30_000);
});
