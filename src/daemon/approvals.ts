/**
 * The workstation's half of approvals (docs/approvals.md): the daemon's keys, the pairing, sealed
 * requests, and the verifier that stands between a signed decision and the real tool.
 *
 * - `start(ctx)`, after the check recorded its `require_approval`: a grant left by an approved
 *   shell string (its shims pass once each), else an approved and unused request of the same action
 *   (single use: Codex's and Claude Code's retry), else a pending request of the same action (asked
 *   once, not on every retry), else a new request: the action sealed for the paired approver and
 *   posted to the gateway. What cannot be asked (no pairing, not enrolled, gateway down) is an
 *   availability failure: blocked, or allowed under fail mode `open`, recorded with the reason.
 * - `wait(id, timeout)`: long-polls the gateway, verifies the signed decision (paired key, action
 *   hash, expiry, replay), reports the verifier's result to the gateway, records the outcome in the
 *   outbox. Any verifier failure blocks, whatever the fail mode.
 *
 * Two checks are "the same action" when kind, command (as the agent wrote it, or the shim's argv),
 * cwd and session agree: that is `match_key`. The sealed action binds the signature to exactly
 * that, plus the request id and times.
 */
import { actionHash, sealAction } from "../approvals/envelope";
import { verifyDecision, type VerifyResult } from "../approvals/decision";
import { canonicalJson } from "../approvals/encoding";
import { exportKeyFile, fingerprint, generateKeyPairs, importKeyFile, publicKeys, type KeyPairs } from "../approvals/keys";
import type { ConfigFile } from "../config/file";
import type { ApprovalAction, ApprovalRecord, DaemonIdentity, DaemonPairing, PublicKeys, SignedDecision } from "../protocol/approvals";
import type { CheckApproval, WaitAnswer } from "../protocol/daemon";
import { AirlockError } from "../protocol/errors";
import type { ApprovalRow, DaemonDb, PairingRow } from "./db";
import type { DaemonGatewayApi, GatewayDecision } from "./gateway-api";
import type { Logger } from "./log";

/** How long a request stays answerable: long enough for a human to reach the device and the agent to retry. */
export const APPROVAL_TTL_MS = 10 * 60_000;
/** The verifier's reasons in words (the block message says these; the code follows in brackets). */
const VERIFY_WORDS: Record<string, string> = {
  malformed: "malformed signed decision",
  wrong_request: "decision for another request",
  action_mismatch: "signature over a different action",
  expired: "decision expired",
  replayed: "decision replayed",
  bad_signature: "invalid signature",
  unpaired: "no paired approver",
};

/** The longest single long-poll of the gateway (it takes at most 30). */
const POLL_SECONDS = 25;
/** the least time between two looks at the gateway while waiting, ms */
const MIN_POLL_MS = 200;

export interface ApprovalsDeps {
  db: DaemonDb;
  now: () => Date;
  log: Logger;
  config: () => ConfigFile;
  /** the gateway of the current enrollment, or null (standalone, or the credential was revoked) */
  gateway: () => { api: DaemonGatewayApi; clientId: string } | null;
  /** the client id when enrolled (shown by GET /v1/identity) */
  clientId: () => string | null;
  host: string;
  /** new outbox rows */
  kick: () => void;
  ttlMs?: number;
}

/** What the check knew when it asked for approval. */
export interface ApprovalContext {
  kind: "argv" | "command" | "tool";
  /** what the human sees: the shell string, the argv as a shell would read it, or `Write /repo/.env` */
  command: string;
  cwd: string;
  agent: string | null;
  sessionId: string | null;
  role: string | null;
  tool: string | null;
  policy: string | null;
  rule: string | null;
  reason: string;
  /** the deciding command, normalized (a shim's argv looks for a grant under it) */
  normalized: string | null;
  /** the normalized commands that needed approval (an approved shell string grants each of them once) */
  commands: string[];
  /** the check's own decision row (require_approval): final decisions are copies of it */
  decision: GatewayDecision;
}

