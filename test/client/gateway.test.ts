/** The gateway client's error contract, against a fake fetch: method, URL and status in every message. */
import { describe, expect, test } from "bun:test";
import { createGatewayClient, GatewayRequestError } from "../../src/client/gateway";
import { AirlockError } from "../../src/protocol/errors";

function fakeFetch(respond: (req: Request) => Response | Promise<Response>): { fetch: typeof fetch; seen: Request[] } {
  const seen: Request[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push(req);
    return respond(req);
  }) as typeof fetch;
  return { fetch: f, seen };
}

async function failure(p: Promise<unknown>): Promise<GatewayRequestError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayRequestError);
  expect(error).toBeInstanceOf(AirlockError);
  return error as GatewayRequestError;
}

describe("createGatewayClient", () => {
  test("sends the bearer token and parses JSON", async () => {
    const { fetch, seen } = fakeFetch(() => Response.json({ items: [{ id: "p" }] }));
    const client = createGatewayClient({ baseUrl: "http://gw.test:8787/", token: "t".repeat(40), fetch });
    expect(await client.listPolicies()).toEqual([{ id: "p" }] as never);
    expect(seen[0]!.url).toBe("http://gw.test:8787/api/v1/policies");
    expect(seen[0]!.headers.get("authorization")).toBe(`Bearer ${"t".repeat(40)}`);
  });

  test("an API error keeps its code and details; the message names method, URL and status", async () => {
    const body = { code: "invalid_policy", message: "invalid policy", details: [{ path: "body.rules[0].action", message: "bad action" }] };
    const { fetch } = fakeFetch(() => Response.json(body, { status: 400, statusText: "Bad Request" }));
    const client = createGatewayClient({ baseUrl: "http://gw.test", token: "t".repeat(40), fetch });
    const e = await failure(client.updatePolicy("x y", { id: "x y" }, 3));
    expect(e.code).toBe("invalid_policy");
    expect(e.details).toEqual([{ path: "body.rules[0].action", message: "bad action" }]);
    expect(e.message).toBe("PUT http://gw.test/api/v1/policies/x%20y: 400 Bad Request: invalid policy");
    expect(e).toMatchObject({ method: "PUT", status: 400, apiMessage: "invalid policy" });
  });

  test("a non-API error body gets the code of its status", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "content-type": "text/html" } }));
    const e = await failure(createGatewayClient({ baseUrl: "http://gw.test", fetch }).health());
    expect(e.code).toBe("unavailable");
    expect(e.message).toStartWith("GET http://gw.test/healthz: 502 Bad Gateway");
  });

  test("an unreachable gateway is unavailable: cannot reach the gateway at URL", async () => {
    const server = Bun.serve({ port: 0, fetch: () => new Response("") });
    const url = `http://127.0.0.1:${server.port}`;
    await server.stop(true);
    const e = await failure(createGatewayClient({ baseUrl: url }).status());
    expect(e.code).toBe("unavailable");
    expect(e.status).toBeNull();
    expect(e.message).toStartWith(`cannot reach the gateway at ${url}: GET ${url}/api/v1/status: no response: `);
  });

  test("a base URL must be http(s) without credentials", () => {
    expect(() => createGatewayClient({ baseUrl: "ftp://x" })).toThrow("must be http:// or https://");
    expect(() => createGatewayClient({ baseUrl: "http://u:p@x" })).toThrow("must not carry credentials");
    expect(() => createGatewayClient({ baseUrl: "nonsense" })).toThrow("must be a URL");
  });
});
