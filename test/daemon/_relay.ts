/**
 * An approvals relay in memory for the daemon's approval tests: the gateway's approval routes
 * (create, long-poll, verification) as the daemon's gateway API sees them, plus a headless
 * approver that opens the sealed action and signs decisions with src/approvals. A test can serve
 * something other than what the approver signed (a relay that lies), or take the relay down.
 */
import { actionHash, fingerprint, generateKeyPairs, openEnvelope, publicKeys, signDecision, type KeyPairs } from "../../src/approvals/index";
import type { DaemonGatewayApi } from "../../src/daemon/gateway-api";
import type { ApprovalAction, ApprovalRecord, PublicKeys, SignedDecision } from "../../src/protocol/approvals";

type RelayApi = Pick<DaemonGatewayApi, "createApproval" | "approval" | "reportVerification">;

export interface Report {
  id: string;
  ok: boolean;
  reason: string;
  verify_ms: number;
  total_ms: number;
}

export class FakeRelay {
  readonly records = new Map<string, ApprovalRecord>();
  readonly reports: Report[] = [];
  down = false;
  /** what GET /approvals/:id serves instead of the stored record */
  serve: (record: ApprovalRecord) => ApprovalRecord = (r) => r;
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly created: ((record: ApprovalRecord) => void)[] = [];

  private notify(id: string): void {
    for (const fn of this.waiting.get(id)?.splice(0) ?? []) fn();
  }

  readonly api: RelayApi = {
    createApproval: async (body) => {
      if (this.down) throw new Error("cannot reach the gateway: connection refused");
      const record: ApprovalRecord = {
        id: body.id,
        pairing_id: body.pairing_id,
        client_id: "cli_test",
        session_id: body.session_id,
        status: "pending",
        created_at: new Date().toISOString(),
        expires_at: body.expires_at,
        decided_at: null,
        envelope: body.envelope,
        decision: null,
        verification: null,
      };
      this.records.set(body.id, record);
      for (const fn of this.created.splice(0)) fn(record);
      return { approval: record, approver_online: true };
    },
    approval: async (id, waitSeconds, signal) => {
      if (this.down) throw new Error("cannot reach the gateway: connection refused");
      const record = this.records.get(id);
      if (!record) throw new Error(`GET /api/v1/approvals/${id}: 404`);
      if (record.status === "pending" && waitSeconds > 0) {
        await new Promise<void>((resolve) => {
          const list = this.waiting.get(id) ?? [];
          list.push(resolve);
          this.waiting.set(id, list);
          const t = setTimeout(resolve, waitSeconds * 1000);
          signal?.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          });
        });
        if (signal?.aborted) throw new Error("aborted");
      }
      if (this.down) throw new Error("cannot reach the gateway: connection refused");
      return this.serve(structuredClone(this.records.get(id)!));
    },
    reportVerification: async (id, body) => {
      this.reports.push({ id, ...body });
    },
  };

  /** the next request posted (or one already there) */
  next(): Promise<ApprovalRecord> {
    return new Promise((resolve) => this.created.push(resolve));
  }

  decide(id: string, status: "approved" | "denied", decision: SignedDecision): void {
    const record = this.records.get(id)!;
    record.status = status;
    record.decision = decision;
    record.decided_at = new Date().toISOString();
    this.notify(id);
  }
}

/** The approver end of a pairing, headless. */
export class TestApprover {
  constructor(
    readonly keys: KeyPairs,
    readonly pub: PublicKeys,
    readonly daemonKeys: PublicKeys,
  ) {}

  static async create(daemonKeys: PublicKeys): Promise<TestApprover> {
    const keys = await generateKeyPairs(true);
    return new TestApprover(keys, await publicKeys(keys), daemonKeys);
  }

  fingerprint(): Promise<string> {
    return fingerprint(this.daemonKeys, this.pub);
  }

  open(record: ApprovalRecord): Promise<ApprovalAction> {
    return openEnvelope({ id: record.id, pairing_id: record.pairing_id, expires_at: record.expires_at, envelope: record.envelope, approverBox: this.keys.box.privateKey, daemonSignKey: this.daemonKeys.sign_key });
  }

  /** opens the request and signs a decision over its action (or `action` when given: a swapped action) */
  async sign(record: ApprovalRecord, decision: "approve" | "deny", options: { action?: ApprovalAction; now?: Date; key?: CryptoKey } = {}): Promise<SignedDecision> {
    const action = options.action ?? (await this.open(record));
    return signDecision({
      request_id: record.id,
      action_hash: await actionHash(action),
      expires_at: record.expires_at,
      decision,
      approverSign: options.key ?? this.keys.sign.privateKey,
      ...(options.now ? { now: options.now } : {}),
    });
  }
}
