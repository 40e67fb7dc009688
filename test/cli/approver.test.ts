/**
 * `airlock approver` (the compiled binary) against a fake gateway that lies: the approver trusts
 * only the daemon keys it paired with, so a request the paired daemon did not sign, or sealed for
 * another device, is refused and reported and nothing is signed; a genuine one gets a decision that
 * the daemon's verifier accepts. It reconnects after a dropped socket, exits on `unpaired`, and
 * stops on a refused token.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server, ServerWebSocket } from "bun";
import { actionHash, exportKeyFile, fingerprint, generateKeyPairs, publicKeys, sealAction, verifyDecision } from "../../src/approvals/index";
import type { ApprovalAction, ApprovalRecord, Envelope, PublicKeys, SignedDecision } from "../../src/protocol/approvals";
import { airlockBinary } from "../support/binary";
import { tempDir, type TempDir } from "../support/tmp";
import { disposeWorlds, spawnAirlock, waitFor } from "../support/world";

const dirs: TempDir[] = [];
const servers: Server<unknown>[] = [];
afterAll(async () => {
  await disposeWorlds();
  for (const s of servers) s.stop(true);
  for (const d of dirs) await d[Symbol.asyncDispose]();
});

const PAIRING = "pair_test_1";
const TOKEN = "al_approver_test_token_0123456789abcdef";

interface Fake {
  url: string;
  decisions: Map<string, SignedDecision>;
  /** what the gateway sends after `ready` (and in it, as pending) */
  pending: ApprovalRecord[];
  connections: number;
  sockets: ServerWebSocket<unknown>[];
}

function fakeGateway(options: { dropFirst?: boolean; refuseToken?: boolean; daemon: PublicKeys; approver: PublicKeys }): Fake {
  const fake: Fake = { url: "", decisions: new Map(), pending: [], connections: 0, sockets: [] };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req, srv) {
      const url = new URL(req.url);
      if (url.pathname === "/api/v1/approver/ws") return srv.upgrade(req) ? undefined : new Response("no", { status: 400 });
      const m = url.pathname.match(/^\/api\/v1\/approvals\/([^/]+)\/decision$/);
      if (m && req.method === "POST") {
        if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) return Response.json({ code: "unauthorized", message: "bad token", details: [] }, { status: 401 });
        fake.decisions.set(m[1]!, (await req.json()) as SignedDecision);
        return Response.json({ id: m[1], status: "approved" });
      }
      return Response.json({ code: "not_found", message: "no", details: [] }, { status: 404 });
    },
    websocket: {
      message(ws, raw) {
        const msg = JSON.parse(String(raw));
        if (msg.type !== "auth") return;
        fake.connections++;
        fake.sockets.push(ws);
        if (options.refuseToken || msg.token !== TOKEN) {
          ws.send(JSON.stringify({ type: "error", code: "unauthorized", message: "unknown approver token" }));
          ws.close(4401, "unauthorized");
          return;
        }
        if (options.dropFirst && fake.connections === 1) {
          ws.close(1011, "restarting");
          return;
        }
        const pairing = { id: PAIRING, status: "paired", daemon: options.daemon, approver: options.approver, approver_online: true };
        ws.send(JSON.stringify({ type: "ready", pairing, pending: fake.pending }));
      },
    },
  });
  servers.push(server as Server<unknown>);
  fake.url = `http://127.0.0.1:${server.port}`;
  return fake;
}

async function setup(options: { dropFirst?: boolean; refuseToken?: boolean } = {}) {
  const dir = await tempDir("airlock-cli-approver-");
  dirs.push(dir);
  const daemon = await generateKeyPairs(false);
  const approver = await generateKeyPairs(true);
  const daemonPublic = await publicKeys(daemon);
  const approverPublic = await publicKeys(approver);
  const fake = fakeGateway({ ...options, daemon: daemonPublic, approver: approverPublic });
  const keyFile = join(dir.path, "approver.json");
  writeFileSync(
    keyFile,
    JSON.stringify({
      v: 1,
      gateway_url: fake.url,
      pairing_id: PAIRING,
      approver_token: TOKEN,
      daemon: daemonPublic,
      approver: approverPublic,
      fingerprint: await fingerprint(daemonPublic, approverPublic),
      label: "test",
      paired_at: new Date().toISOString(),
      keys: await exportKeyFile(approver),
    }),
    { mode: 0o600 },
  );
  const env = { HOME: dir.path, AIRLOCK_HOME: join(dir.path, "home") };
  return { dir, daemon, approver, daemonPublic, approverPublic, fake, keyFile, env };
}

async function request(id: string, sealFor: { sign: CryptoKey; box: string }, command = "helm upgrade web ./chart"): Promise<{ record: ApprovalRecord; action: ApprovalAction }> {
  const expires_at = new Date(Date.now() + 60_000).toISOString();
  const action: ApprovalAction = {
    v: 1, request_id: id, command, cwd: "/w", agent: "claude", session_id: "ses_1", role: "default-agent", tool: "helm",
    policy: "helm-guard", rule: "rules[1]", reason: "changes what runs in the cluster", host: "laptop", requested_at: new Date().toISOString(), expires_at,
  };
  const envelope: Envelope = await sealAction({ id, pairing_id: PAIRING, expires_at, action, daemonSign: sealFor.sign, approverBoxKey: sealFor.box });
  const record: ApprovalRecord = {
    id, pairing_id: PAIRING, client_id: "cli_1", session_id: "ses_1", status: "pending", created_at: new Date().toISOString(), expires_at,
    decided_at: null, envelope, decision: null, verification: null,
  };
  return { record, action };
}

