/**
 * /api/v1/approvals (docs/approvals.md): the daemon submits a sealed request for its pairing; the
 * approver decides with a signed `{payload, sig}`; the daemon long-polls the decision and reports
 * its verifier's result. The gateway relays ciphertext: it checks the daemon's signature over the
 * envelope and the approver's over the decision (defense in depth: the daemon verifies everything
 * again), and stores both verbatim.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { canonicalJson, fromB64u } from "../../approvals/encoding";
import { importSignPublic } from "../../approvals/keys";
import { ApprovalListQuery, ApprovalWaitQuery, CreateApprovalBody, DecisionPayload, SignedDecisionSchema, VerificationBody, type ApprovalRecord, type Envelope } from "../../protocol/approvals";
import { RecordId } from "../../protocol/api";
import { AirlockError } from "../../protocol/errors";
import { guard, type Credential, type GatewayEnv } from "../auth";
import type { RouteContext } from "../context";
import { jsonBody, param, query } from "../validate";

/** at most this far ahead may a request expire */
const MAX_APPROVAL_TTL_MS = 24 * 3_600_000;
const REQUEST_DOMAIN = "airlock.approval-request.v1";
/** a long poll on a shared bus (several replicas) re-reads the approval this often, events or not */
const RECHECK_MS = 5_000;

const utf8 = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;

async function verifyEd25519(publicKey: string, signature: string, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    const key = await importSignPublic(publicKey);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, fromB64u(signature), data);
  } catch {
    return false;
  }
}

/** the daemon's signature over the envelope (docs/approvals.md, Approval request envelope) */
async function envelopeSigned(meta: { id: string; pairing_id: string; expires_at: string }, e: Envelope, daemonSignKey: string): Promise<boolean> {
  const signed = canonicalJson({ domain: REQUEST_DOMAIN, id: meta.id, pairing_id: meta.pairing_id, expires_at: meta.expires_at, epk: e.epk, iv: e.iv, ct: e.ct });
  return verifyEd25519(daemonSignKey, e.sig, utf8(signed));
}

const bad = (path: string, message: string) => new AirlockError("invalid_input", message, [{ path, message }]);

