/**
 * Sessions on this workstation (DESIGN 4): explicit ones created by `airlock run` over the socket
 * (a token returned once, stored as its SHA-256), and implicit ones opened for an agent process
 * found by a shim's ancestry walk. Every change is queued in the outbox in the same transaction,
 * so the gateway learns the session (under the same id) before any of its decisions.
 * status: ready → running → exited; revoked comes from the gateway's change feed.
 *
 * How implicit sessions end: a hook that sees the agent's own session end (Claude Code and Gemini
 * CLI `SessionEnd`, Cursor `sessionEnd`) asks `endAgentSession`; as a backstop, `reap` ends every
 * implicit session whose agent process (found by ancestry at first sight) no longer exists.
 */
import { timingSafeEqual } from "node:crypto";
import type { AgentSessionEndRequest, AgentSessionEndResponse, CreateSessionRequest, DaemonSession } from "../protocol/daemon";
import { AirlockError } from "../protocol/errors";
import { sessionView, type DaemonDb, type SessionRow, type SessionStatus } from "./db";
import type { GatewaySessionBody } from "./gateway-api";
import type { Logger } from "./log";

/** An agent process found among a hook's ancestors. */
export interface AgentProcess {
  /** the process name that matched the known-agents list (as a shim's ancestry walk reports it) */
  agent: string;
  pid: number;
}

export interface Identity {
  user: string;
  host: string;
}

export interface SessionsDeps {
  db: DaemonDb;
  log: Logger;
  identity: Identity;
  defaultRole: () => string;
  /** true/false, or null when it cannot be told now */
  knownRole: (role: string) => Promise<boolean | null>;
  /** new outbox rows */
  kick: () => void;
}

export const LIVE: ReadonlySet<SessionStatus> = new Set(["ready", "running"]);

export function newSessionId(): string {
  return `ses_${Bun.randomUUIDv7().replaceAll("-", "")}`;
}

