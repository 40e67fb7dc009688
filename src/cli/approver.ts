/**
 * `airlock approver [--code XXXXXX] [--keys FILE] [--gateway URL] [--auto approve|deny] [--once] [--json]`:
 * the headless approver, for servers, tests and benchmarks. Same protocol as the browser approver
 * (docs/approvals.md), with its keys in a 0600 file instead of IndexedDB.
 */
import { isatty } from "node:tty";
import { defineCommand } from "citty";
import { fingerprint, generateKeyPairs, publicKeys } from "../approvals/index";
import { readEnv } from "../config/env";
import { resolveGatewayTarget } from "../config/gateway-target";
import { airlockPaths } from "../config/paths";
import { err, out } from "../config/stdio";
import { PairingCodeInput, type DecisionValue } from "../protocol/approvals";
import { AirlockError } from "../protocol/errors";
import * as v from "valibot";
import { claimCode, loadKeys, readApproverFile, runApprover, writeApproverFile, type ApproverFile } from "./_approver";
import { thisHost } from "./_pairing";

/** a real terminal on stdin (not /dev/null, which is a character device too) */
function stdinIsTerminal(): boolean {
  try {
    return isatty(0);
  } catch {
    return false;
  }
}

async function ask(): Promise<DecisionValue | null> {
  const { consola } = await import("consola");
  const answer = await consola.prompt("Approve this action?", {
    type: "select",
    options: [
      { label: "deny", value: "deny" },
      { label: "approve", value: "approve" },
    ],
    cancel: "null",
  });
  if (answer === null || typeof answer === "symbol") return null;
  const value = typeof answer === "string" ? answer : (answer as { value: string }).value;
  return value === "approve" ? "approve" : value === "deny" ? "deny" : null;
}

export const approverCommand = defineCommand({
  meta: {
    name: "approver",
    description:
      "The headless approver: pair it once with a code from 'airlock pair', then it receives approval requests over the gateway's WebSocket, shows each action and answers with a signed decision.\n\n" +
      "  airlock approver --gateway https://airlock.example.com --code K7M2QP   # pair, then listen\n" +
      "  airlock approver                                     # listen (keys from $AIRLOCK_HOME/approver.json)\n" +
      "  airlock approver --auto approve --once               # tests: approve the next request, then exit\n\n" +
      "Without --auto it asks on the terminal for each request. A request whose signature is not the paired terminal's is refused and reported, never signed.",
  },
  args: {
    code: { type: "string", description: "Pairing code shown by 'airlock pair': claim it with fresh keys and save them to the key file" },
    keys: { type: "string", description: "Key file (default $AIRLOCK_HOME/approver.json, mode 0600): the private keys, the approver token and the pairing" },
    gateway: { type: "string", description: "Gateway URL for --code (default: env AIRLOCK_GATEWAY_URL, then config.json, then http://127.0.0.1:8787); later runs use the key file's" },
    auto: { type: "string", description: "Answer every request without asking: approve or deny (tests, benchmarks)" },
    once: { type: "boolean", description: "Exit after the first decision" },
    force: { type: "boolean", description: "With --code: replace an existing key file (its pairing stops working here)" },
    label: { type: "string", description: "With --code: a name for this approver shown at the gateway (default: approver on HOSTNAME)" },
    json: { type: "boolean", description: "Print one JSON object per event (paired, ready, request, decided, refused, unpaired) on stdout" },
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; see 'airlock approver --help'`);
    if (args.auto !== undefined && args.auto !== "approve" && args.auto !== "deny") throw new AirlockError("usage", `--auto must be approve or deny, got ${JSON.stringify(args.auto)}`);
    const auto = args.auto as DecisionValue | undefined;
    const env = readEnv();
    const paths = airlockPaths(env);
    const keyPath = args.keys ?? paths.approverKeys;
    const json = Boolean(args.json);
    // what was typed first, then what is on disk, then whether anyone can answer: nothing is claimed
    // by an approver that could not answer
    const code = args.code === undefined ? null : v.safeParse(PairingCodeInput, args.code);
    if (code && !code.success) throw new AirlockError("usage", `--code ${code.issues[0].message}, got ${JSON.stringify(args.code)}`);
    if (!code && !readApproverFile(keyPath)) throw new AirlockError("usage", `no approver key file at ${keyPath}: pair first with 'airlock approver --code XXXXXX' (the code comes from 'airlock pair')`);
    if (auto === undefined && !stdinIsTerminal()) throw new AirlockError("usage", "no terminal to ask on: run it in a terminal, or pass --auto approve|deny");

    let file: ApproverFile | null;
    if (code?.success) {
      const existing = readApproverFile(keyPath);
      if (existing && !args.force) {
        throw new AirlockError("conflict", `${keyPath} already holds the approver of pairing ${existing.pairing_id}; pass --keys OTHER_FILE, or --force to replace it`);
      }
      const target = resolveGatewayTarget(env, { gateway: args.gateway });
      const keys = await generateKeyPairs(true);
      const mine = await publicKeys(keys);
      const label = args.label ?? `approver on ${thisHost()}`;
      const claimed = await claimCode(target.url, code.output, label, mine);
      const fp = await fingerprint(claimed.daemon, mine);
      const { pairing_label, ...rest } = claimed;
      file = await writeApproverFile(keyPath, { ...rest, fingerprint: fp }, keys);
      if (json) out(`${JSON.stringify({ at: new Date().toISOString(), event: "paired", pairing_id: file.pairing_id, fingerprint: fp, keys: keyPath })}\n`);
      else {
        out(
          `paired with ${pairing_label ?? "the terminal"} (pairing ${file.pairing_id}); keys saved in ${keyPath} (0600)\n\n` +
            `    fingerprint: ${fp}\n\n` +
            `compare with the terminal running 'airlock pair': they must be the same. If they differ, stop this approver and run 'airlock unpair' there.\n`,
        );
      }
    } else {
      file = readApproverFile(keyPath);
      if (!file) throw new AirlockError("usage", `no approver key file at ${keyPath}: pair first with 'airlock approver --code XXXXXX' (the code comes from 'airlock pair')`);
      if (args.gateway !== undefined) err(`airlock: note: --gateway is only used with --code; this approver talks to ${file.gateway_url}\n`);
    }
    const keys = await loadKeys(file);

    let stopNow: () => void = () => {};
    const stop = new Promise<void>((resolve) => {
      stopNow = resolve;
    });
    const onSignal = () => stopNow();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      const result = await runApprover({ file, keys, once: Boolean(args.once), json, stop, decide: auto ? async () => auto : ask });
      if (json) out(`${JSON.stringify({ at: new Date().toISOString(), event: "exit", reason: result.reason, decisions: result.decisions })}\n`);
      else if (result.reason !== "once") err(`airlock: approver stopped (${result.reason}); ${result.decisions} decision${result.decisions === 1 ? "" : "s"}\n`);
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  },
});
