/** Which gateway and which credential the CLI uses, and the --token-file mode check. */
import { describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEnv } from "../../src/config/env";
import { DEFAULT_GATEWAY_URL, resolveGatewayTarget } from "../../src/config/gateway-target";
import { tempDir } from "../support/tmp";

const T1 = "token-one-0123456789abcdefghijklmnopqrstuvwxyz";
const T2 = "token-two-0123456789abcdefghijklmnopqrstuvwxyz";

describe("resolveGatewayTarget", () => {
  test("URL: --gateway > AIRLOCK_GATEWAY_URL > config.json > default", async () => {
    await using home = await tempDir();
    const env = (extra: Record<string, string> = {}) => readEnv({ AIRLOCK_HOME: home.path, ...extra });
    expect(resolveGatewayTarget(env())).toMatchObject({ url: DEFAULT_GATEWAY_URL, urlSource: "default" });
    writeFileSync(join(home.path, "config.json"), JSON.stringify({ gateway_url: "http://from-file:1" }));
    expect(resolveGatewayTarget(env())).toMatchObject({ url: "http://from-file:1", urlSource: "config.json gateway_url" });
    expect(resolveGatewayTarget(env({ AIRLOCK_GATEWAY_URL: "http://from-env:2" }))).toMatchObject({ url: "http://from-env:2", urlSource: "AIRLOCK_GATEWAY_URL" });
    expect(resolveGatewayTarget(env({ AIRLOCK_GATEWAY_URL: "http://from-env:2" }), { gateway: "http://flag:3" })).toMatchObject({ url: "http://flag:3", urlSource: "--gateway" });
  });

  test("token: --token-file > AIRLOCK_TOKEN > AIRLOCK_ADMIN_TOKEN > none", async () => {
    await using home = await tempDir();
    const base = { AIRLOCK_HOME: home.path };
    expect(resolveGatewayTarget(readEnv(base))).toMatchObject({ token: undefined, tokenSource: "none" });
    expect(resolveGatewayTarget(readEnv({ ...base, AIRLOCK_ADMIN_TOKEN: T2 }))).toMatchObject({ token: T2, tokenSource: "AIRLOCK_ADMIN_TOKEN" });
    expect(resolveGatewayTarget(readEnv({ ...base, AIRLOCK_ADMIN_TOKEN: T2, AIRLOCK_TOKEN: T1 }))).toMatchObject({ token: T1, tokenSource: "AIRLOCK_TOKEN" });
    const file = join(home.path, "t");
    writeFileSync(file, `${T2}\n`, { mode: 0o600 });
    expect(resolveGatewayTarget(readEnv({ ...base, AIRLOCK_TOKEN: T1 }), { tokenFile: file })).toMatchObject({ token: T2, tokenSource: "--token-file" });
  });

  test("a token file readable by group or others is refused", async () => {
    await using home = await tempDir();
    const file = join(home.path, "t");
    writeFileSync(file, T1);
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(file, mode);
      expect(() => resolveGatewayTarget(readEnv({ AIRLOCK_HOME: home.path }), { tokenFile: file })).toThrow(`its mode is 0${mode.toString(8)}`);
    }
    chmodSync(file, 0o400);
    expect(resolveGatewayTarget(readEnv({ AIRLOCK_HOME: home.path }), { tokenFile: file }).token).toBe(T1);
    writeFileSync(file, "");
    chmodSync(file, 0o600);
    expect(() => resolveGatewayTarget(readEnv({ AIRLOCK_HOME: home.path }), { tokenFile: file })).toThrow("is empty");
    expect(() => resolveGatewayTarget(readEnv({ AIRLOCK_HOME: home.path }), { tokenFile: join(home.path, "missing") })).toThrow("does not exist");
  });
});
