/**
 * The admin UI's views in real Chromium against the compiled gateway, from an empty store on:
 * empty states that say what to do next; the Overview chart and top blocked commands updating
 * live; decision filters kept in the URL (shared, reloaded, linked from a decision's detail) and
 * the next page; the audit trail's filters, event detail and pages; a session's timeline; policy
 * problems pointed at their line, an edit conflict (If-Match), deleting policies and roles; the
 * event stream coming back after the gateway restarts. Screenshots of Overview, Decisions, Audit
 * and Policies in light and dark, desktop and phone go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { BrowserContext, Page } from "playwright-core";
import { ROOT } from "../support/binary";
import { launchBrowser, screenshot } from "../support/browser";
import { ADMIN, api, disposeWorlds, startGateway, waitFor, world, type World } from "../support/world";

let w: World;
let browser: BrowserContext;
let clientToken: string;
let sessionId: string;

async function asClient(method: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

interface Shape {
  command: string;
  verdict: "allow" | "require_approval" | "block";
  policy?: string;
  rule?: string;
  agent?: string;
  role?: string;
  ago?: number;
}

function decision(id: string, s: Shape) {
  return {
    id,
    session_id: sessionId,
    role: s.role ?? "default-agent",
    agent: s.agent ?? "claude",
    tool: s.command.split(" ")[0]!,
    command: s.command,
    normalized: [s.command],
    verdict: s.verdict,
    policy: s.policy ?? null,
    rule: s.rule ?? null,
    pattern: s.verdict === "allow" ? null : s.command,
    reason: s.verdict === "allow" ? "no rule matched" : `matched ${s.policy}/${s.rule}`,
    source: "hook",
    cwd: "/home/alice/infra",
    decided_at: new Date(Date.now() - (s.ago ?? 0) * 1000).toISOString(),
  };
}

async function post(decisions: ReturnType<typeof decision>[]): Promise<void> {
  const r = await asClient("POST", "/api/v1/decisions", { decisions });
  expect(r.status).toBe(200);
}

async function signedIn(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(w.gatewayUrl);
  await page.getByLabel("Token").fill(ADMIN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

const nav = async (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

beforeAll(async () => {
  browser = await launchBrowser();
  w = await world("airlock-browser-views-");
  await startGateway(w);
}, 60_000);

afterAll(async () => {
  await disposeWorlds();
});

describe("admin UI views in Chromium", () => {
  test("the web bundle stays within 150 KB gzipped", () => {
    const dir = join(ROOT, "web-dist", "assets");
    const js = readdirSync(dir).filter((f) => f.endsWith(".js") || f.endsWith(".css"));
    const gz = js.reduce((sum, f) => sum + gzipSync(readFileSync(join(dir, f))).length, 0);
    console.log(`admin UI bundle: ${(gz / 1024).toFixed(1)} KB gzipped (js + css)`);
    expect(gz).toBeLessThanOrEqual(150 * 1024);
  });

  test("a new store: every page says what to do next", async () => {
    const page = await signedIn();
    await page.locator('[data-top-blocked="none"]').waitFor();
    await page.getByText("Nothing has been blocked yet.").waitFor();
    await page.getByText("airlock client enroll").first().waitFor();
    await expect(page.locator("svg[data-chart-total]").getAttribute("data-chart-total")).resolves.toBe("0");
    await screenshot(page, "views-overview-empty");
    await nav(page, "Sessions");
    await page.getByText("No sessions yet.").waitFor();
    await page.getByText("airlock run claude").waitFor();
    await nav(page, "Decisions");
    await page.getByText("No decisions yet.").waitFor();
    await screenshot(page, "views-decisions-empty");
    await page.close();
  }, 30_000);

  test("the Overview's chart and top blocked commands follow new decisions live", async () => {
    const enrollment = (await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "views" })).body.token;
    const enrolled = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, { method: "POST", headers: { authorization: `Bearer ${enrollment}`, "content-type": "application/json" }, body: JSON.stringify({ name: "ws1", hostname: "ws1.example", user: "alice", version: "test" }) });
    clientToken = ((await enrolled.json()) as { token: string }).token;
    const session = await asClient("POST", "/api/v1/sessions", { agent: "claude", role: "default-agent", user: "alice", host: "ws1.example", cwd: "/home/alice/infra" });
    expect(session.status).toBe(201);
    sessionId = session.body.session.id;
    // 120 decisions over the last 40 minutes: allows, approvals and blocks from two policies
    const shapes: Shape[] = [
      { command: "terraform plan", verdict: "allow" },
      { command: "kubectl get pods", verdict: "allow", agent: "codex" },
      { command: "helm upgrade web ./chart", verdict: "require_approval", policy: "release-gate", rule: "rules[0]" },
      { command: "terraform apply", verdict: "block", policy: "infra-mutation-block", rule: "blocked_commands[0]" },
      { command: "kubectl delete ns prod", verdict: "block", policy: "infra-mutation-block", rule: "blocked_commands[1]", agent: "codex" },
      { command: "git push --force origin main", verdict: "block", policy: "git-guard", rule: "rules[2]" },
    ];
    const batch = Array.from({ length: 120 }, (_, i) => decision(`v-${String(i).padStart(3, "0")}`, { ...shapes[i % shapes.length]!, ago: (120 - i) * 20 }));
    await post(batch);

    const page = await signedIn();
    const chart = page.locator("svg[data-chart-total]");
    await waitFor("the chart to count 120", async () => (await chart.getAttribute("data-chart-total")) === "120");
    expect(await chart.locator("title").first().textContent()).toContain("Decisions per minute");
    expect(await chart.locator("desc").textContent()).toContain("120 decisions in the last 60 minutes: 40 allowed, 20 needed approval, 60 blocked");
    await expect(page.locator('[data-legend="block"]').textContent()).resolves.toBe("60 blocked");
    const top = await page.locator("[data-top-blocked]").evaluateAll((li) => li.map((l) => l.getAttribute("data-top-blocked")));
    expect(top.sort()).toEqual(["git push --force origin main", "kubectl delete ns prod", "terraform apply"]);
    await page.locator(".live-live").waitFor();

    // live: a new blocked command arrives and takes the top spot, without a reload
    await page.evaluate(() => ((window as any).__noReload = true));
    await post(Array.from({ length: 25 }, (_, i) => decision(`v-live-${i}`, { command: "aws iam create-role --role-name admin", verdict: "block", policy: "infra-mutation-block", rule: "blocked_commands[3]" })));
    await page.locator('[data-top-blocked="aws iam create-role --role-name admin"]').waitFor({ timeout: 10_000 });
    await waitFor("the chart to count 145", async () => (await chart.getAttribute("data-chart-total")) === "145");
    expect(await page.locator("[data-top-blocked]").first().getAttribute("data-top-blocked")).toBe("aws iam create-role --role-name admin");
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await screenshot(page, "views-overview");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "views-overview-dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "light" });
    await chart.waitFor();
    await screenshot(page, "views-overview-phone");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "views-overview-phone-dark");
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: "light" });

    // a top blocked command links to its decisions
    await page.getByRole("link", { name: /^terraform apply, blocked/ }).click();
    await page.getByRole("heading", { name: "Decisions" }).waitFor();
    expect(new URL(page.url()).searchParams.get("q")).toBe("terraform apply");
    expect(new URL(page.url()).searchParams.get("verdict")).toBe("block");
    await page.locator('[data-decision="v-003"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(20);
    await page.close();
  }, 60_000);

  test("decision filters live in the URL: applied, reloaded, shared, linked from a detail; the next page works", async () => {
    const page = await signedIn();
    await nav(page, "Decisions");
    await page.locator('[data-decision="v-live-24"]').waitFor();
    // 145 decisions, 50 a page
    expect(await page.locator("[data-decision]").count()).toBe(50);
    await page.getByRole("button", { name: "Older" }).click();
    await page.locator('[data-page="2"]').waitFor();
    await page.locator('[data-decision="v-live-24"]').waitFor({ state: "detached" });
    expect(await page.locator("[data-decision]").count()).toBe(50);
    await page.getByRole("button", { name: "Older" }).click();
    await page.locator('[data-page="3"]').waitFor();
    await page.locator('[data-decision="v-000"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(45);
    expect(await page.getByRole("button", { name: "Older" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Newer" }).click();
    await page.locator('[data-page="2"]').waitFor();

    // policy + agent: applied on the server, kept in the URL, the pages start again
    await page.getByRole("button", { name: "More filters" }).click();
    await page.getByLabel("Policy", { exact: true }).fill("infra-mutation-block");
    await page.getByLabel("Agent", { exact: true }).fill("codex");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-page="1"]').waitFor();
    await page.locator('[data-decision="v-004"]').waitFor();
    const ids = await page.locator("[data-decision]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-decision")));
    expect(ids.length).toBe(20);
    const url = new URL(page.url());
    expect(url.pathname).toBe("/decisions");
    expect(Object.fromEntries(url.searchParams)).toEqual({ policy: "infra-mutation-block", agent: "codex" });
    expect(page.url()).not.toContain(ADMIN);
    await screenshot(page, "views-decisions-filtered");

    // reloaded: the same view, the form filled in from the URL
    await page.reload();
    await page.locator('[data-decision="v-004"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(20);
    await expect(page.getByLabel("Policy", { exact: true }).inputValue()).resolves.toBe("infra-mutation-block");
    await expect(page.getByLabel("Agent", { exact: true }).inputValue()).resolves.toBe("codex");

    // shared: another tab opened at the address shows the same rows
    const other = await browser.newPage();
    await other.goto(page.url());
    await other.getByLabel("Token").fill(ADMIN);
    await other.getByRole("button", { name: "Sign in" }).click();
    await other.locator('[data-decision="v-004"]').waitFor();
    expect(await other.locator("[data-decision]").count()).toBe(20);
    await other.close();

    // rule and role filters; an unknown rule is an empty, explained result
    await page.getByLabel("Rule", { exact: true }).fill("no-such-rule");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("No decision matches these filters.").waitFor();
    // back restores the previous filters
    await page.goBack();
    await page.locator('[data-decision="v-004"]').waitFor();
    await expect(page.getByLabel("Rule", { exact: true }).inputValue()).resolves.toBe("");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.locator('[data-decision="v-live-24"]').waitFor();
    expect(new URL(page.url()).search).toBe("");

    // a decision's detail links to its policy's and rule's decisions
    await page.getByLabel("Tool", { exact: true }).fill("git");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator('[data-decision="v-005"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(20);
    await page.locator('[data-decision="v-005"] a').click();
    await page.locator('[data-decision-detail="v-005"]').waitFor();
    await page.getByRole("link", { name: "rules[2]" }).click();
    await page.getByRole("heading", { name: "Decisions" }).waitFor();
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ policy: "git-guard", rule: "rules[2]" });
    await page.locator('[data-decision="v-005"]').waitFor();
    expect(await page.locator("[data-decision]").count()).toBe(20);
    await expect(page.getByLabel("Rule", { exact: true }).inputValue()).resolves.toBe("rules[2]");

    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.locator('[data-decision="v-live-24"]').waitFor();
    await screenshot(page, "views-decisions");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "views-decisions-dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "views-decisions-phone-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await screenshot(page, "views-decisions-phone");
    await page.close();
  }, 60_000);

  test("a session's timeline: its decisions and its state changes from the audit trail", async () => {
    expect((await asClient("POST", `/api/v1/sessions/${sessionId}/status`, { status: "running" })).status).toBe(200);
    const page = await signedIn();
    await page.goto(`${w.gatewayUrl}/sessions/${sessionId}`);
    await page.getByRole("heading", { name: `Session ${sessionId}` }).waitFor();
    await page.locator('[data-session-event="session.started"]').waitFor();
    await page.locator('[data-session-event="session.created"]').waitFor();
    // newest first: 100 decisions of 145 on the first load, the start event is older than them
    expect(await page.locator("[data-decision]").count()).toBe(100);
    await page.getByRole("button", { name: "Load older decisions" }).click();
    await waitFor("all 145 decisions", async () => (await page.locator("[data-decision]").count()) === 145);
    const rows = () => page.locator("tbody tr").evaluateAll((trs) => trs.map((r) => r.getAttribute("data-session-event") ?? r.getAttribute("data-decision")));
    // newest first: the start is the latest thing that happened (the decisions were recorded with earlier times)
    expect((await rows())[0]).toBe("session.started");
    await page.getByLabel("Oldest first").check();
    await waitFor("oldest first", async () => (await rows())[0] === "v-000");
    const order = await rows();
    expect(order.indexOf("session.created")).toBeLessThan(order.indexOf("session.started"));
    expect(order.at(-1)).toBe("session.started");
    // revoked from the detail page, the transition joins the timeline
    await page.getByRole("button", { name: "Revoke session" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke session" }).click();
    await page.locator('[data-session-event="session.revoked"]').waitFor();
    await page.locator(".badge.s-revoked").first().waitFor();
    await screenshot(page, "views-session-timeline");
    await page.close();
  }, 30_000);

  test("the audit trail: filters by actor, target and time, shows an event in full, pages with the cursor", async () => {
    const page = await signedIn();
    await nav(page, "Audit");
    await page.locator('[data-verify="ok"]').waitFor();
    await page.locator("[data-audit]").first().waitFor();
    expect(await page.locator("[data-audit]").count()).toBe(50);
    await page.getByRole("button", { name: "Older" }).click();
    await page.locator('[data-page="2"]').waitFor();
    await page.getByRole("button", { name: "Newer" }).click();
    await page.locator('[data-page="1"]').waitFor();

    // by target: this session's events only
    await page.getByLabel("Target").fill(`session:${sessionId}`);
    await page.getByRole("button", { name: "Apply" }).click();
    await waitFor("only session events", async () => {
      const types = await page.locator("[data-audit]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-audit")));
      return types.length === 3 && types.every((t) => t!.startsWith("session."));
    });
    expect(new URL(page.url()).searchParams.get("target")).toBe(`session:${sessionId}`);

    // the full event: type, code, actor, target, details, seq, hashes
    await page.getByRole("button", { name: /session\.revoked: show details/ }).click();
    const detail = page.locator("[data-audit-detail]");
    await detail.waitFor();
    const text = (await detail.textContent())!;
    for (const part of ["session.revoked", "AL0504", "Previous hash", "Hash", `session:${sessionId}`, '"to": "revoked"']) expect(text).toContain(part);
    const event = (await api(w, "GET", `/api/v1/audit?target=session:${sessionId}&type=session.revoked`)).body.items[0];
    expect(text).toContain(event.hash);
    expect(text).toContain(event.prev_hash);
    await screenshot(page, "views-audit-detail");

    // by actor, from the detail's link: everything the admin did
    await detail.getByRole("link", { name: event.actor }).click();
    await waitFor("the actor filter", async () => new URL(page.url()).searchParams.get("actor") === event.actor);
    await expect(page.getByLabel("Actor").inputValue()).resolves.toBe(event.actor);
    await page.locator('[data-audit="session.revoked"]').waitFor();
    const actors = await page.locator("[data-audit] td:nth-child(4)").allTextContents();
    expect(actors.every((a) => a === event.actor)).toBe(true);

    // a time range in the future: nothing, explained
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.getByLabel("From").fill("2099-01-01T00:00");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("No audit event matches these filters.").waitFor();
    expect(new URL(page.url()).searchParams.get("since")).toStartWith("2099-01-01T");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.locator("[data-audit]").first().waitFor();
    await screenshot(page, "views-audit");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "views-audit-dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "views-audit-phone-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await screenshot(page, "views-audit-phone");
    await page.close();
  }, 30_000);

  test("policies: problems point at their line; a concurrent edit is a conflict to reload; delete refused while attached", async () => {
    const page = await signedIn();
    await nav(page, "Policies");
    await page.locator('[data-policy="git-guard"]').waitFor();
    await screenshot(page, "views-policies");
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "views-policies-dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "views-policies-phone-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await screenshot(page, "views-policies-phone");
    await page.setViewportSize({ width: 1280, height: 800 });

    // a new policy with a bad rule action
    await page.getByRole("button", { name: "New policy" }).click();
    const doc = { id: "scratch", name: "Scratch", status: "active", description: "A policy to delete.", blocked_commands: ["pulumi destroy"], rules: [{ command: "helm upgrade", action: "maybe", reason: "?" }] };
    const text = JSON.stringify(doc, null, 2);
    const line = String(text.split("\n").findIndex((l) => l.includes('"action": "maybe"')) + 1);
    expect(Number(line)).toBeGreaterThan(5);
    await page.getByLabel("Policy (JSON)").fill(text);
    await page.getByRole("button", { name: "Create policy" }).click();
    const problem = page.locator('#policy-field-errors [data-field="rules[0].action"]');
    await problem.waitFor();
    expect(await problem.getAttribute("data-line")).toBe(line);
    await page.locator(`[data-bad-line="${line}"]`).waitFor();
    await page.locator(".gutter .bad", { hasText: line }).waitFor();
    await problem.getByRole("button", { name: `Go to line ${line}` }).click();
    const selected = await page.getByLabel("Policy (JSON)").evaluate((t: HTMLTextAreaElement) => t.value.slice(t.selectionStart, t.selectionEnd));
    expect(selected).toContain('"action": "maybe"');
    await screenshot(page, "views-policies-field-error");
    // not JSON: the line of the syntax error is marked
    await page.getByLabel("Policy (JSON)").fill(text.replace('"Scratch",', '"Scratch"'));
    await page.getByRole("button", { name: "Create policy" }).click();
    await expect(page.locator("#policy-error").textContent()).resolves.toContain("not valid JSON");
    await page.locator(".bad-line").first().waitFor();
    await page.getByLabel("Policy (JSON)").fill(text.replace("maybe", "require_approval"));
    await page.getByRole("button", { name: "Create policy" }).click();
    await page.getByText("Saved scratch, version 1.").waitFor();

    // someone else saves version 2 while this editor holds version 1
    const theirs = { ...doc, rules: [], description: "Changed elsewhere." };
    expect((await api(w, "PUT", "/api/v1/policies/scratch", theirs)).status).toBe(200);
    const editor = page.getByLabel("Policy (JSON)");
    await editor.fill(text.replace("maybe", "block"));
    await page.getByRole("button", { name: "Save policy" }).click();
    const conflict = page.locator("#policy-conflict");
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain("changed by someone else since you opened it");
    expect((await api(w, "GET", "/api/v1/policies/scratch")).body.document.description).toBe("Changed elsewhere.");
    await screenshot(page, "views-policies-conflict");
    await conflict.getByRole("button", { name: "Reload the current version" }).click();
    await page.getByText("version 2", { exact: true }).waitFor();
    expect(await editor.inputValue()).toContain("Changed elsewhere.");
    await editor.fill((await editor.inputValue()).replace("Changed elsewhere.", "Changed here."));
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Saved scratch, version 3.").waitFor();

    // an attached policy cannot be deleted: the gateway's 409 is shown by the button
    await page.getByRole("button", { name: "Delete policy git-guard" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("It is attached to").waitFor();
    await dialog.getByRole("button", { name: "Delete policy" }).click();
    await expect(dialog.getByRole("alert").textContent()).resolves.toContain("attached to role");
    await screenshot(page, "views-policies-delete-refused");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect((await api(w, "GET", "/api/v1/policies/git-guard")).status).toBe(200);

    // an unattached one is deleted after confirming
    await page.getByRole("button", { name: "Delete policy scratch" }).click();
    await dialog.getByRole("button", { name: "Delete policy" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator('[data-policy="scratch"]').waitFor({ state: "detached" });
    expect((await api(w, "GET", "/api/v1/policies/scratch")).status).toBe(404);
    await page.close();
  }, 60_000);

  test("roles: a concurrent edit is a conflict; a role is deleted after confirming", async () => {
    expect((await api(w, "POST", "/api/v1/roles", { id: "temp-role", name: "Temp", policies: [], default_action: "allow" })).status).toBe(201);
    const page = await signedIn();
    await nav(page, "Roles");
    await page.getByRole("button", { name: "Edit role temp-role" }).click();
    expect((await api(w, "PUT", "/api/v1/roles/temp-role", { id: "temp-role", name: "Temp (theirs)", policies: [], default_action: "allow" })).status).toBe(200);
    await page.getByLabel("Name").fill("Temp (mine)");
    await page.getByRole("button", { name: "Save role" }).click();
    await page.locator("#role-conflict").waitFor();
    await page.locator("#role-conflict").getByRole("button", { name: "Reload the current version" }).click();
    await waitFor("the reloaded name", async () => (await page.getByLabel("Name").inputValue()) === "Temp (theirs)");
    await page.getByRole("button", { name: "Delete role temp-role" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Delete role" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.locator('[data-role="temp-role"]').waitFor({ state: "detached" });
    expect((await api(w, "GET", "/api/v1/roles/temp-role")).status).toBe(404);
    await page.close();
  }, 30_000);

  test("the event stream comes back after the gateway restarts, and the page catches up", async () => {
    const page = await signedIn();
    await nav(page, "Decisions");
    await page.locator(".live-live").waitFor();
    await page.evaluate(() => ((window as any).__noReload = true));
    const port = new URL(w.gatewayUrl).port;
    await w.gateway!.stop();
    await page.locator(".live-reconnecting").waitFor({ timeout: 10_000 });
    await startGateway(w, `127.0.0.1:${port}`);
    // posted before the stream is back: the refetch on reconnect brings it
    const session = await asClient("POST", "/api/v1/sessions", { agent: "claude", role: "default-agent", user: "alice", host: "ws1.example", cwd: "/home/alice/infra" });
    sessionId = session.body.session.id;
    await post([decision("v-after-restart", { command: "pulumi destroy --yes", verdict: "block", policy: "infra-mutation-block", rule: "blocked_commands[4]" })]);
    await page.locator(".live-live").waitFor({ timeout: 30_000 });
    await page.locator('[data-decision="v-after-restart"]').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await page.close();
  }, 60_000);
});