/** `al_d_<43 chars>`: a daemon session token (d: issued by the local daemon, checked only there). */
export function newSessionToken(): string {
  return `al_d_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}

/** Constant-time comparison of the token's SHA-256 with the stored one. */
export function tokenMatches(row: SessionRow, token: string): boolean {
  const given = Buffer.from(hashToken(token), "hex");
  const stored = Buffer.from(row.token_hash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}

function gatewayBody(row: SessionRow): GatewaySessionBody {
  return { id: row.id, agent: row.agent, role: row.role, user: row.user, host: row.host, cwd: row.cwd, pid: row.pid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class Sessions {
  private readonly deps: SessionsDeps;

  constructor(deps: SessionsDeps) {
    this.deps = deps;
  }

  async create(body: CreateSessionRequest): Promise<{ session: DaemonSession; token: string }> {
    const role = body.role ?? this.deps.defaultRole();
    const known = await this.deps.knownRole(role);
    if (known === false) {
      throw new AirlockError("invalid_input", `unknown role ${JSON.stringify(role)}`, [{ path: "body.role", message: "no such role" }]);
    }
    if (known === null) this.deps.log.warn(`role ${role} cannot be confirmed now (gateway unreachable): the session is created; its checks block until the bundle arrives`);
    const token = newSessionToken();
    const row = this.deps.db.tx(() => {
      const created = this.deps.db.insertSession({
        id: newSessionId(),
        token_hash: hashToken(token),
        agent: body.agent,
        role,
        cwd: body.cwd,
        pid: body.pid ?? null,
        user: body.user ?? this.deps.identity.user,
        host: this.deps.identity.host,
        status: "ready",
        implicit: false,
        agent_pid: null,
      });
      this.deps.db.enqueue("session.create", gatewayBody(created));
      return created;
    });
    this.deps.kick();
    this.deps.log.info(`session ${row.id}: ${row.agent} under role ${row.role}`);
    return { session: sessionView(row), token };
  }

  /** running / exited, authenticated by the session's token. */
  update(id: string, body: { token: string; status: "running" | "exited"; exit_code?: number | null | undefined; pid?: number | undefined }): DaemonSession {
    const row = this.deps.db.session(id);
    if (!row || !tokenMatches(row, body.token)) throw new AirlockError("unauthorized", "invalid session credentials");
    const result = this.deps.db.tx(() => {
      const current = this.deps.db.session(id)!;
      const from = current.status;
      const to = body.status;
      if (from === "revoked") throw new AirlockError("conflict", `session ${id} was revoked; it cannot become ${to}`);
      if (from === "exited" && to === "running") throw new AirlockError("conflict", `session ${id} has exited; it cannot run again`);
      if (from === to) {
        // a repeated report (a retry): nothing to ship
        if (body.pid !== undefined) this.deps.db.setSessionPid(id, body.pid);
        return this.deps.db.session(id)!;
      }
      if (from === "ready" && to === "exited") {
        // the gateway knows only ready → running → exited
        this.deps.db.enqueue("session.status", { id, status: "running" });
      }
      this.deps.db.setSessionStatus(id, to, { exit_code: to === "exited" ? (body.exit_code ?? null) : null, pid: body.pid ?? null });
      this.deps.db.enqueue("session.status", to === "exited" ? { id, status: to, exit_code: body.exit_code ?? null } : { id, status: to });
      return this.deps.db.session(id)!;
    });
    this.deps.kick();
    return sessionView(result);
  }

  get(id: string): DaemonSession | null {
    const row = this.deps.db.session(id);
    return row ? sessionView(row) : null;
  }

  list(status?: SessionStatus, limit = 200): DaemonSession[] {
    return this.deps.db.listSessions(limit, status).map(sessionView);
  }

  /**
   * Inside a transaction: the live implicit session of this agent process, or a new one (running,
   * queued for the gateway as create + running). A revoked one is returned as is (its checks block).
   */
  implicitInTx(agent: string, agentPid: number, cwd: string): SessionRow {
    const existing = this.deps.db.implicitSession(agent, agentPid);
    if (existing && existing.status !== "exited") return existing;
    const row = this.deps.db.insertSession({
      id: newSessionId(),
      token_hash: hashToken(newSessionToken()), // nobody holds it: an implicit session is found by its agent process
      agent,
      role: this.deps.defaultRole(),
      cwd,
      pid: agentPid,
      user: this.deps.identity.user,
      host: this.deps.identity.host,
      status: "running",
      implicit: true,
      agent_pid: agentPid,
    });
    this.deps.db.enqueue("session.create", gatewayBody(row));
    this.deps.db.enqueue("session.status", { id: row.id, status: "running" });
    this.deps.log.info(`implicit session ${row.id}: ${agent} (pid ${agentPid}) under role ${row.role}`);
    return row;
  }

  /**
   * Inside a transaction: the session a hook's agent session maps to (DESIGN 4, issue 5). The
   * live one recorded for (hook agent, agent session id) is reused; a revoked one is returned as is
   * (its checks block). On first sight (or after it exited), `link` is the agent process the hook
   * runs under, found by walking the hook's ancestry before the transaction: a live implicit
   * session the shims opened for that process (no agent session yet) is adopted, so hook and shim
   * decisions of one agent run share a session; a revoked one is returned (a new agent session id
   * in a revoked agent process stays blocked); else a new session is opened with the default role,
   * carrying that agent process so later shims find it. Without a link: a session of its own.
   */
  agentSessionInTx(hookAgent: string, agentSessionId: string, cwd: string, link: AgentProcess | null): SessionRow {
    const db = this.deps.db;
    const existing = db.agentSession(hookAgent, agentSessionId);
    if (existing && existing.status !== "exited") return existing;
    if (link !== null) {
      const shimSession = db.implicitSession(link.agent, link.pid);
      // revoked: the agent process stays blocked, whatever new session id its hook brings (after /clear)
      if (shimSession && shimSession.status === "revoked") return shimSession;
      if (shimSession && LIVE.has(shimSession.status) && shimSession.agent_session_id === null) {
        db.linkAgentSession(shimSession.id, hookAgent, agentSessionId);
        this.deps.log.info(`session ${shimSession.id}: also ${hookAgent} session ${agentSessionId}`);
        return db.session(shimSession.id)!;
      }
    }
    const row = db.insertSession({
      id: newSessionId(),
      token_hash: hashToken(newSessionToken()), // nobody holds it: found by the agent's session id
      agent: link?.agent ?? hookAgent,
      role: this.deps.defaultRole(),
      cwd,
      pid: link?.pid ?? null,
      user: this.deps.identity.user,
      host: this.deps.identity.host,
      status: "running",
      implicit: true,
      agent_pid: link?.pid ?? null,
      hook_agent: hookAgent,
      agent_session_id: agentSessionId,
    });
    db.enqueue("session.create", gatewayBody(row));
    db.enqueue("session.status", { id: row.id, status: "running" });
    this.deps.log.info(`implicit session ${row.id}: ${hookAgent} session ${agentSessionId}${link ? ` (agent process ${link.agent} ${link.pid})` : ""} under role ${row.role}`);
    return row;
  }

  /**
   * The agent's own session ended (a hook got its end event): the Airlock session it maps to
   * becomes exited, queued for the gateway in the same transaction (running first if it was only
   * ready, as the gateway knows ready → running → exited). Idempotent: an unknown agent session, or
   * one already exited, changes nothing; a revoked one stays revoked. The agent process may live on
   * (Claude Code's `/clear`): its shims' next check opens a fresh implicit session, and the same
   * agent session id coming back (a resume) opens a fresh one too, both with the default role.
   */
  endAgentSession(body: AgentSessionEndRequest): AgentSessionEndResponse {
    const db = this.deps.db;
    const reason = body.reason ? ` (${body.reason.replaceAll(/[\r\n]+/g, " ")})` : "";
    let ended = false;
    const row = db.tx(() => {
      const current = db.agentSession(body.agent, body.agent_session_id);
      if (!current || !LIVE.has(current.status)) return current;
      if (current.status === "ready") db.enqueue("session.status", { id: current.id, status: "running" });
      db.setSessionStatus(current.id, "exited");
      db.enqueue("session.status", { id: current.id, status: "exited", exit_code: null });
      ended = true;
      return db.session(current.id)!;
    });
    if (ended) {
      this.deps.kick();
      this.deps.log.info(`session ${row!.id}: ${body.agent} session ${body.agent_session_id} ended${reason}`);
    }
    return { ended, session: row ? sessionView(row) : null };
  }

  /** Implicit sessions whose agent process is gone: exited (or, when revoked, just closed for lookups). */
  reap(): void {
    let changed = false;
    for (const row of this.deps.db.watchedImplicitSessions()) {
      if (row.agent_pid === null || alive(row.agent_pid)) continue;
      this.deps.db.tx(() => {
        const current = this.deps.db.session(row.id)!;
        if (LIVE.has(current.status)) {
          this.deps.db.setSessionStatus(row.id, "exited");
          this.deps.db.enqueue("session.status", { id: row.id, status: "exited", exit_code: null });
          changed = true;
        }
        this.deps.db.markAgentGone(row.id);
      });
    }
    if (changed) this.deps.kick();
  }
}