const events = (text: string) => text.split("\n").filter((l) => l.startsWith('{"at"')).map((l) => JSON.parse(l));

async function exited(p: ReturnType<typeof spawnAirlock>, ms = 15_000): Promise<number> {
  const code = await Promise.race([p.proc.exited, Bun.sleep(ms).then(() => null)]);
  if (code === null) throw new Error(`still running after ${ms} ms: ${p.output()}`);
  return code;
}

describe("airlock approver against a gateway that lies", () => {
  test("forged and mis-sealed requests are refused and never signed; the genuine one is approved with a verifiable signature", async () => {
    const s = await setup({ dropFirst: true });
    const stranger = await generateKeyPairs(false);
    const otherApprover = await publicKeys(await generateKeyPairs(false));
    const forged = await request("apr-forged", { sign: stranger.sign.privateKey, box: s.approverPublic.box_key });
    const misSealed = await request("apr-other-device", { sign: s.daemon.sign.privateKey, box: otherApprover.box_key });
    const genuine = await request("apr-genuine", { sign: s.daemon.sign.privateKey, box: s.approverPublic.box_key });
    const tampered = await request("apr-tampered", { sign: s.daemon.sign.privateKey, box: s.approverPublic.box_key });
    tampered.record.envelope = { ...tampered.record.envelope, ct: `${tampered.record.envelope.ct.slice(0, -2)}${tampered.record.envelope.ct.endsWith("AA") ? "BA" : "AA"}` };
    s.fake.pending = [forged.record, misSealed.record, tampered.record, genuine.record];

    const p = spawnAirlock(await airlockBinary(), ["approver", "--keys", s.keyFile, "--auto", "approve", "--once", "--json"], s.env);
    expect(await exited(p)).toBe(0);
    const ev = events(p.output());
    expect(s.fake.connections).toBe(2); // the first socket was dropped: it reconnected
    expect(p.output()).toContain("disconnected from");
    const refused = Object.fromEntries(ev.filter((e) => e.event === "refused").map((e) => [e.id, e.reason]));
    expect(refused).toEqual({ "apr-forged": "bad_signature", "apr-other-device": "decrypt_failed", "apr-tampered": "bad_signature" });
    expect([...s.fake.decisions.keys()]).toEqual(["apr-genuine"]);
    expect(ev.find((e) => e.event === "request")).toMatchObject({ id: "apr-genuine", action: { command: "helm upgrade web ./chart", session_id: "ses_1", rule: "rules[1]" } });
    expect(ev.at(-1)).toMatchObject({ event: "exit", reason: "once", decisions: 1 });
    const verdict = await verifyDecision(s.fake.decisions.get("apr-genuine")!, {
      request_id: "apr-genuine",
      action_hash: await actionHash(genuine.action),
      approverSignKey: s.approverPublic.sign_key,
      now: new Date(),
      seen: () => false,
    });
    expect(verdict).toMatchObject({ ok: true, decision: "approve" });
  }, 30_000);

  test("human output: the action's fields, the decision; exits 0 when told the pairing was removed", async () => {
    const s = await setup();
    const genuine = await request("apr-1", { sign: s.daemon.sign.privateKey, box: s.approverPublic.box_key }, "kubectl delete ns prod");
    s.fake.pending = [genuine.record];
    const p = spawnAirlock(await airlockBinary(), ["approver", "--keys", s.keyFile, "--auto", "deny"], s.env);
    await waitFor("the decision", async () => s.fake.decisions.has("apr-1"));
    for (const ws of s.fake.sockets) ws.send(JSON.stringify({ type: "unpaired", pairing_id: PAIRING }));
    expect(await exited(p)).toBe(0);
    const out = p.output();
    for (const line of ["approval request apr-1", "  command   kubectl delete ns prod", "  cwd       /w", "  agent     claude", "  session   ses_1", "  role      default-agent", "  rule      rules[1]", "  reason    changes what runs in the cluster", "DENIED apr-1", "no longer paired"]) {
      expect(out).toContain(line);
    }
    expect(JSON.parse(s.fake.decisions.get("apr-1")!.payload)).toMatchObject({ decision: "deny", request_id: "apr-1", action_hash: await actionHash(genuine.action) });
  }, 30_000);

  test("a refused token ends the approver with an error that says to pair again (exit 1)", async () => {
    const s = await setup({ refuseToken: true });
    const p = spawnAirlock(await airlockBinary(), ["approver", "--keys", s.keyFile, "--auto", "approve"], s.env);
    expect(await exited(p)).toBe(1);
    expect(p.output()).toContain("refused this approver's token");
  }, 30_000);

  test("SIGTERM stops a listening approver cleanly (exit 0)", async () => {
    const s = await setup();
    const p = spawnAirlock(await airlockBinary(), ["approver", "--keys", s.keyFile, "--auto", "approve"], s.env);
    await waitFor("the approver to connect", async () => p.output().includes("connected to"));
    p.proc.kill("SIGTERM");
    expect(await exited(p)).toBe(0);
    expect(p.output()).toContain("approver stopped (stopped)");
  }, 30_000);

  test("a key file others can read is refused", async () => {
    const s = await setup();
    const { chmodSync } = await import("node:fs");
    chmodSync(s.keyFile, 0o644);
    const p = spawnAirlock(await airlockBinary(), ["approver", "--keys", s.keyFile, "--auto", "approve"], s.env);
    expect(await exited(p)).toBe(2);
    expect(p.output()).toContain("chmod 600");
  });
});