export function approvalRoutes(ctx: RouteContext): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  const client = guard(ctx, "client");
  const approver = guard(ctx, "approver");
  const listers = guard(ctx, "admin", "viewer", "approver");
  const readers = guard(ctx, "admin", "viewer", "client", "approver");

  const sees = (cred: Credential, a: ApprovalRecord) =>
    cred.kind === "admin" || cred.kind === "viewer" || (cred.kind === "client" && a.client_id === cred.clientId) || (cred.kind === "approver" && a.pairing_id === cred.pairingId);

  /** the approval, if this credential may see it; else 404 (ids do not leak) */
  const visible = async (cred: Credential, id: string): Promise<ApprovalRecord> => {
    const a = await ctx.store.getApproval(id);
    if (!a || !sees(cred, a)) throw new AirlockError("not_found", `no approval ${JSON.stringify(id)}`);
    return a;
  };

  app.post("/", client, async (c) => {
    const body = await jsonBody(c, CreateApprovalBody);
    const cred = c.var.cred;
    const pairing = await ctx.store.getPairing(body.pairing_id);
    if (!pairing) throw new AirlockError("not_found", `no pairing ${JSON.stringify(body.pairing_id)}`);
    if (pairing.client_id !== cred.clientId) throw new AirlockError("forbidden", "a client submits approvals only for its own pairing");
    if (pairing.status !== "paired" || !pairing.approver) throw new AirlockError("conflict", `pairing ${pairing.id} is ${pairing.status}, not paired`);
    const expires = Date.parse(body.expires_at);
    const now = ctx.now().getTime();
    if (expires <= now) throw bad("body.expires_at", "must be in the future");
    if (expires > now + MAX_APPROVAL_TTL_MS) throw bad("body.expires_at", "must be at most 24 hours ahead");
    if (!(await envelopeSigned(body, body.envelope, pairing.daemon.sign_key))) throw bad("body.envelope.sig", "the envelope is not signed by the paired daemon's key");
    const approval = await ctx.store.createApproval({ ...body, client_id: cred.clientId! }, cred.actor);
    ctx.hub.schedule(approval);
    ctx.hub.approvalChanged(approval, "requested");
    return c.json({ approval, approver_online: ctx.hub.online(pairing.id) }, 201);
  });

  app.get("/", listers, async (c) => {
    const { limit, cursor, ...filter } = query(c, ApprovalListQuery);
    const cred = c.var.cred;
    await ctx.hub.sweep();
    if (cred.kind === "approver") {
      if (filter.pairing_id !== undefined && filter.pairing_id !== cred.pairingId) return c.json({ items: [], next_cursor: null });
      filter.pairing_id = cred.pairingId!;
    }
    return c.json(await ctx.store.listApprovals(filter, { limit, ...(cursor === undefined ? {} : { cursor }) }));
  });

  app.get("/:id", readers, async (c) => {
    const id = param(c, "id", RecordId);
    const { wait } = query(c, ApprovalWaitQuery);
    await ctx.hub.sweep();
    const first = await visible(c.var.cred, id);
    if (first.status !== "pending" || wait === 0) return c.json(first);
    // subscribe before reading again: a decision committed in between would otherwise wait out the poll.
    // A decision posted to another replica arrives as that replica's event (events.ts); as a NOTIFY
    // lost while the link was down is not replayed, a shared bus also re-reads every few seconds.
    let wake!: () => void;
    let woken!: Promise<void>;
    const rearm = () => {
      woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
    };
    rearm();
    const unsubscribe = ctx.bus.subscribe(
      (e) => {
        if ((e.data as { id?: string }).id === id) wake();
      },
      ["approval"],
    );
    const timers: ReturnType<typeof setTimeout>[] = [];
    const aborted = () => wake();
    try {
      let current = await visible(c.var.cred, id);
      if (current.status === "pending") {
        const deadline = Date.now() + wait * 1000;
        const untilExpiry = Date.parse(current.expires_at) - ctx.now().getTime();
        if (untilExpiry < wait * 1000) timers.push(setTimeout(() => void ctx.hub.sweep().then(() => wake()), Math.max(0, untilExpiry) + 10));
        c.req.raw.signal.addEventListener("abort", aborted);
        while (current.status === "pending" && !c.req.raw.signal.aborted) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          const tick = setTimeout(() => wake(), ctx.bus.shared ? Math.min(left, RECHECK_MS) : left);
          await woken;
          clearTimeout(tick);
          rearm();
          current = await visible(c.var.cred, id);
        }
      }
      return c.json(current);
    } finally {
      for (const t of timers) clearTimeout(t);
      c.req.raw.signal.removeEventListener("abort", aborted);
      unsubscribe();
    }
  });

  app.post("/:id/decision", approver, async (c) => {
    const id = param(c, "id", RecordId);
    const body = await jsonBody(c, SignedDecisionSchema);
    const cred = c.var.cred;
    const approval = await ctx.store.getApproval(id);
    if (!approval) throw new AirlockError("not_found", `no approval ${JSON.stringify(id)}`);
    if (approval.pairing_id !== cred.pairingId) throw new AirlockError("forbidden", "this approver is not paired with the approval's terminal");
    const pairing = await ctx.store.getPairing(approval.pairing_id);
    if (!pairing?.approver || pairing.status !== "paired") throw new AirlockError("conflict", `pairing ${approval.pairing_id} is not paired`);
    if (!(await verifyEd25519(pairing.approver.sign_key, body.sig, utf8(body.payload)))) throw bad("body.sig", "the signature does not verify under this pairing's approver key");
    let json: unknown;
    try {
      json = JSON.parse(body.payload);
    } catch {
      throw bad("body.payload", "the payload is not JSON");
    }
    const parsed = v.safeParse(DecisionPayload, json);
    if (!parsed.success) throw bad("body.payload", `the payload is not a decision: ${parsed.issues[0].message}`);
    const payload = parsed.output;
    if (canonicalJson(payload) !== body.payload) throw bad("body.payload", "the payload is not canonical JSON");
    if (payload.request_id !== id) throw bad("body.payload", `the decision answers request ${payload.request_id}, not ${id}`);
    if (Date.parse(payload.expires_at) > Date.parse(approval.expires_at)) throw bad("body.payload", "the decision outlives the request");
    const decided = await ctx.store.decideApproval(id, { payload: body.payload, sig: body.sig, decision: payload.decision }, cred.actor);
    ctx.hub.approvalChanged(decided, "decided");
    return c.json(decided);
  });

  app.post("/:id/verification", client, async (c) => {
    const id = param(c, "id", RecordId);
    const body = await jsonBody(c, VerificationBody);
    await visible(c.var.cred, id);
    const approval = await ctx.store.recordVerification(id, body, c.var.cred.actor);
    ctx.hub.approvalChanged(approval, "verified");
    return c.json(approval);
  });

  return app;
}
