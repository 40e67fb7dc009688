/**
 * `airlock pair [--no-wait] [--json]` and `airlock unpair [--json]` (docs/approvals.md).
 *
 * pair: the daemon's public keys go to the gateway, which answers a 6-character code; the user
 * enters it on an approver (the admin UI's /approver page, or `airlock approver --code` on a
 * server); once claimed, both ends show the same fingerprint, computed from the four public keys
 * each holds, and the daemon stores the approver's keys: from then on only that approver's
 * signature can approve an action here.
 */
import { defineCommand } from "citty";
import * as v from "valibot";
import { fingerprint } from "../approvals/index";
import type { GatewayClient } from "../client/gateway";
import { readEnv } from "../config/env";
import { airlockPaths, type AirlockPaths } from "../config/paths";
import { err, out } from "../config/stdio";
import type { DaemonIdentity, PairingRecord } from "../protocol/approvals";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { readCredentials, readSecretJson, removeFile, requireCredentials, writeSecretJson, type Credentials } from "./_credentials";
import { pairingDaemon } from "./_daemon-api";
import { approverUrl, thisHost, unpairEverywhere, userClient } from "./_pairing";
import { printJson, shortTime } from "./_remote";

const PendingPair = v.object({ gateway_url: v.string(), pairing_id: v.string(), code: v.string(), expires_at: v.string() });
type PendingPair = v.InferOutput<typeof PendingPair>;

const POLL_MS = 1000;

function showCode(creds: Credentials, code: string, expiresAt: string, print: (s: string) => void): void {
  const spaced = code.split("").join(" ");
  const bar = "─".repeat(spaced.length + 8);
  print(
    `Pairing code (single use, expires ${shortTime(expiresAt)}):\n\n` +
      `    ┌${bar}┐\n    │    ${spaced}    │\n    └${bar}┘\n\n` +
      `Enter it on your approver: ${approverUrl(creds.gateway_url)} (phone or desktop browser)\n` +
      `or on a server:           airlock approver --gateway ${creds.gateway_url} --code ${code}\n`,
  );
}

async function identityOf(paths: AirlockPaths): Promise<DaemonIdentity & { client_id: string }> {
  const identity = await pairingDaemon(paths).identity();
  if (!identity.client_id) {
    throw new AirlockError("conflict", "this workstation's daemon is not enrolled with a gateway: run 'airlock client enroll' (or 'airlock dev up') first, then 'airlock pair'");
  }
  return identity as DaemonIdentity & { client_id: string };
}

/** Stores a claimed pairing in the daemon and prints the fingerprint to compare. */
async function finish(paths: AirlockPaths, identity: DaemonIdentity, pairing: PairingRecord, json: boolean): Promise<number> {
  if (!pairing.approver) throw new AirlockError("internal", `pairing ${pairing.id} is paired but carries no approver keys`);
  if (pairing.daemon.sign_key !== identity.keys.sign_key || pairing.daemon.box_key !== identity.keys.box_key) {
    throw new AirlockError("conflict", `the gateway reports other daemon keys for pairing ${pairing.id} than this daemon holds; not pairing (run 'airlock unpair' and pair again)`);
  }
  const fp = await fingerprint(identity.keys, pairing.approver);
  await pairingDaemon(paths).storePairing({ pairing_id: pairing.id, approver: pairing.approver, fingerprint: fp, label: pairing.approver_label });
  removeFile(paths.pendingPair);
  if (json) {
    printJson({ paired: true, pairing_id: pairing.id, fingerprint: fp, approver_label: pairing.approver_label, approver_online: pairing.approver_online });
  } else {
    out(
      `paired with ${pairing.approver_label ?? "an approver"} (pairing ${pairing.id})\n\n` +
        `    fingerprint: ${fp}\n\n` +
        `compare with the approver's screen: they must be the same. If they differ, run 'airlock unpair' now:\n` +
        `someone between the two ends swapped a key.\n`,
    );
  }
  return 0;
}

async function waitForClaim(gw: GatewayClient, pairingId: string, expiresAt: string): Promise<PairingRecord> {
  const deadline = Date.parse(expiresAt);
  for (;;) {
    const p = await gw.getPairing(pairingId);
    if (p.status === "paired") return p;
    if (p.status === "removed") throw new AirlockError("conflict", `pairing ${pairingId} was removed before an approver claimed it`);
    if (Date.now() >= deadline) {
      await gw.deletePairing(pairingId).catch(() => {});
      throw new AirlockError("unavailable", `the pairing code expired at ${shortTime(expiresAt)} before an approver claimed it; run 'airlock pair' again`);
    }
    await Bun.sleep(POLL_MS);
  }
}

