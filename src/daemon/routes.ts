/**
 * The socket API (src/protocol/daemon.ts, v1), a small hand router: eight routes do not need a
 * framework, and the check round trip stays near Bun.serve's own cost.
 *
 *   POST /v1/check                 CheckRequest → CheckResponse (always 200 once the body is valid)
 *   POST /v1/check-command         CheckCommandRequest → CheckResponse
 *   POST /v1/check-tool            CheckToolRequest → CheckResponse (a hook's tool call, tool rules)
 *   POST /v1/sessions              CreateSessionRequest → 201 { session, token }
 *   POST /v1/sessions/:id/status   SessionUpdateRequest → DaemonSession (401 on a wrong token)
 *   GET  /v1/sessions[?status=S]   { items: DaemonSession[] }
 *   GET  /v1/sessions/:id          DaemonSession
 *   GET  /v1/status                DaemonStatus
 *   GET  /v1/identity              DaemonIdentity (the daemon's approval keys, created once)
 *   GET|POST|DELETE /v1/pairing    the pairing: shown (404 when none), stored, removed
 *   POST /v1/approvals/:id/wait    WaitRequest → WaitAnswer
 *   POST /v1/agent-sessions/end    AgentSessionEndRequest → AgentSessionEndResponse (always 200 once the body is valid)
 *
 * Errors are `{ code, message, details }` with the HTTP status of their code. A body that fails
 * validation is a 400 naming each field; a check that fails inside is a block verdict, not a 500.
 */
import * as v from "valibot";
import { jsonPath } from "../policy/load";
import { StorePairingRequest } from "../protocol/approvals";
import { AgentSessionEndRequest, CallerSchema, CheckCommandRequest, CheckRequest, CheckToolRequest, CreateSessionRequest, SessionListQuery, SessionUpdateRequest, WaitRequest, type DaemonStatus } from "../protocol/daemon";
import { AirlockError, type ErrorCode } from "../protocol/errors";
import type { Approvals } from "./approvals";
import type { Decider } from "./decide";
import type { Logger } from "./log";
import type { Sessions } from "./sessions";

export interface RouteDeps {
  decider: Decider;
  sessions: Sessions;
  approvals: Approvals;
  status: () => DaemonStatus;
  log: Logger;
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  usage: 400,
  invalid_input: 400,
  invalid_policy: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  unavailable: 503,
};

const JSON_HEADERS = { "content-type": "application/json" };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

