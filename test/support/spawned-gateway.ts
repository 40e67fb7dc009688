/**
 * The compiled gateway as a subprocess (`airlock gateway` or `airlock serve`) on port 0 with an
 * isolated HOME and AIRLOCK_HOME: started, its URL read from the "listening on" line, its output
 * kept, stopped by a signal. And the JSON API called over HTTP.
 */
import type { Subprocess } from "bun";
import { airlockBinary } from "./binary";

export interface SpawnedGateway {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  url: string;
  /** everything printed so far: stdout, stderr, and both as they came */
  stdout(): string;
  stderr(): string;
  output(): string;
  /** SIGTERM (default) or SIGKILL; resolves with the exit code (null after SIGKILL) once stdout and stderr are drained */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<number | null>;
}

/**
 * Runs the binary with `args` (say `["serve", "--listen", "127.0.0.1:0"]`) with PATH, NO_COLOR,
 * HOME and AIRLOCK_HOME = `home`, plus `env`; resolves once it is listening.
 */
export async function spawnGateway(args: string[], options: { home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<SpawnedGateway> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.home, NO_COLOR: "1", AIRLOCK_HOME: options.home, ...options.env };
  const timeoutMs = options.timeoutMs ?? 20_000;
  const proc = Bun.spawn([await airlockBinary(), ...args], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  let err = "";
  let both = "";
  let onOut = () => {};
  const pump = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      both += text;
      add(text);
    }
  };
  const drained = Promise.all([
    pump(proc.stdout, (t) => {
      out += t;
      onOut();
    }),
    pump(proc.stderr, (t) => {
      err += t;
    }),
  ]);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start in ${timeoutMs / 1000} s:\n${out}\n${err}`)), timeoutMs);
    onOut = () => {
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  let signaled = false;
  return {
    proc,
    url,
    stdout: () => out,
    stderr: () => err,
    output: () => both,
    async stop(signal = "SIGTERM") {
      // a second SIGTERM would be a "stop now"; send one signal, except a SIGKILL
      if (proc.exitCode === null && proc.signalCode === null && (!signaled || signal === "SIGKILL")) proc.kill(signal);
      signaled = true;
      const code = await proc.exited;
      await drained;
      return signal === "SIGKILL" ? null : code;
    },
  };
}

/** A JSON API call: `token` as the bearer (null: none), `body` as JSON; the answer's status and parsed body. */
export async function apiCall(url: string, method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
