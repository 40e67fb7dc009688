/**
 * The admin UI's one way to the gateway: fetch with the token in the Authorization header (never in
 * a URL), errors as the gateway's `{code, message, details}` shape.
 */
import { signal } from "@preact/signals";
import type { ErrorBody, ErrorDetail } from "../protocol/errors";
import { jsonRequest, readJson, withDetails } from "./fetch-json";

const TOKEN_KEY = "airlock.token";
const ROLE_KEY = "airlock.role";

export type Role = "admin" | "viewer";

function load(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

export const token = signal<string | null>(load(TOKEN_KEY));
export const role = signal<Role | null>(load(ROLE_KEY) as Role | null);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** A readable line for an error, with the field-level details the gateway gave. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    // a conflict's message already names what is in the way
    if (error.code === "conflict") return error.message;
    return withDetails(error.message, error.details);
  }
  if (error instanceof TypeError) return "The gateway did not answer. Is it running?";
  return (error as Error)?.message ?? String(error);
}

export async function request<T>(method: string, path: string, body?: unknown, with_token: string | null = token.value, extra: Record<string, string> = {}): Promise<T> {
  const res = await fetch(path, jsonRequest(method, with_token, body, extra));
  const json = await readJson(res);
  if (!res.ok) {
    const err = (json ?? {}) as Partial<ErrorBody>;
    if (res.status === 401 && with_token === token.value && token.value) signOut("Your token was not accepted any more. Sign in again.");
    throw new ApiError(res.status, err.code ?? "http_error", err.message ?? `HTTP ${res.status}`, err.details ?? []);
  }
  return json as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});
/** a PUT; with `ifVersion`, sent as `If-Match` so a document changed by someone else meanwhile is refused (409) */
export const put = <T>(path: string, body: unknown, ifVersion?: number) => request<T>("PUT", path, body, token.value, ifVersion === undefined ? {} : { "if-match": `"${ifVersion}"` });
export const del = (path: string) => request<null>("DELETE", path);

/** a 409 from a write sent with If-Match: the document moved on since the editor loaded it */
export const isVersionConflict = (e: unknown): e is ApiError => e instanceof ApiError && e.status === 409 && e.details.some((d) => d.path === "version");

/** `?a=1&b=2` from the non-empty entries */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export const signOutReason = signal<string | null>(null);

/** Checks the token against the gateway, finds out whether it is an admin or a viewer token, keeps it. */
export async function signIn(candidate: string): Promise<void> {
  const t = candidate.trim();
  const who = await request<{ kind: string; actor: string }>("GET", "/api/v1/auth/whoami", undefined, t);
  if (who.kind !== "admin" && who.kind !== "viewer") throw new ApiError(403, "forbidden", `This is a ${who.kind} token. Sign in with an admin or viewer token.`);
  const r: Role = who.kind;
  sessionStorage.setItem(TOKEN_KEY, t);
  sessionStorage.setItem(ROLE_KEY, r);
  signOutReason.value = null;
  role.value = r;
  token.value = t;
}

export function signOut(reason: string | null = null): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ROLE_KEY);
  } catch {
    /* storage unavailable */
  }
  signOutReason.value = reason;
  token.value = null;
  role.value = null;
}

/** Downloads a path through fetch (the token stays in a header) and saves it as `filename`. */
export async function download(path: string, filename: string): Promise<number> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token.value ?? ""}` } });
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as Partial<ErrorBody>;
    throw new ApiError(res.status, err.code ?? "http_error", err.message ?? `HTTP ${res.status}`, err.details ?? []);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob.size;
}
