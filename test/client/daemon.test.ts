/** The daemon socket client: why a daemon is unreachable, in words a user can act on. */
import { expect, test } from "bun:test";
import { createServer } from "node:net";
import { join } from "node:path";
import { createDaemonClient, DaemonUnavailable } from "../../src/client/daemon";
import { tempDir } from "../support/tmp";

async function refusal(socket: string): Promise<string> {
  try {
    await createDaemonClient(socket).request("GET", "/v1/status");
  } catch (error) {
    expect(error).toBeInstanceOf(DaemonUnavailable);
    return (error as Error).message;
  }
  throw new Error("expected the daemon to be unreachable");
}

test("no socket file: the daemon is not running", async () => {
  await using dir = await tempDir("airlock-client-");
  const socket = join(dir.path, "daemon.sock");
  expect(await refusal(socket)).toBe(`the Airlock daemon is not reachable at ${socket}: no socket there (the daemon is not running)`);
});

test("a socket nobody answers on (a stale one): the daemon is not running", async () => {
  await using dir = await tempDir("airlock-client-");
  const socket = join(dir.path, "daemon.sock");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  await new Promise<void>((resolve) => server.close(() => resolve())); // closing leaves nothing listening
  const message = await refusal(socket);
  expect(message).toStartWith(`the Airlock daemon is not reachable at ${socket}: `);
  expect(message).not.toContain("typo in the url");
});
