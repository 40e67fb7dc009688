/**
 * `airlock client enroll|status`: this workstation as a client of a gateway.
 *
 * enroll: exchanges a one-time enrollment token (--token-file FILE, else AIRLOCK_TOKEN; never a
 *         flag) for the workstation's client credential, stored in $AIRLOCK_HOME/daemon.db (0600).
 *         A running daemon picks it up within a second.
 * status: the stored enrollment and, when the daemon runs, whether it reaches the gateway.
 *         Exit 0 enrolled, 1 not enrolled (or the credential was revoked).
 */
import { defineCommand } from "citty";
import { readEnv } from "../config/env";
import { readTokenFile, resolveGatewayTarget } from "../config/gateway-target";
import { airlockPaths } from "../config/paths";
import { enrollClient, readEnrollment } from "../daemon/enroll";
import { probeDaemon } from "../daemon/probe";
import { AirlockError } from "../protocol/errors";
import { formatFields, printJson, shortTime } from "./_remote";
import { out } from "../config/stdio";

const enroll = defineCommand({
  meta: {
    name: "enroll",
    description:
      "Enroll this workstation with a gateway, using a one-time enrollment token from an admin\n" +
      "('POST /api/v1/clients/enrollment-tokens'). The token is read from --token-file FILE (mode 0600)\n" +
      "or AIRLOCK_TOKEN, never from a flag.\n\n" +
      "  airlock client enroll --gateway https://airlock.example.com --token-file ~/enroll.token",
  },
  args: {
    gateway: { type: "string", description: "Gateway URL (default: env AIRLOCK_GATEWAY_URL, then gateway_url in config.json, then http://127.0.0.1:8787)" },
    "token-file": { type: "string", description: "File holding the one-time enrollment token (mode 0600); default: env AIRLOCK_TOKEN" },
    name: { type: "string", description: "This client's name at the gateway (default: the host name)" },
    json: { type: "boolean", description: "Print the result as JSON" },
  },
  async run({ args }) {
    const env = readEnv();
    const paths = airlockPaths(env);
    const target = resolveGatewayTarget(env, { gateway: args.gateway });
    const token = args["token-file"] !== undefined ? readTokenFile(args["token-file"]) : env.AIRLOCK_TOKEN;
    if (token === undefined) {
      throw new AirlockError("usage", "no enrollment token: pass --token-file FILE (mode 0600) or set AIRLOCK_TOKEN; an admin creates one with POST /api/v1/clients/enrollment-tokens");
    }
    if (args.name !== undefined && (args.name.trim() === "" || args.name.length > 128)) throw new AirlockError("usage", "--name must be 1-128 characters");
    let result;
    try {
      result = await enrollClient({ gatewayUrl: target.url, token, home: paths.home, ...(args.name ? { name: args.name } : {}) });
    } catch (error) {
      if (error instanceof AirlockError && error.code === "unauthorized") {
        throw new AirlockError("unauthorized", error.message, [...error.details, { message: "the enrollment token is invalid, expired or already used: ask an admin for a new one" }], { cause: error });
      }
      throw error;
    }
    const probe = await probeDaemon(paths.socket);
    let daemon = "not running: 'airlock daemon start' will use this enrollment";
    if (probe.state === "running") {
      // the daemon re-reads the enrollment within a second
      const deadline = Date.now() + 3000;
      let status = probe.status;
      while (status.gateway.client_id !== result.client_id && Date.now() < deadline) {
        await Bun.sleep(100);
        const again = await probeDaemon(paths.socket);
        if (again.state !== "running") break;
        status = again.status;
      }
      daemon = status.gateway.client_id === result.client_id ? `running (pid ${status.pid}): now syncing with the gateway` : `running (pid ${status.pid}): it has not picked up the enrollment yet`;
    }
    if (args.json) {
      printJson({ ...result, daemon: probe.state === "running" ? "running" : "not running" });
      return 0;
    }
    const fields: [string, string | null][] = [
      ["enrolled", `${result.gateway_url} as client ${result.client_id} (${result.name})`],
      ["credential", `stored in ${paths.daemonDb} (mode 0600)`],
      ["daemon", daemon],
    ];
    if (result.previous) fields.push(["replaced", `the previous enrollment (${result.previous.gateway_url}, client ${result.previous.client_id})`]);
    out(formatFields(fields));
    return 0;
  },
});

const status = defineCommand({
  meta: { name: "status", description: "This workstation's enrollment, and whether the daemon reaches the gateway. Exit 0 enrolled, 1 not" },
  args: { json: { type: "boolean", description: "Print as JSON" } },
  async run({ args }) {
    const paths = airlockPaths(readEnv());
    const enrollment = readEnrollment(paths.home);
    const probe = await probeDaemon(paths.socket);
    const gateway = probe.state === "running" ? probe.status.gateway : null;
    const outbox = probe.state === "running" ? probe.status.outbox : null;
    const enrolled = enrollment !== null && enrollment.revoked_at === null;
    if (args.json) {
      printJson({
        enrolled,
        gateway_url: enrollment?.gateway_url ?? null,
        client_id: enrollment?.client_id ?? null,
        name: enrollment?.name ?? null,
        enrolled_at: enrollment?.enrolled_at ?? null,
        revoked_at: enrollment?.revoked_at ?? null,
        revoked_reason: enrollment?.revoked_reason ?? null,
        daemon: probe.state === "running" ? { running: true, pid: probe.status.pid, reachable: gateway!.reachable, last_contact_at: gateway!.last_contact_at, last_error: gateway!.last_error, outbox } : { running: false },
      });
      return enrolled ? 0 : 1;
    }
    if (enrollment === null) {
      out(
        formatFields([
          ["enrolled", "no: the daemon runs standalone (embedded seed policies; decisions wait in the outbox)"],
          ["enroll", "airlock client enroll --gateway URL --token-file FILE"],
          ["daemon", probe.state === "running" ? `running (pid ${probe.status.pid})${outbox ? `, ${outbox.pending} decisions and session changes waiting` : ""}` : "not running"],
        ]),
      );
      return 1;
    }
    const fields: [string, string | null][] = [
      ["gateway", enrollment.gateway_url],
      ["client", `${enrollment.client_id} (${enrollment.name})`],
      ["enrolled", shortTime(enrollment.enrolled_at)],
    ];
    if (enrollment.revoked_at) fields.push(["REVOKED", `${shortTime(enrollment.revoked_at)}: ${enrollment.revoked_reason ?? ""}; governed checks are blocked until you enroll again`]);
    if (probe.state === "running" && gateway) {
      fields.push(
        ["daemon", `running (pid ${probe.status.pid})`],
        ["reachable", `${gateway.reachable ? "yes" : "NO"}${gateway.last_contact_at ? ` (last contact ${shortTime(gateway.last_contact_at)})` : ""}`],
      );
      if (gateway.last_error) fields.push(["last error", gateway.last_error]);
      if (outbox) fields.push(["outbox", `${outbox.pending} pending, ${outbox.shipped_total} shipped`]);
    } else {
      fields.push(["daemon", "not running: 'airlock daemon start'"]);
    }
    out(formatFields(fields));
    return enrolled ? 0 : 1;
  },
});

export const clientCommand = defineCommand({
  meta: {
    name: "client",
    description:
      "This workstation as a client of a gateway.\n\n" +
      "  airlock client enroll --gateway https://airlock.example.com --token-file ~/enroll.token\n" +
      "  airlock client status --json\n",
  },
  subCommands: { enroll, status },
});
