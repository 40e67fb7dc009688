/** `airlock dev up|down`: the README's main command, as a user runs it, then its smoke test. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { airlockBinary, run } from "../support/binary";
import { fakeTools } from "../support/fakes";
import { tempDir } from "../support/tmp";

async function freePort(): Promise<number> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  await server.stop(true);
  return port;
}

test("dev up starts gateway + daemon + shims, the smoke test blocks apply, dev down stops it all", async () => {
  await using dir = await tempDir("airlock-dev-");
  const home = join(dir.path, "airlock-home");
  const tools = await fakeTools(dir.path, await airlockBinary(), ["terraform"]);
  const port = await freePort();
  const env = { AIRLOCK_HOME: home, HOME: dir.path, PATH: `${join(home, "bin")}:${tools.realBin}:/usr/bin:/bin`, AIRLOCK_KNOWN_AGENTS: "none-here" };
  const up = Bun.spawn([await airlockBinary(), "dev", "up", "--listen", `127.0.0.1:${port}`], { env: { ...env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const reader = up.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 30_000;
  while (!out.includes("Desktop apps") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  try {
    expect(out).toContain(`Admin UI     http://127.0.0.1:${port}`);
    const token = out.match(/Admin token {2}(\S+)/)![1]!;
    expect(out).toContain(`export PATH="${join(home, "bin")}:$PATH"`);
    expect(out).toContain(`'airlock pair' and enter its code at http://127.0.0.1:${port}/approver`);

    // a second up reports the running one
    const again = await run(["dev", "up", "--listen", `127.0.0.1:${port}`], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already running");

    // the smoke test it printed
    const smoke = await run(["run", "bash", "-c", "terraform version; terraform apply -auto-approve"], { exe: join(home, "bin", "airlock"), env });
    expect(smoke.code).toBe(126);
    expect(smoke.stdout).toContain("fake terraform ran");
    expect(smoke.stderr).toContain("airlock: POLICY BLOCK\nairlock: command=terraform apply -auto-approve\n");
    expect((await tools.record("terraform"))?.argv).toEqual(["version"]);

    // the decisions reach the gateway
    let decisions: { verdict: string }[] = [];
    for (let i = 0; i < 50 && decisions.length < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/decisions`, { headers: { authorization: `Bearer ${token}` } });
      decisions = ((await res.json()) as { items: { verdict: string }[] }).items;
      if (decisions.length < 2) await Bun.sleep(100);
    }
    expect(decisions.map((d) => d.verdict).sort()).toEqual(["allow", "block"]);
  } finally {
    const down = await run(["dev", "down"], { env });
    expect(down.code).toBe(0);
    expect(await up.exited).toBe(0);
  }
  const status = await run(["daemon", "status"], { env });
  expect(status.code).toBe(1);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok ?? false).toBe(false);
}, 60_000);
