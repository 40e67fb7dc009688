/**
 * `airlock server status`: is the gateway reachable (GET /healthz), ready (GET /readyz: store
 * backend), and, with a token, its counts and audit head (GET /api/v1/status).
 * Exit 0 when reachable, 1 when not.
 */
import { defineCommand } from "citty";
import { GatewayRequestError, type GatewayStatus } from "../client/gateway";
import { AirlockError, isAirlockError } from "../protocol/errors";
import { connect, explainAuth, formatFields, printJson, remoteArgs } from "./_remote";
import { out } from "../config/stdio";

interface StatusReport {
  gateway: string;
  gateway_from: string;
  reachable: boolean;
  ready: boolean | null;
  version: string | null;
  store: string | null;
  token_from: string;
  counts: GatewayStatus["counts"] | null;
  head: GatewayStatus["head"];
  /** why the counts are missing, when they are */
  status_error: { code: string; message: string } | null;
  error: { code: string; message: string } | null;
}

const status = defineCommand({
  meta: {
    name: "status",
    description: "Whether the gateway is reachable, its version and store; with a token, its counts and audit head. Exit 0 reachable, 1 not",
  },
  args: remoteArgs,
  async run({ args }) {
    const { client, target } = connect(args, { needToken: false });
    const report: StatusReport = {
      gateway: client.baseUrl,
      gateway_from: target.urlSource,
      reachable: false,
      ready: null,
      version: null,
      store: null,
      token_from: target.tokenSource,
      counts: null,
      head: null,
      status_error: null,
      error: null,
    };
    try {
      const health = await client.health().catch((error: unknown) => {
        // something answered, but not like a gateway: say so rather than print a bare 404
        if (error instanceof GatewayRequestError && error.status !== null) {
          throw new AirlockError("unavailable", `something answers at ${client.baseUrl}, but it is not an Airlock gateway: ${error.message}`, [], { cause: error });
        }
        throw error;
      });
      if (typeof health?.version !== "string") {
        throw new AirlockError("unavailable", `something answers at ${client.baseUrl}, but it is not an Airlock gateway: GET ${client.baseUrl}/healthz did not return {status, version}`);
      }
      report.reachable = true;
      report.version = health.version;
    } catch (error) {
      if (!isAirlockError(error)) throw error;
      report.error = { code: error.code, message: error.message };
      if (args.json) printJson(report);
      throw error;
    }
    try {
      const readiness = await client.readiness();
      report.ready = readiness.ready;
      report.store = readiness.store;
    } catch {
      // an old gateway or a proxy without /readyz: reachable is what /healthz said
    }
    if (client.hasToken) {
      try {
        const s = await client.status();
        report.version = s.version;
        report.store = s.store;
        report.counts = s.counts;
        report.head = s.head;
      } catch (error) {
        const explained = explainAuth(error, target);
        if (!(explained instanceof AirlockError)) throw explained;
        report.status_error = { code: explained.code, message: [explained.message, ...explained.details.map((d) => d.message)].join("; ") };
      }
    }
    if (args.json) {
      printJson(report);
      return 0;
    }
    const fields: [string, string | number | null][] = [
      ["gateway", `${report.gateway} (from ${report.gateway_from})`],
      ["status", `reachable${report.ready === null ? "" : report.ready ? ", ready" : ", NOT READY (store unreachable)"}`],
      ["version", report.version],
      ["store", report.store],
    ];
    const c = report.counts;
    if (c) {
      fields.push(
        ["sessions", Object.entries(c.sessions_by_status).map(([k, n]) => `${k} ${n}`).join(", ")],
        ["decisions", Object.entries(c.decisions_by_verdict).map(([k, n]) => `${k} ${n}`).join(", ")],
        ["policies", c.policies],
        ["roles", c.roles],
        ["clients", c.clients],
        ["audit", report.head ? `${c.audit_events} events, head seq ${report.head.seq} (${report.head.hash.slice(0, 16)}…)` : `${c.audit_events} events`],
      );
    } else if (report.status_error) {
      fields.push(["counts", `unavailable: ${report.status_error.message}`]);
    } else {
      fields.push(["counts", "set AIRLOCK_TOKEN (admin or viewer) or pass --token-file to see counts and the audit head"]);
    }
    out(formatFields(fields));
    return 0;
  },
});

export const serverCommand = defineCommand({
  meta: {
    name: "server",
    description:
      "Inspect a gateway.\n\n" +
      "  airlock server status\n" +
      "  airlock server status --gateway https://airlock.example.com --json\n" +
      "  airlock server status --token-file ~/.airlock/viewer.token   # adds counts and the audit head\n",
  },
  subCommands: { status },
});
