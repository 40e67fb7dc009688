/**
 * `airlock sign-in [--gateway URL] [--no-browser] [--no-wait] [--json]` and `airlock sign-out`.
 *
 * Sign-in is the device authorization flow of docs/approvals.md (RFC 8628 shape): the gateway
 * gives a user code and a verification URL; a signed-in user of the admin UI approves the code;
 * this command polls (honouring `interval` and `slow_down`) and stores the resulting user
 * credential in $AIRLOCK_HOME/credentials.json (0600).
 */
import { defineCommand } from "citty";
import * as v from "valibot";
import { createGatewayClient, type GatewayClient } from "../client/gateway";
import { readEnv } from "../config/env";
import { resolveGatewayTarget } from "../config/gateway-target";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { err, out } from "../config/stdio";
import type { DeviceStartResponse, DeviceTokenResponse } from "../protocol/approvals";
import { AirlockError } from "../protocol/errors";
import { readCredentials, readSecretJson, removeFile, writeSecretJson, type Credentials } from "./_credentials";
import { openBrowser, thisHost, unpairEverywhere, userClient } from "./_pairing";
import { printJson } from "./_remote";

const PendingSignIn = v.object({
  gateway_url: v.string(),
  device_code: v.string(),
  user_code: v.string(),
  verification_uri: v.string(),
  verification_uri_complete: v.string(),
  interval: v.number(),
  expires_at: v.string(),
});
type PendingSignIn = v.InferOutput<typeof PendingSignIn>;

function showCode(start: { user_code: string; verification_uri: string; verification_uri_complete: string }, expiresAt: string, print: (s: string) => void): void {
  print(
    `To sign in to Airlock, open\n\n    ${start.verification_uri_complete}\n\n` +
      `or go to ${start.verification_uri} and enter the code\n\n    ${start.user_code}\n\n` +
      `(it expires at ${expiresAt.replace("T", " ").replace(/\.\d+Z$/, "Z")}). A signed-in user of the admin UI approves it.\n`,
  );
}

function store(paths: AirlockPaths, gatewayUrl: string, token: DeviceTokenResponse): Credentials {
  const creds: Credentials = { gateway_url: gatewayUrl, token: token.access_token, user: token.user, signed_in_at: new Date().toISOString() };
  writeSecretJson(paths.credentials, creds);
  return creds;
}

function signedIn(paths: AirlockPaths, creds: Credentials, json: boolean): number {
  if (json) printJson({ signed_in: true, gateway_url: creds.gateway_url, user: creds.user, signed_in_at: creds.signed_in_at, credentials: paths.credentials });
  else out(`signed in as ${creds.user} at ${creds.gateway_url} (credential in ${paths.credentials})\nnext: 'airlock pair' to pair an approver\n`);
  return 0;
}

/** Polls until approved; every other end is an AirlockError that says what to do. */
async function poll(client: GatewayClient, deviceCode: string, intervalSeconds: number, expiresAtMs: number): Promise<DeviceTokenResponse> {
  let interval = Math.max(1, intervalSeconds);
  for (;;) {
    if (Date.now() >= expiresAtMs) throw new AirlockError("unauthorized", "the sign-in code expired before it was approved; run 'airlock sign-in' again");
    await Bun.sleep(interval * 1000);
    const r = await client.pollDeviceToken(deviceCode);
    switch (r.status) {
      case "approved":
        return r.token;
      case "authorization_pending":
        continue;
      case "slow_down":
        interval += 5;
        continue;
      case "expired_token":
        throw new AirlockError("unauthorized", "the sign-in code expired before it was approved; run 'airlock sign-in' again");
      case "access_denied":
        throw new AirlockError("forbidden", "the sign-in was denied in the admin UI");
    }
  }
}

