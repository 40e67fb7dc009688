/**
 * The admin UI against a store of 100,000 decisions: bundle size (gzipped), time to interactive
 * of the first load, and on the Decisions page the time to first rows, to apply a filter and to
 * go to the next page (server-side keyset pagination), in real Chromium against the compiled
 * gateway. The decisions go in through the API as an enrolled client would send them, 1,000 a
 * request. Figures are printed; targets are reported as met or MISSED, never asserted.
 *
 *   bun run build.ts && bun run test/bench/ui.ts [count]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { ROOT } from "../support/binary";
import { launchBrowser } from "../support/browser";
import { ADMIN, api, disposeWorlds, startGateway, world } from "../support/world";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const verdictOf = (i: number) => (i % 10 < 6 ? "allow" : i % 10 < 8 ? "require_approval" : "block");
const COMMANDS = ["terraform plan", "terraform apply", "kubectl get pods", "kubectl delete ns prod", "helm upgrade web ./chart", "git push --force origin main", "aws s3 ls", "aws iam create-role --role-name x", "pulumi preview", "ls -la"];

export function bundleSize(): { js: number; css: number; gz: number } {
  const dir = join(ROOT, "web-dist", "assets");
  let js = 0;
  let css = 0;
  let gz = 0;
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    if (f.endsWith(".js")) js += bytes.length;
    else if (f.endsWith(".css")) css += bytes.length;
    else continue;
    gz += gzipSync(bytes).length;
  }
  return { js, css, gz };
}

/** until the Decisions table shows a finished load with at least one row */
async function rowsShown(page: Page, extra = "true"): Promise<void> {
  await page.waitForFunction(`document.querySelector('[data-decision]') !== null && document.querySelector('[aria-busy="true"]') === null && (${extra})`, undefined, { timeout: 60_000, polling: "raf" });
}

