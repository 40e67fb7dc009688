/**
 * Opaque keyset cursors: base64url of a small JSON object tagged with the listing it belongs to
 * (`{"k":"audit","s":42}`). A cursor that is not one of ours, or belongs to another listing, is an
 * `invalid_input` error naming the `cursor` field; it never reaches SQL.
 */
import { AirlockError } from "../protocol/errors";

type FieldKind = "int" | "string";
type Shape = Record<string, FieldKind>;
type Decoded<S extends Shape> = { [K in keyof S]: S[K] extends "int" ? number : string };

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const MAX_CURSOR = 1024;

function invalid(message: string): AirlockError {
  return new AirlockError("invalid_input", "invalid cursor", [{ path: "cursor", message }]);
}

export function encodeCursor(kind: string, fields: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...fields }), "utf8").toString("base64url");
}

/** Decodes a cursor made by `encodeCursor(kind, ...)` whose fields have exactly `shape`. */
export function decodeCursor<S extends Shape>(cursor: string, kind: string, shape: S): Decoded<S> {
  if (typeof cursor !== "string" || cursor.length === 0 || cursor.length > MAX_CURSOR || !BASE64URL.test(cursor)) {
    throw invalid("not a cursor returned by this listing");
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid("not a cursor returned by this listing");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("not a cursor returned by this listing");
  const obj = value as Record<string, unknown>;
  if (obj.k !== kind) throw invalid(`not a cursor of the ${kind} listing`);
  const keys = Object.keys(obj).filter((k) => k !== "k");
  if (keys.length !== Object.keys(shape).length) throw invalid("unexpected cursor fields");
  const out: Record<string, string | number> = {};
  for (const [name, type] of Object.entries(shape)) {
    const v = obj[name];
    if (type === "int" ? !(typeof v === "number" && Number.isSafeInteger(v) && v >= 0) : typeof v !== "string") {
      throw invalid(`cursor field ${name} is malformed`);
    }
    out[name] = v as string | number;
  }
  return out as Decoded<S>;
}
