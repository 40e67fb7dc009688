/**
 * Asking the socket whether a daemon lives there: used before replacing a stale socket, by
 * `airlock daemon start|stop|status` and by `airlock client status`.
 */
import type { DaemonStatus } from "../protocol/daemon";

export type Probe =
  /** a daemon answered */
  | { state: "running"; status: DaemonStatus }
  /** no socket file */
  | { state: "absent" }
  /** a file is there but nothing listens (a daemon killed with -9): safe to replace */
  | { state: "stale" }
  /** something accepted the connection but gave no daemon answer: do not replace it */
  | { state: "unresponsive"; error: string };

export async function probeDaemon(socket: string, timeoutMs = 1500): Promise<Probe> {
  let res: Response;
  try {
    res = await fetch("http://airlock-daemon/v1/status", { unix: socket, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    const text = `${code} ${(error as Error).message}`;
    if (/ENOENT|FileNotFound|No such file/i.test(text)) return { state: "absent" };
    if (/ECONNREFUSED|ConnectionRefused|refused/i.test(text)) return { state: "stale" };
    if ((error as Error).name === "TimeoutError") return { state: "unresponsive", error: `no answer within ${timeoutMs} ms` };
    return { state: "unresponsive", error: text.trim() };
  }
  try {
    const body = (await res.json()) as DaemonStatus;
    if (res.ok && typeof body?.pid === "number" && typeof body.version === "string") return { state: "running", status: body };
    return { state: "unresponsive", error: `answered ${res.status}, not like an Airlock daemon` };
  } catch {
    return { state: "unresponsive", error: `answered ${res.status} with something that is not JSON` };
  }
}