export function errorResponse(error: unknown, log?: Logger): Response {
  if (error instanceof AirlockError) return json(error.toJSON(), HTTP_STATUS[error.code] ?? 500);
  log?.error(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return json({ code: "internal", message: `internal error: ${error instanceof Error ? error.message : String(error)}`, details: [] }, 500);
}

/** The caller union's issues, told plainly: the branch its `kind` names, else what `kind` must be. */
function callerIssues(value: unknown): { path: string[]; message: string }[] {
  const kind = (value as { kind?: unknown } | null)?.kind;
  const branch = CallerSchema.options.find((o) => o.entries.kind.literal === kind);
  if (!branch || value === null || typeof value !== "object") {
    return [{ path: ["kind"], message: 'must be "session" (with session_id and token), "ancestry" (with agent and agent_pid) or "agent_session" (with agent and agent_session_id)' }];
  }
  const result = v.safeParse(branch, value);
  return result.success ? [] : result.issues.map((i) => ({ path: (i.path ?? []).map((p) => String(p.key)), message: i.message }));
}

function parse<S extends v.GenericSchema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const details = result.issues.flatMap((i) => {
    const keys = i.path?.map((p) => p.key) ?? [];
    if (i.type === "union" && keys.at(-1) === "caller") {
      return callerIssues(i.input).map((c) => ({ path: `${where}.${jsonPath([...keys, ...c.path])}`, message: c.message }));
    }
    const path = jsonPath(keys);
    return [{ path: path ? `${where}.${path}` : where, message: i.message }];
  });
  throw new AirlockError("invalid_input", `invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
}

async function body<S extends v.GenericSchema>(req: Request, schema: S): Promise<v.InferOutput<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await req.text());
  } catch (error) {
    throw new AirlockError("invalid_input", `the body is not valid JSON: ${(error as Error).message}`, [{ path: "body", message: "malformed JSON" }]);
  }
  return parse(schema, raw, "body");
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function sessionId(raw: string): string {
  const id = decodeURIComponent(raw);
  if (!SESSION_ID.test(id)) throw new AirlockError("invalid_input", "invalid param.id: must be a session id", [{ path: "param.id", message: "must be a session id" }]);
  return id;
}

function methodNotAllowed(method: string, path: string, allowed: string): Response {
  return new Response(JSON.stringify({ code: "invalid_input", message: `${method} ${path} is not supported (use ${allowed})`, details: [] }), {
    status: 405,
    headers: { ...JSON_HEADERS, allow: allowed },
  });
}

export function createRouter(deps: RouteDeps): (req: Request) => Promise<Response> {
  const { decider, sessions, approvals } = deps;
  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    const method = req.method;
    try {
      switch (path) {
        case "/v1/check":
          if (method !== "POST") return methodNotAllowed(method, path, "POST");
          return json(await decider.check(await body(req, CheckRequest)));
        case "/v1/check-command":
          if (method !== "POST") return methodNotAllowed(method, path, "POST");
          return json(await decider.checkCommand(await body(req, CheckCommandRequest)));
        case "/v1/check-tool":
          if (method !== "POST") return methodNotAllowed(method, path, "POST");
          return json(await decider.checkTool(await body(req, CheckToolRequest)));
        case "/v1/agent-sessions/end":
          if (method !== "POST") return methodNotAllowed(method, path, "POST");
          return json(sessions.endAgentSession(await body(req, AgentSessionEndRequest)));
        case "/v1/status":
          if (method !== "GET") return methodNotAllowed(method, path, "GET");
          return json(deps.status());
        case "/v1/sessions":
          if (method === "POST") return json(await sessions.create(await body(req, CreateSessionRequest)), 201);
          if (method === "GET") {
            const q = parse(SessionListQuery, Object.fromEntries(url.searchParams), "query");
            return json({ items: sessions.list(q.status, q.limit) });
          }
          return methodNotAllowed(method, path, "GET, POST");
        case "/v1/identity":
          if (method !== "GET") return methodNotAllowed(method, path, "GET");
          return json(await approvals.identity());
        case "/v1/pairing": {
          if (method === "GET") {
            const pairing = approvals.pairing();
            if (!pairing) throw new AirlockError("not_found", "this workstation is not paired with an approver (airlock pair)");
            return json(pairing);
          }
          if (method === "POST") return json(await approvals.pair(await body(req, StorePairingRequest)));
          if (method === "DELETE") {
            if (!approvals.unpair()) throw new AirlockError("not_found", "this workstation is not paired with an approver");
            return json({ removed: true });
          }
          return methodNotAllowed(method, path, "GET, POST, DELETE");
        }
      }
      if (path.startsWith("/v1/approvals/") && path.endsWith("/wait")) {
        if (method !== "POST") return methodNotAllowed(method, path, "POST");
        const id = decodeURIComponent(path.slice("/v1/approvals/".length, -"/wait".length));
        if (!SESSION_ID.test(id)) throw new AirlockError("invalid_input", "invalid param.id: must be an approval id", [{ path: "param.id", message: "must be an approval id" }]);
        const w = await body(req, WaitRequest);
        return json(await approvals.wait(id, w.timeout_ms, w.final, req.signal));
      }
      if (path.startsWith("/v1/sessions/")) {
        const rest = path.slice("/v1/sessions/".length);
        const slash = rest.indexOf("/");
        if (slash === -1) {
          if (method !== "GET") return methodNotAllowed(method, path, "GET");
          const id = sessionId(rest);
          const session = sessions.get(id);
          if (!session) throw new AirlockError("not_found", `no session ${JSON.stringify(id)}`);
          return json(session);
        }
        if (rest.slice(slash) === "/status") {
          if (method !== "POST") return methodNotAllowed(method, path, "POST");
          return json(sessions.update(sessionId(rest.slice(0, slash)), await body(req, SessionUpdateRequest)));
        }
      }
      throw new AirlockError("not_found", `no route ${method} ${path}`);
    } catch (error) {
      return errorResponse(error, deps.log);
    }
  };
}
