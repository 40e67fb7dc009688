/**
 * `airlock admin token create|list|revoke`: admin and viewer tokens of the gateway (admin only).
 * A new token's secret is printed once, alone on stdout, so it can be piped into a file or a secret store.
 */
import { defineCommand } from "citty";
import { TOKEN_KINDS, type TokenKind, type TokenRecord } from "../protocol/records";
import { AirlockError } from "../protocol/errors";
import { formatTable, onePositional, printJson, remoteArgs, shortTime, withGateway } from "./_remote";
import { err, out } from "../config/stdio";

function tokenState(t: TokenRecord, now = Date.now()): string {
  if (t.revoked_at) return "revoked";
  if (t.expires_at && Date.parse(t.expires_at) <= now) return "expired";
  if (t.kind === "enrollment" && t.used_at) return "used";
  return "active";
}

const create = defineCommand({
  meta: {
    name: "create",
    description: "Create an admin (full access) or viewer (read-only) token; the secret is printed once, alone on stdout, and stored only as a hash",
  },
  args: {
    kind: { type: "string", description: "admin or viewer" },
    name: { type: "string", description: "What the token is for (shown in lists and the audit trail)" },
    "expires-in-days": { type: "string", description: "Expire after D days (1-3650; default: never)" },
    ...remoteArgs,
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}`);
    if (args.kind !== "admin" && args.kind !== "viewer") {
      throw new AirlockError("usage", args.kind === undefined ? "missing --kind admin|viewer" : `--kind must be admin or viewer, got ${JSON.stringify(args.kind)}`);
    }
    if (args.name === undefined || args.name.trim() === "") throw new AirlockError("usage", "missing --name N: say what the token is for");
    let days: number | undefined;
    if (args["expires-in-days"] !== undefined) {
      const raw = args["expires-in-days"];
      days = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(days >= 1 && days <= 3650)) throw new AirlockError("usage", `--expires-in-days must be a whole number of days from 1 to 3650, got ${JSON.stringify(raw)}`);
    }
    const kind = args.kind;
    const name = args.name;
    return withGateway(args, async ({ client }) => {
      const created = await client.createToken({ kind, name, ...(days === undefined ? {} : { expires_in_days: days }) });
      if (args.json) {
        printJson(created);
        return 0;
      }
      const r = created.record;
      err(
        `airlock: created ${r.kind} token ${r.id} (${JSON.stringify(r.name)}, ${r.expires_at ? `expires ${shortTime(r.expires_at)}` : "never expires"}); the secret below is shown only this once\n`,
      );
      out(`${created.token}\n`);
      return 0;
    });
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List tokens (never their secrets): id, kind, name, state, created, expires, last used" },
  args: {
    kind: { type: "string", description: `Only this kind: ${TOKEN_KINDS.join(", ")}` },
    ...remoteArgs,
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}`);
    if (args.kind !== undefined && !(TOKEN_KINDS as readonly string[]).includes(args.kind)) {
      throw new AirlockError("usage", `--kind must be one of ${TOKEN_KINDS.join(", ")}, got ${JSON.stringify(args.kind)}`);
    }
    return withGateway(args, async ({ client }) => {
      const items = await client.listTokens(args.kind as TokenKind | undefined);
      if (args.json) {
        printJson({ items });
        return 0;
      }
      if (items.length === 0) {
        out("no tokens\n");
        return 0;
      }
      out(
        formatTable(items, [
          { header: "ID", value: (t) => t.id },
          { header: "KIND", value: (t) => t.kind },
          { header: "NAME", value: (t) => t.name },
          { header: "STATE", value: (t) => tokenState(t) },
          { header: "CREATED", value: (t) => shortTime(t.created_at) },
          { header: "EXPIRES", value: (t) => shortTime(t.expires_at) ?? "never" },
          { header: "LAST USED", value: (t) => shortTime(t.last_used_at) ?? "never" },
        ]),
      );
      return 0;
    });
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Revoke a token by id: it stops working at once" },
  args: {
    id: { type: "positional", required: false, description: "Token id (from 'airlock admin token list')" },
    ...remoteArgs,
  },
  async run({ args }) {
    const id = onePositional(args, "token id", "airlock admin token revoke ID");
    return withGateway(args, async ({ client }) => {
      const record = await client.revokeToken(id);
      if (args.json) printJson(record);
      else out(`revoked ${record.kind} token ${record.id} (${JSON.stringify(record.name)})\n`);
      return 0;
    });
  },
});

const token = defineCommand({
  meta: {
    name: "token",
    description:
      "Admin and viewer tokens of the gateway (needs an admin token).\n\n" +
      "  (umask 077; airlock admin token create --kind viewer --name grafana > viewer.token)\n" +
      "  airlock admin token create --kind admin --name ci --expires-in-days 30 --json\n" +
      "  airlock admin token list --kind viewer\n" +
      "  airlock admin token revoke tok_0123...\n",
  },
  subCommands: { create, list, revoke },
});

export const adminCommand = defineCommand({
  meta: { name: "admin", description: "Administer the gateway's credentials: airlock admin token create|list|revoke (see 'airlock admin token --help')" },
  subCommands: { token },
});