export const pairCommand = defineCommand({
  meta: {
    name: "pair",
    description:
      "Pair an approver (phone, browser or 'airlock approver' on a server) with this workstation: prints a 6-character code to enter on the approver, waits for it, then prints the fingerprint both ends must show. Needs 'airlock sign-in' and a running, enrolled daemon.\n\n" +
      "  airlock pair\n" +
      "  airlock pair --no-wait       # print the code and return; run it again to finish\n",
  },
  args: {
    wait: { type: "boolean", default: true, description: "Wait for the approver (--no-wait: start, or check the pairing started before, and return at once)" },
    json: { type: "boolean", description: "Print the result as JSON (the code and instructions go to stderr)" },
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; see 'airlock pair --help'`);
    const paths = airlockPaths(readEnv());
    const creds = requireCredentials(paths);
    const identity = await identityOf(paths);
    const daemon = pairingDaemon(paths);
    const existing = await daemon.pairing();
    if (existing) {
      throw new AirlockError("conflict", `already paired (pairing ${existing.pairing_id}, fingerprint ${existing.fingerprint}); run 'airlock unpair' first to pair another approver`);
    }
    const gw = userClient(creds);
    const print = args.json ? err : out;

    const pending = readSecretJson(paths.pendingPair, PendingPair, "the pending pairing");
    if (pending && pending.gateway_url === creds.gateway_url && Date.parse(pending.expires_at) > Date.now()) {
      let p: PairingRecord | null = null;
      try {
        p = await gw.getPairing(pending.pairing_id);
      } catch (error) {
        if (!(isAirlockError(error) && error.code === "not_found")) throw error;
      }
      if (p?.status === "paired") return finish(paths, identity, p, Boolean(args.json));
      if (p?.status === "pending") {
        showCode(creds, pending.code, pending.expires_at, print);
        if (!args.wait) {
          if (args.json) printJson({ paired: false, pending: true, pairing_id: pending.pairing_id, code: pending.code, expires_at: pending.expires_at });
          else out("not claimed yet: enter the code on the approver, then run 'airlock pair --no-wait' again\n");
          return 0;
        }
        err("airlock: waiting for the approver to claim the code (Ctrl-C to stop)...\n");
        return finish(paths, identity, await waitForClaim(gw, pending.pairing_id, pending.expires_at), Boolean(args.json));
      }
    }
    removeFile(paths.pendingPair);

    const created = await gw.createPairing({ client_id: identity.client_id, daemon: identity.keys, label: thisHost() });
    writeSecretJson(paths.pendingPair, { gateway_url: creds.gateway_url, pairing_id: created.pairing.id, code: created.code, expires_at: created.expires_at } satisfies PendingPair);
    showCode(creds, created.code, created.expires_at, print);
    if (!args.wait) {
      if (args.json) printJson({ paired: false, pending: true, pairing_id: created.pairing.id, code: created.code, expires_at: created.expires_at });
      else out("once the approver has claimed it, run 'airlock pair --no-wait' again to finish\n");
      return 0;
    }
    err("airlock: waiting for the approver to claim the code (Ctrl-C to stop)...\n");
    const claimed = await waitForClaim(gw, created.pairing.id, created.expires_at);
    return finish(paths, identity, claimed, Boolean(args.json));
  },
});

export const unpairCommand = defineCommand({
  meta: {
    name: "unpair",
    description: "Remove the pairing with the approver on both ends: at the gateway (when signed in and reachable; the approver is told) and in the daemon (approvals can no longer be granted here)",
  },
  args: { json: { type: "boolean", description: "Print what was done as JSON" } },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}`);
    const paths = airlockPaths(readEnv());
    const creds = readCredentials(paths);
    const pending = readSecretJson(paths.pendingPair, PendingPair, "the pending pairing");
    const report = await unpairEverywhere(paths, creds, { pairingId: pending?.pairing_id ?? null });
    removeFile(paths.pendingPair);
    if (args.json) {
      printJson({ unpaired: report.pairing_id !== null, ...report });
      return 0;
    }
    if (report.pairing_id === null) {
      out("not paired\n");
      return 0;
    }
    out(`unpaired ${report.pairing_id}: daemon ${report.daemon === "removed" ? "forgot the approver" : "held no pairing"}; gateway ${report.gateway.replace("_", " ")}\n`);
    if (report.gateway === "skipped") err("airlock: not signed in, so the gateway still lists the pairing; sign in and run 'airlock unpair' again, or remove it in the admin UI\n");
    if (report.gateway_error) err(`airlock: the gateway: ${report.gateway_error}\n`);
    return 0;
  },
});
