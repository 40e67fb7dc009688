/**
 * `airlock status [--json]`: the approvals state of this workstation (DESIGN 7): mode, fail mode,
 * patterns, gateway, who is signed in, the pairing and its fingerprint (from the daemon), whether
 * the approver is online (from the gateway), whether the daemon answers. Never fails on a part
 * it cannot reach: it says so in that part.
 */
import { defineCommand } from "citty";
import { readEnv } from "../config/env";
import { readConfigFile } from "../config/file";
import { resolveGatewayTarget } from "../config/gateway-target";
import { airlockPaths } from "../config/paths";
import { out } from "../config/stdio";
import type { DaemonPairing } from "../protocol/approvals";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { readCredentials, type Credentials } from "./_credentials";
import { pairingDaemon } from "./_daemon-api";
import { userClient } from "./_pairing";
import { formatFields, printJson, shortTime } from "./_remote";

export interface ApprovalsStatus {
  mode: "auto-on" | "auto-off";
  fail_mode: "open" | "closed";
  patterns: number;
  gateway_url: string;
  signed_in: { user: string; gateway_url: string; since: string } | null;
  daemon: { reachable: boolean; error: string | null };
  pairing: (DaemonPairing & { status: string | null; approver_online: boolean | null; gateway_error: string | null }) | null;
  problems: string[];
}

export const statusCommand = defineCommand({
  meta: {
    name: "status",
    description:
      "Approvals here: mode (auto-on/off), fail mode, patterns, gateway, sign-in, pairing and fingerprint, approver online, daemon reachable. For the install itself, see 'airlock doctor'.",
  },
  args: { json: { type: "boolean", description: "Print as JSON" } },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}`);
    const env = readEnv();
    const paths = airlockPaths(env);
    const problems: string[] = [];
    const config = readConfigFile(paths.config);
    let creds: Credentials | null = null;
    try {
      creds = readCredentials(paths);
    } catch (error) {
      problems.push((error as Error).message);
    }
    const gatewayUrl = creds?.gateway_url ?? resolveGatewayTarget(env).url;

    const daemon = pairingDaemon(paths, 2000);
    let reachable = true;
    let daemonError: string | null = null;
    let pairing: ApprovalsStatus["pairing"] = null;
    try {
      const p = await daemon.pairing();
      if (p) pairing = { ...p, status: null, approver_online: null, gateway_error: null };
    } catch (error) {
      reachable = false;
      daemonError = (error as Error).message;
      problems.push(`the daemon is not reachable: ${daemonError}`);
    }
    if (pairing && creds) {
      try {
        const record = await userClient(creds, 5000).getPairing(pairing.pairing_id);
        pairing.status = record.status;
        pairing.approver_online = record.approver_online;
        if (record.status === "removed") problems.push(`the gateway has removed pairing ${pairing.pairing_id}: run 'airlock unpair', then 'airlock pair'`);
      } catch (error) {
        pairing.gateway_error = isAirlockError(error) ? error.message : String(error);
        problems.push(`cannot ask the gateway about the pairing: ${pairing.gateway_error}`);
      }
    }
    if (!config.auto && !pairing) problems.push("auto is off but no approver is paired: commands that need approval are blocked (fail mode closed) or run (open); run 'airlock pair'");

    const status: ApprovalsStatus = {
      mode: config.auto ? "auto-on" : "auto-off",
      fail_mode: config.fail_mode,
      patterns: config.auto_approve.length,
      gateway_url: gatewayUrl,
      signed_in: creds ? { user: creds.user, gateway_url: creds.gateway_url, since: creds.signed_in_at } : null,
      daemon: { reachable, error: daemonError },
      pairing,
      problems,
    };
    if (args.json) {
      printJson(status);
      return 0;
    }
    const approver = !pairing
      ? "-"
      : pairing.approver_online === null
        ? `unknown${creds ? "" : " (not signed in)"}`
        : pairing.approver_online
          ? "online"
          : "offline (requests wait for it)";
    out(
      formatFields([
        ["mode", status.mode === "auto-on" ? "auto-on (only policies' require_approval asks a human)" : "auto-off (every command of a governed agent asks, unless a pattern matches)"],
        ["fail mode", status.fail_mode === "open" ? "open (availability failures ALLOW)" : "closed"],
        ["patterns", `${status.patterns} ('airlock patterns')`],
        ["gateway", gatewayUrl],
        ["signed in", creds ? `${creds.user} (since ${shortTime(creds.signed_in_at)})` : "no ('airlock sign-in')"],
        ["paired", pairing ? `${pairing.pairing_id}${pairing.label ? ` with ${pairing.label}` : ""} (since ${shortTime(pairing.paired_at)})` : reachable ? "no ('airlock pair')" : "unknown"],
        ["fingerprint", pairing?.fingerprint ?? "-"],
        ["approver", approver],
        ["daemon", reachable ? "reachable" : `NOT reachable ('airlock daemon start')`],
      ]),
    );
    for (const p of problems) out(`! ${p}\n`);
    return 0;
  },
});