export type ApprovalStart =
  | { kind: "submitted"; approval: CheckApproval }
  | { kind: "final"; verdict: "allow" | "block"; reason: string; decision_id: string };

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

export function matchKey(ctx: Pick<ApprovalContext, "kind" | "command" | "cwd" | "sessionId">): string {
  return sha256Hex(canonicalJson({ kind: ctx.kind, command: ctx.command, cwd: ctx.cwd, session_id: ctx.sessionId }));
}

function pairingView(row: PairingRow): DaemonPairing {
  return { pairing_id: row.pairing_id, approver: { sign_key: row.approver_sign_key, box_key: row.approver_box_key }, fingerprint: row.fingerprint, label: row.label, paired_at: row.paired_at };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

export class Approvals {
  private readonly deps: ApprovalsDeps;
  private keys: Promise<{ pairs: KeyPairs; pub: PublicKeys }> | null = null;
  /** one gateway poll per request at a time: concurrent waiters share it */
  private readonly polls = new Map<string, Promise<void>>();
  /** verification reports still being sent (awaited by close) */
  private readonly reports = new Set<Promise<void>>();
  /** figures for the bench: the last verifier run, ms */
  lastVerifyMs = 0;

  constructor(deps: ApprovalsDeps) {
    this.deps = deps;
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  // ---------------------------------------------------------------- keys and pairing

  /** The daemon's key pairs: created once, kept as JWK in daemon.db (0600). */
  daemonKeys(): Promise<{ pairs: KeyPairs; pub: PublicKeys }> {
    this.keys ??= (async () => {
      let row = this.deps.db.approvalKeys();
      if (!row) {
        const fresh = await generateKeyPairs(true);
        const pub = await publicKeys(fresh);
        row = this.deps.db.putApprovalKeys({ key_file: JSON.stringify(await exportKeyFile(fresh)), sign_key: pub.sign_key, box_key: pub.box_key });
        this.deps.log.info("created the daemon's approval keys");
      }
      const pairs = await importKeyFile(JSON.parse(row.key_file));
      return { pairs, pub: { sign_key: row.sign_key, box_key: row.box_key } };
    })();
    this.keys.catch(() => (this.keys = null));
    return this.keys;
  }

  async identity(): Promise<DaemonIdentity> {
    const { pub } = await this.daemonKeys();
    return { client_id: this.deps.clientId(), keys: pub };
  }

  pairing(): DaemonPairing | null {
    const row = this.deps.db.pairing();
    return row ? pairingView(row) : null;
  }

  /** Stores a pairing after checking that its fingerprint is the one these keys give. */
  async pair(body: { pairing_id: string; approver: PublicKeys; fingerprint: string; label?: string | null | undefined }): Promise<DaemonPairing> {
    const { pub } = await this.daemonKeys();
    let expected: string;
    try {
      expected = await fingerprint(pub, body.approver);
    } catch (error) {
      throw new AirlockError("invalid_input", `invalid body.approver: ${errorText(error)}`, [{ path: "body.approver", message: errorText(error) }]);
    }
    if (expected.replaceAll("-", "") !== body.fingerprint.toUpperCase().replaceAll("-", "")) {
      throw new AirlockError("conflict", `the fingerprint ${body.fingerprint} is not the one of this daemon's keys and the approver's (${expected}): the keys were swapped on the way; pair again`, [
        { path: "body.fingerprint", message: `expected ${expected}` },
      ]);
    }
    const row = this.deps.db.setPairing({
      pairing_id: body.pairing_id,
      approver_sign_key: body.approver.sign_key,
      approver_box_key: body.approver.box_key,
      fingerprint: expected,
      label: body.label ?? null,
    });
    this.deps.log.info(`paired with approver ${row.label ?? row.pairing_id} (${row.fingerprint})`);
    return pairingView(row);
  }

  unpair(): boolean {
    return this.deps.db.deletePairing();
  }

  /** `phone (K7QM-3XWP-…)`, or `your paired approver (…)` without a label */
  private approverName(pairing: PairingRow | null = this.deps.db.pairing()): string {
    if (!pairing) return "your paired approver";
    return pairing.label ? `${pairing.label} (${pairing.fingerprint})` : `your paired approver (${pairing.fingerprint})`;
  }

  // ---------------------------------------------------------------- decisions in the outbox

  /** A final decision: a copy of the request's decision row with its own id, verdict and reason. */
  private record(base: GatewayDecision, verdict: "allow" | "block", reason: string): string {
    const id = Bun.randomUUIDv7();
    this.deps.db.enqueue("decision", { ...base, id, verdict, reason: reason.length <= 4096 ? reason : `${reason.slice(0, 4095)}…`, decided_at: this.nowIso() });
    return id;
  }

  /** An availability failure: blocked, or allowed under fail mode open; recorded either way. */
  private unavailable(base: GatewayDecision, why: string): { verdict: "allow" | "block"; reason: string; decision_id: string } {
    const open = this.deps.config().fail_mode === "open";
    const reason = open ? `approval unavailable: ${why}; fail mode is open, so it runs without approval` : `approval required, but ${why} (fail mode closed)`;
    const verdict = open ? "allow" : "block";
    const decision_id = this.deps.db.tx(() => this.record(base, verdict, reason));
    this.deps.kick();
    return { verdict, reason, decision_id };
  }

  /** Single use: the approved request runs once; the outbox gets the allow, the commands inside a shell string a grant each. */
  private consume(row: ApprovalRow, how: string): string | null {
    const pairing = this.deps.db.pairing();
    const decisionId = this.deps.db.tx(() => {
      if (!this.deps.db.useApproval(row.id)) return null;
      const base = JSON.parse(row.decision) as GatewayDecision;
      if (row.session_id) for (const c of JSON.parse(row.commands) as string[]) this.deps.db.addGrant(row.id, row.session_id, c, row.expires_at);
      return this.record(base, "allow", `approved by ${this.approverName(pairing)}, signature verified (approval ${row.id}${how})`);
    });
    if (decisionId !== null) this.deps.kick();
    return decisionId;
  }

  // ---------------------------------------------------------------- asking

  /** After a check's require_approval: a grant, an earlier approval of the same action, or a new request. */
  async start(ctx: ApprovalContext): Promise<ApprovalStart> {
    const { db } = this.deps;
    const nowIso = this.nowIso();

    if (ctx.kind === "argv" && ctx.sessionId && ctx.normalized) {
      const granted = db.tx(() => {
        const from = db.useGrant(ctx.sessionId!, ctx.normalized!, nowIso);
        if (from === null) return null;
        const reason = `approved as part of the shell command of approval ${from}`;
        return { reason, decision_id: this.record(ctx.decision, "allow", reason) };
      });
      if (granted) {
        this.deps.kick();
        return { kind: "final", verdict: "allow", ...granted };
      }
    }

    const pairingRow = db.pairing();
    if (!pairingRow) return { kind: "final", ...this.unavailable(ctx.decision, "no approver is paired with this workstation (run airlock pair)") };

    const key = matchKey(ctx);
    for (const row of db.approvalsFor(key, pairingRow.pairing_id, nowIso)) {
      let current = row;
      if (current.status === "pending") {
        await this.poll(current.id, 0).catch((error) => this.deps.log.warn(`approval ${current.id}: ${errorText(error)}`));
        current = db.approval(row.id) ?? current;
      }
      if (current.status === "approved" && current.used_at === null) {
        const decision_id = this.consume(current, ", on retry");
        if (decision_id !== null) {
          return { kind: "final", verdict: "allow", reason: `approved on your paired approver (approval ${current.id}), signature verified`, decision_id };
        }
      }
      if (current.status === "pending") {
        return { kind: "submitted", approval: { id: current.id, expires_at: current.expires_at, approver_online: null, fingerprint: pairingRow.fingerprint, reused: true } };
      }
    }

    const gateway = this.deps.gateway();
    if (!gateway) return { kind: "final", ...this.unavailable(ctx.decision, "this workstation is not enrolled with a gateway to relay the request (airlock client enroll)") };

    const id = Bun.randomUUIDv7();
    const now = this.deps.now();
    const expiresAt = new Date(now.getTime() + (this.deps.ttlMs ?? APPROVAL_TTL_MS)).toISOString();
    const nonEmpty = (s: string | null, max: number) => (s ? (s.length <= max ? s : s.slice(0, max)) : null);
    const action: ApprovalAction = {
      v: 1,
      request_id: id,
      command: ctx.command.slice(0, 65536) || "(empty)",
      cwd: ctx.cwd.slice(0, 4096),
      agent: nonEmpty(ctx.agent, 128),
      session_id: ctx.sessionId,
      role: nonEmpty(ctx.role, 128),
      tool: nonEmpty(ctx.tool, 256),
      policy: nonEmpty(ctx.policy, 128),
      rule: nonEmpty(ctx.rule, 256),
      reason: ctx.reason.slice(0, 4096),
      host: nonEmpty(this.deps.host, 256),
      requested_at: now.toISOString(),
      expires_at: expiresAt,
    };
    let approverOnline: boolean;
    let hash: string;
    try {
      const { pairs } = await this.daemonKeys();
      hash = await actionHash(action);
      const envelope = await sealAction({ id, pairing_id: pairingRow.pairing_id, expires_at: expiresAt, action, daemonSign: pairs.sign.privateKey, approverBoxKey: pairingRow.approver_box_key });
      db.insertApproval({
        id,
        pairing_id: pairingRow.pairing_id,
        decision_id: ctx.decision.id,
        session_id: ctx.sessionId,
        match_key: key,
        action: canonicalJson(action),
        action_hash: hash,
        decision: JSON.stringify(ctx.decision),
        commands: JSON.stringify(ctx.commands),
        expires_at: expiresAt,
      });
      try {
        const created = await gateway.api.createApproval({ id, pairing_id: pairingRow.pairing_id, session_id: ctx.sessionId, expires_at: expiresAt, envelope });
        approverOnline = created.approver_online;
      } catch (error) {
        db.resolveApproval(id, "expired", `not submitted: ${errorText(error)}`);
        throw error;
      }
    } catch (error) {
      this.deps.log.warn(`approval request failed: ${errorText(error)}`);
      return { kind: "final", ...this.unavailable(ctx.decision, `the request could not be sent to the gateway: ${errorText(error)}`) };
    }
    return { kind: "submitted", approval: { id, expires_at: expiresAt, approver_online: approverOnline, fingerprint: pairingRow.fingerprint, reused: false } };
  }

  // ---------------------------------------------------------------- the answer

  /** One look at the gateway (long-polling up to `waitSeconds`), settling the request if it was decided. */
  private poll(id: string, waitSeconds: number, signal?: AbortSignal): Promise<void> {
    const running = this.polls.get(id);
    if (running) return running;
    const p = (async () => {
      const gateway = this.deps.gateway();
      if (!gateway) throw new AirlockError("unavailable", "this workstation is no longer enrolled with a gateway");
      const started = performance.now();
      const record = await gateway.api.approval(id, waitSeconds, signal);
      await this.settle(id, record, gateway.api, started);
    })().finally(() => this.polls.delete(id));
    this.polls.set(id, p);
    return p;
  }

  /** The gateway's view of a request → the local status, verifying any decision it carries. */
  private async settle(id: string, record: ApprovalRecord, api: DaemonGatewayApi, started: number): Promise<void> {
    const { db } = this.deps;
    const row = db.approval(id);
    if (!row || row.status !== "pending") return;
    const base = JSON.parse(row.decision) as GatewayDecision;
    if (record.status === "pending") {
      if (Date.parse(row.expires_at) <= this.deps.now().getTime()) this.resolveBlocked(row, base, "expired", `approval ${id} expired at ${row.expires_at} without a decision`);
      return;
    }
    if (record.status === "expired") {
      this.resolveBlocked(row, base, "expired", `approval ${id} expired at the gateway without a decision`);
      return;
    }
    // approved or denied: nothing counts until the signature is verified here
    const decision = record.decision as SignedDecision | null;
    const t0 = performance.now();
    const result = decision ? await this.verify(row, decision) : ({ ok: false, reason: "malformed", message: `the gateway says ${record.status} but carries no signed decision` } as const);
    const verifyMs = performance.now() - t0;
    this.lastVerifyMs = verifyMs;
    let report: { ok: boolean; reason: string };
    if (result.ok) {
      const recorded = db.tx(() => {
        if (!db.recordNonce(row.id, result.payload.nonce)) return false;
        if (result.decision === "approve") db.resolveApproval(row.id, "approved", "approved: signature verified");
        else {
          const reason = `denied by ${this.approverName()} (approval ${row.id}), signature verified`;
          if (db.resolveApproval(row.id, "denied", reason)) this.record(base, "block", reason);
        }
        return true;
      });
      if (!recorded) {
        this.resolveBlocked(row, base, "rejected", `approval ${row.id} rejected: ${VERIFY_WORDS.replayed} [replayed]: this decision was already used`);
        report = { ok: false, reason: "replayed" };
      } else {
        report = { ok: true, reason: result.decision === "approve" ? "approved" : "denied" };
        if (result.decision !== "approve") this.deps.kick();
      }
    } else {
      this.resolveBlocked(row, base, "rejected", `approval ${row.id} rejected: ${VERIFY_WORDS[result.reason] ?? result.reason} [${result.reason}]: ${result.message}`);
      report = { ok: false, reason: `${result.reason}: ${result.message}`.slice(0, 512) };
      this.deps.log.warn(`approval ${row.id}: the signed decision was rejected: ${result.reason}: ${result.message}`);
    }
    const body = { ...report, verify_ms: Math.round(verifyMs * 1000) / 1000, total_ms: Math.round((performance.now() - started) * 1000) / 1000 };
    const sent = api
      .reportVerification(row.id, body)
      .catch((error) => this.deps.log.warn(`approval ${row.id}: cannot report the verification to the gateway: ${errorText(error)}`))
      .finally(() => this.reports.delete(sent));
    this.reports.add(sent);
  }

  /** The verifier, with the pairing the request was sealed for; a valid decision whose nonce was used before is a replay. */
  async verify(row: Pick<ApprovalRow, "id" | "pairing_id" | "action_hash">, decision: SignedDecision): Promise<VerifyResult> {
    const pairing = this.deps.db.pairing();
    const key = pairing && pairing.pairing_id === row.pairing_id ? pairing.approver_sign_key : null;
    const result = await verifyDecision(decision, {
      request_id: row.id,
      action_hash: row.action_hash,
      approverSignKey: key,
      now: this.deps.now(),
      seen: (requestId, nonce) => this.deps.db.nonceSeen(requestId, nonce),
    });
    if (!result.ok && result.reason === "wrong_request") {
      // the signature verified, so the nonce is the approver's: one already accepted is a decision replayed onto another request
      try {
        const nonce = (JSON.parse(decision.payload) as { nonce?: unknown }).nonce;
        if (typeof nonce === "string" && this.deps.db.nonceSeen("", nonce)) return { ok: false, reason: "replayed", message: `this decision was already used (${result.message})` };
      } catch {
        // the verifier already said what is wrong
      }
    }
    return result;
  }

  private resolveBlocked(row: ApprovalRow, base: GatewayDecision, status: "expired" | "rejected", reason: string): void {
    const done = this.deps.db.tx(() => {
      if (!this.deps.db.resolveApproval(row.id, status, reason)) return false;
      // an expiry is recorded by whoever waited (it may be allowed under fail mode open); a rejection always blocks
      if (status === "rejected") this.record(base, "block", reason);
      return true;
    });
    if (done) this.deps.kick();
  }

  /**
   * `POST /v1/approvals/:id/wait`: until decided or `timeoutMs`. `final`: the caller gives up at the
   * end of this wait (the shim), so a timeout is the outcome and the fail mode decides it.
   */
  async wait(id: string, timeoutMs: number, final: boolean, signal?: AbortSignal): Promise<WaitAnswer> {
    const { db } = this.deps;
    if (!db.approval(id)) throw new AirlockError("not_found", `no approval request ${JSON.stringify(id)} on this daemon`);
    const deadline = performance.now() + timeoutMs;
    let lastError: string | null = null;
    for (;;) {
      const row = db.approval(id)!;
      const base = JSON.parse(row.decision) as GatewayDecision;
      switch (row.status) {
        case "approved": {
          const decision_id = this.consume(row, "");
          if (decision_id === null) return { status: "expired", reason: `approval ${id} was already used: an approval runs its action once`, allow: false, decision_id: null };
          return { status: "approved", reason: `approved on your paired approver (approval ${id}), signature verified`, allow: true, decision_id };
        }
        case "denied":
          return { status: "denied", reason: row.reason ?? "denied", allow: false, decision_id: null };
        case "rejected":
          return { status: "rejected", reason: row.reason ?? "rejected", allow: false, decision_id: null };
        case "expired": {
          const failed = this.unavailable(base, `approval ${id} expired without a decision${row.reason ? ` (${row.reason})` : ""}`);
          return { status: "expired", reason: failed.reason, allow: failed.verdict === "allow", decision_id: failed.decision_id };
        }
        case "pending":
          break;
      }
      if (Date.parse(row.expires_at) <= this.deps.now().getTime()) {
        db.resolveApproval(id, "expired", `expired at ${row.expires_at}`);
        continue;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0 || signal?.aborted) {
        if (lastError !== null) {
          const failed = this.unavailable(base, `the gateway did not answer: ${lastError}`);
          return { status: "unavailable", reason: failed.reason, allow: failed.verdict === "allow", decision_id: failed.decision_id };
        }
        const secs = Math.round(timeoutMs / 100) / 10;
        if (!final) return { status: "pending", reason: `no decision yet on your paired approver (approval ${id}, waited ${secs} s)`, allow: false, decision_id: null };
        const failed = this.unavailable(base, `no decision within ${secs} s: timed out waiting for approval ${id}`);
        return { status: "expired", reason: failed.reason, allow: failed.verdict === "allow", decision_id: failed.decision_id };
      }
      try {
        const waitSeconds = Math.min(POLL_SECONDS, Math.floor(remaining / 1000));
        const abort = AbortSignal.timeout(Math.ceil(remaining) + 50);
        const polled = performance.now();
        await this.poll(id, waitSeconds, signal ? AbortSignal.any([signal, abort]) : abort);
        lastError = null;
        // a gateway that answers "pending" at once (a short wait, or one that does not long-poll) is not asked in a tight loop
        if (db.approval(id)?.status === "pending" && performance.now() - polled < MIN_POLL_MS) await sleep(Math.min(MIN_POLL_MS, Math.max(0, deadline - performance.now())), signal);
      } catch (error) {
        lastError = errorText(error);
        await sleep(Math.min(500, Math.max(0, deadline - performance.now())), signal);
      }
    }
  }

  /** Waits for verification reports still in flight (shutdown). */
  async close(): Promise<void> {
    await Promise.race([Promise.all([...this.reports]), sleep(500)]);
  }
}