export const signInCommand = defineCommand({
  meta: {
    name: "sign-in",
    description:
      "Sign in to the gateway with a device code (approved by a signed-in user of the admin UI). The credential goes to $AIRLOCK_HOME/credentials.json (0600).\n\n" +
      "  airlock sign-in                                   # opens the browser, waits for approval\n" +
      "  airlock sign-in --gateway https://airlock.example.com --no-browser\n" +
      "  airlock sign-in --no-wait                         # print the code and return; run it again to finish\n",
  },
  args: {
    gateway: { type: "string", description: "Gateway URL (default: env AIRLOCK_GATEWAY_URL, then gateway_url in config.json, then http://127.0.0.1:8787)" },
    browser: { type: "boolean", default: true, description: "Open the verification URL in a browser (--no-browser: only print it)" },
    wait: { type: "boolean", default: true, description: "Wait for the approval (--no-wait: start, or check the sign-in started before, and return at once)" },
    json: { type: "boolean", description: "Print the result as JSON (instructions go to stderr)" },
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; see 'airlock sign-in --help'`);
    const env = readEnv();
    const paths = airlockPaths(env);
    const target = resolveGatewayTarget(env, { gateway: args.gateway });
    const client = createGatewayClient({ baseUrl: target.url, timeoutMs: 15_000 });
    const print = args.json ? err : out;

    if (!args.wait) {
      const pending = readSecretJson(paths.pendingSignIn, PendingSignIn, "the pending sign-in");
      if (pending && pending.gateway_url === client.baseUrl && Date.parse(pending.expires_at) > Date.now()) {
        const r = await client.pollDeviceToken(pending.device_code);
        if (r.status === "approved") {
          removeFile(paths.pendingSignIn);
          return signedIn(paths, store(paths, client.baseUrl, r.token), Boolean(args.json));
        }
        if (r.status === "access_denied" || r.status === "expired_token") {
          removeFile(paths.pendingSignIn);
          throw new AirlockError(r.status === "access_denied" ? "forbidden" : "unauthorized", r.status === "access_denied" ? "the sign-in was denied in the admin UI" : "the sign-in code expired; run 'airlock sign-in' again");
        }
        showCode(pending, pending.expires_at, print);
        if (args.json) printJson({ signed_in: false, pending: true, user_code: pending.user_code, verification_uri_complete: pending.verification_uri_complete, expires_at: pending.expires_at });
        else out("not approved yet: approve the code, then run 'airlock sign-in --no-wait' again\n");
        return 0;
      }
    }

    const start: DeviceStartResponse = await client.startDeviceSignIn({ client_name: `airlock CLI on ${thisHost()}` });
    const expiresAt = new Date(Date.now() + start.expires_in * 1000).toISOString();
    showCode(start, expiresAt, print);
    if (args.browser) {
      if (!openBrowser(start.verification_uri_complete)) err("airlock: could not open a browser here; open the URL above yourself\n");
    }
    if (!args.wait) {
      writeSecretJson(paths.pendingSignIn, {
        gateway_url: client.baseUrl,
        device_code: start.device_code,
        user_code: start.user_code,
        verification_uri: start.verification_uri,
        verification_uri_complete: start.verification_uri_complete,
        interval: start.interval,
        expires_at: expiresAt,
      } satisfies PendingSignIn);
      if (args.json) printJson({ signed_in: false, pending: true, user_code: start.user_code, verification_uri_complete: start.verification_uri_complete, expires_at: expiresAt });
      else out("once it is approved, run 'airlock sign-in --no-wait' again to finish\n");
      return 0;
    }
    err("airlock: waiting for the approval (Ctrl-C to stop)...\n");
    const token = await poll(client, start.device_code, start.interval, Date.parse(expiresAt));
    removeFile(paths.pendingSignIn);
    return signedIn(paths, store(paths, client.baseUrl, token), Boolean(args.json));
  },
});

export const signOutCommand = defineCommand({
  meta: {
    name: "sign-out",
    description: "Forget the sign-in credential ($AIRLOCK_HOME/credentials.json); when an approver is paired, unpair it first (gateway and daemon)",
  },
  args: { json: { type: "boolean", description: "Print what was done as JSON" } },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}`);
    const paths = airlockPaths(readEnv());
    let creds: Credentials | null = null;
    try {
      creds = readCredentials(paths);
    } catch (error) {
      err(`airlock: ${(error as Error).message}; removing it anyway\n`);
    }
    let unpaired: Awaited<ReturnType<typeof unpairEverywhere>> | null = null;
    let unpairError: string | null = null;
    try {
      unpaired = await unpairEverywhere(paths, creds);
    } catch (error) {
      // a daemon that is not running holds no link to stop; its pairing stays until 'airlock unpair'
      unpairError = (error as Error).message;
    }
    // the credential is given back at the gateway (revoked), not only forgotten here
    let revokeError: string | null = null;
    if (creds) {
      try {
        await userClient(creds, 10_000).signOut();
      } catch (error) {
        revokeError = (error as Error).message;
      }
    }
    const removed = removeFile(paths.credentials);
    removeFile(paths.pendingSignIn);
    removeFile(paths.pendingPair);
    if (args.json) {
      printJson({ signed_out: true, was_signed_in: removed, user: creds?.user ?? null, revoked: creds !== null && revokeError === null, revoke_error: revokeError, unpaired, unpair_error: unpairError });
      return 0;
    }
    if (unpaired?.pairing_id) out(`unpaired ${unpaired.pairing_id} (gateway: ${unpaired.gateway.replace("_", " ")}, daemon: ${unpaired.daemon})\n`);
    if (revokeError) err(`airlock: the gateway could not revoke the sign-in credential (${revokeError}); it is forgotten here, and an admin can revoke it with 'airlock admin token revoke'\n`);
    if (unpairError) err(`airlock: could not check the daemon's pairing: ${unpairError}; run 'airlock unpair' once it is running\n`);
    out(removed ? `signed out${creds ? ` (${creds.user} at ${creds.gateway_url})` : ""}\n` : "not signed in\n");
    return 0;
  },
});