export async function benchUi(count = 100_000): Promise<void> {
  const size = bundleSize();
  console.log(`admin UI bundle: js ${(size.js / 1024).toFixed(1)} KB + css ${(size.css / 1024).toFixed(1)} KB, ${(size.gz / 1024).toFixed(1)} KB gzipped (target ≤ 150 KB: ${size.gz <= 150 * 1024 ? "met" : "MISSED"})`);

  const browser = await launchBrowser();
  const w = await world("airlock-bench-ui-");
  try {
    await startGateway(w);
    const enrollment = (await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "bench" })).body.token;
    const enrolled = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, { method: "POST", headers: { authorization: `Bearer ${enrollment}`, "content-type": "application/json" }, body: JSON.stringify({ name: "bench", hostname: "bench.example", user: "bench", version: "bench" }) });
    const clientToken = ((await enrolled.json()) as { token: string }).token;
    const asClient = (path: string, body: unknown) => fetch(`${w.gatewayUrl}${path}`, { method: "POST", headers: { authorization: `Bearer ${clientToken}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const sessions: string[] = [];
    for (let i = 0; i < 10; i++) sessions.push(((await (await asClient("/api/v1/sessions", { agent: i % 2 ? "codex" : "claude", role: "default-agent", user: "bench", host: "bench.example", cwd: "/work" })).json()) as { session: { id: string } }).session.id);

    // one decision a second back from now: the last hour holds 3,600 of them
    const now = Date.now();
    const started = performance.now();
    const BATCH = 1000;
    for (let b = 0; b < count / BATCH; b++) {
      const decisions = Array.from({ length: BATCH }, (_, k) => {
        const i = b * BATCH + k;
        const verdict = verdictOf(i);
        const command = COMMANDS[i % COMMANDS.length]!;
        return {
          id: `bench-${i}`,
          session_id: sessions[i % sessions.length],
          role: "default-agent",
          agent: i % 2 ? "codex" : "claude",
          tool: command.split(" ")[0],
          command,
          normalized: [command],
          verdict,
          policy: verdict === "allow" ? null : i % 3 ? "infra-mutation-block" : "git-guard",
          rule: verdict === "allow" ? null : `rules[${i % 4}]`,
          pattern: null,
          reason: verdict === "allow" ? "no rule matched" : "bench",
          source: "hook",
          cwd: "/work",
          decided_at: new Date(now - (count - i) * 1000).toISOString(),
        };
      });
      const res = await asClient("/api/v1/decisions", { decisions });
      if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
    }
    const ingestMs = performance.now() - started;
    console.log(`ingested ${count.toLocaleString("en")} decisions in ${ms(ingestMs)} (${Math.round(count / (ingestMs / 1000)).toLocaleString("en")}/s, ${BATCH} a request)`);

    // time to interactive: navigation start until the sign-in form is there, fresh page each time
    const tti: number[] = [];
    for (let i = 0; i < 7; i++) {
      const page = await browser.newPage();
      await page.goto(w.gatewayUrl);
      await page.getByLabel("Token").waitFor();
      tti.push(await page.evaluate(() => performance.now()));
      await page.close();
    }
    console.log(`time to interactive (sign-in form): first ${ms(tti[0]!)}, median of ${tti.length} ${ms(median(tti))} (target ≤ 300 ms: ${median(tti) <= 300 ? "met" : "MISSED"})`);

    const page = await browser.newPage();
    await page.goto(w.gatewayUrl);
    await page.getByLabel("Token").fill(ADMIN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("svg[data-chart-total]").waitFor({ timeout: 60_000 });

    const first: number[] = [];
    const filter: number[] = [];
    const textFilter: number[] = [];
    const next: number[] = [];
    const deep: number[] = [];
    for (let round = 0; round < 5; round++) {
      // a full load of /decisions (token in session storage): navigation to the first rows
      let t = performance.now();
      await page.goto(`${w.gatewayUrl}/decisions`);
      await rowsShown(page);
      first.push(performance.now() - t);

      // verdict + policy filter
      await page.getByLabel("Verdict").selectOption("block");
      await page.getByLabel("Policy", { exact: true }).fill("git-guard");
      t = performance.now();
      await page.getByRole("button", { name: "Apply" }).click();
      await rowsShown(page, `document.querySelector('[data-active-filters="verdict,policy"]') !== null`);
      filter.push(performance.now() - t);

      // the next page of the filtered list
      t = performance.now();
      await page.getByRole("button", { name: "Older" }).click();
      await rowsShown(page, `document.querySelector('[data-page="2"]') !== null`);
      next.push(performance.now() - t);

      // ten pages deep, each one a keyset query
      t = performance.now();
      for (let p = 3; p <= 12; p++) {
        await page.getByRole("button", { name: "Older" }).click();
        await rowsShown(page, `document.querySelector('[data-page="${p}"]') !== null`);
      }
      deep.push((performance.now() - t) / 10);

      // a text search over the command (no index helps: a scan)
      await page.getByRole("button", { name: "Clear filters" }).click();
      await rowsShown(page, `document.querySelector('[data-active-filters]') === null`);
      await page.getByLabel("Command contains").fill("delete ns");
      t = performance.now();
      await page.getByRole("button", { name: "Apply" }).click();
      await rowsShown(page, `document.querySelector('[data-active-filters="q"]') !== null`);
      textFilter.push(performance.now() - t);
    }
    const rows = await page.locator("[data-decision]").count();
    console.log(`Decisions page with ${count.toLocaleString("en")} decisions in the store (median of ${first.length} rounds, ${rows} rows a page):`);
    console.log(`  first rows after a full page load   ${ms(median(first))}`);
    console.log(`  apply verdict + policy filter       ${ms(median(filter))}`);
    console.log(`  next page (filtered)                ${ms(median(next))}`);
    console.log(`  each of the next 10 pages           ${ms(median(deep))}`);
    console.log(`  apply a command text search         ${ms(median(textFilter))}`);

    // the Overview's stats over the same store
    const statsStart = performance.now();
    const stats = await api(w, "GET", "/api/v1/decisions/stats?minutes=60&top=10");
    console.log(`GET /api/v1/decisions/stats?minutes=60: ${ms(performance.now() - statsStart)} (${stats.body.per_minute.length} minutes with decisions)`);
    await page.close();
  } finally {
    await browser.close();
    await disposeWorlds();
  }
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 100_000);
  console.log(`## admin UI (compiled binary, Chromium, ${count.toLocaleString("en")} decisions)`);
  await benchUi(count);
}
