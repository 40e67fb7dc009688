/**
 * `airlock sessions list|show ID|revoke ID`: governed agent runs as the gateway knows them
 * (DESIGN 4). Revoking a session blocks every later check of it.
 */
import { defineCommand } from "citty";
import type { SessionListQuery } from "../client/gateway";
import { AirlockError } from "../protocol/errors";
import { SESSION_STATUSES, type SessionRecord, type SessionStatus } from "../protocol/records";
import { formatFields, formatTable, onePositional, printJson, remoteArgs, shortTime, withGateway } from "./_remote";
import { err, out } from "../config/stdio";

const PAGE_MAX = 500;
const LIMIT_MAX = 10_000;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= LIMIT_MAX)) throw new AirlockError("usage", `--limit must be a whole number from 1 to ${LIMIT_MAX}, got ${JSON.stringify(raw)}`);
  return n;
}

const list = defineCommand({
  meta: {
    name: "list",
    description: "List sessions, newest first, filtered by status, agent, role, user or host (a table; --json for the records)",
  },
  args: {
    status: { type: "string", description: `Only this status: ${SESSION_STATUSES.join(", ")}` },
    agent: { type: "string", description: "Only this agent (claude, codex, cursor, ...)" },
    role: { type: "string", description: "Only sessions under this role" },
    user: { type: "string", description: "Only this user" },
    host: { type: "string", description: "Only this host" },
    limit: { type: "string", description: `At most N sessions (default 50, at most ${LIMIT_MAX})` },
    ...remoteArgs,
  },
  async run({ args }) {
    if (args._.length > 0) throw new AirlockError("usage", `unexpected argument ${JSON.stringify(args._[0])}; to see one session, run 'airlock sessions show ID'`);
    if (args.status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(args.status)) {
      throw new AirlockError("usage", `--status must be one of ${SESSION_STATUSES.join(", ")}, got ${JSON.stringify(args.status)}`);
    }
    for (const key of ["agent", "role", "user", "host"] as const) {
      if (args[key] !== undefined && args[key].trim() === "") throw new AirlockError("usage", `--${key} is empty`);
    }
    const limit = parseLimit(args.limit);
    const filter: SessionListQuery = {};
    if (args.status !== undefined) filter.status = args.status as SessionStatus;
    for (const key of ["agent", "role", "user", "host"] as const) if (args[key] !== undefined) filter[key] = args[key];
    return withGateway(args, async ({ client }) => {
      const items: SessionRecord[] = [];
      let cursor: string | null = null;
      do {
        const page = await client.listSessions({ ...filter, limit: Math.min(PAGE_MAX, limit - items.length), ...(cursor ? { cursor } : {}) });
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor !== null && items.length < limit);
      if (args.json) {
        printJson({ items, next_cursor: cursor });
        return 0;
      }
      if (items.length === 0) {
        out("no sessions\n");
        return 0;
      }
      out(
        formatTable(items, [
          { header: "ID", value: (s) => s.id },
          { header: "STATUS", value: (s) => s.status },
          { header: "AGENT", value: (s) => s.agent },
          { header: "ROLE", value: (s) => s.role },
          { header: "USER", value: (s) => s.user },
          { header: "HOST", value: (s) => s.host },
          { header: "CREATED", value: (s) => shortTime(s.created_at) },
        ]),
      );
      if (cursor !== null) err(`airlock: showing the newest ${items.length}; more match (raise --limit)\n`);
      return 0;
    });
  },
});

const show = defineCommand({
  meta: { name: "show", description: "Show one session: agent, role, user, host, cwd, pid, status and its times" },
  args: { id: { type: "positional", required: false, description: "Session id" }, ...remoteArgs },
  async run({ args }) {
    const id = onePositional(args, "session id", "airlock sessions show ID");
    return withGateway(args, async ({ client }) => {
      const s = await client.getSession(id);
      if (args.json) {
        printJson(s);
        return 0;
      }
      out(
        formatFields([
          ["id", s.id],
          ["status", s.status],
          ["agent", s.agent],
          ["role", s.role],
          ["user", s.user],
          ["host", s.host],
          ["cwd", s.cwd],
          ["pid", s.pid],
          ["client", s.client_id],
          ["created", shortTime(s.created_at)],
          ["started", shortTime(s.started_at)],
          ["ended", shortTime(s.ended_at)],
          ["exit code", s.exit_code],
          ["revoked by", s.revoked_by],
        ]),
      );
      return 0;
    });
  },
});

const revoke = defineCommand({
  meta: { name: "revoke", description: "Revoke a ready or running session: every later check of it is blocked (admin token)" },
  args: { id: { type: "positional", required: false, description: "Session id" }, ...remoteArgs },
  async run({ args }) {
    const id = onePositional(args, "session id", "airlock sessions revoke ID");
    return withGateway(args, async ({ client }) => {
      const s = await client.revokeSession(id);
      if (args.json) printJson(s);
      else out(`revoked session ${s.id} (agent ${s.agent}, role ${s.role}, user ${s.user}@${s.host}); its later checks are blocked\n`);
      return 0;
    });
  },
});

export const sessionsCommand = defineCommand({
  meta: {
    name: "sessions",
    description:
      "Governed agent sessions as the gateway knows them. Needs a token: AIRLOCK_TOKEN or --token-file (viewer to read, admin to revoke).\n\n" +
      "  airlock sessions list --status running --agent claude\n" +
      "  airlock sessions list --role terraform-restricted-agent --limit 200 --json\n" +
      "  airlock sessions show ses_0123...\n" +
      "  airlock sessions revoke ses_0123...\n",
  },
  subCommands: { list, show, revoke },
});
