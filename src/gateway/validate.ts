/**
 * valibot on every body, query and param: a bad input is a 400 naming the field, before any
 * handler runs (so nothing changes).
 */
import type { Context } from "hono";
import * as v from "valibot";
import { AirlockError } from "../protocol/errors";
import { jsonPath } from "../policy/load";

export function invalid(issues: readonly v.BaseIssue<unknown>[], where: string): AirlockError {
  const details = issues.map((i) => {
    const path = jsonPath(i.path?.map((p) => p.key) ?? []);
    return { path: path ? `${where}.${path}` : where, message: i.message };
  });
  return new AirlockError("invalid_input", `invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
}

export function parseWith<S extends v.GenericSchema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw invalid(result.issues, where);
  return result.output;
}

/** The JSON body, or a 400 saying why it is not JSON. */
export async function jsonBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new AirlockError("invalid_input", "the body must be JSON (Content-Type: application/json)", [{ path: "body", message: "expected application/json" }]);
  }
  let raw: unknown;
  try {
    // parsed from the bytes in one step (Hono's text() decodes to a string first); through Hono when
    // something already read the body
    raw = c.req.raw.bodyUsed ? await c.req.json() : await c.req.raw.json();
  } catch (error) {
    if ((error as { status?: number }).status === 413) throw error;
    throw new AirlockError("invalid_input", `the body is not valid JSON: ${(error as Error).message}`, [{ path: "body", message: "malformed JSON" }]);
  }
  return parseWith(schema, raw, "body");
}

export function query<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  return parseWith(schema, c.req.query(), "query");
}

export function param<S extends v.GenericSchema>(c: Context, name: string, schema: S): v.InferOutput<S> {
  return parseWith(schema, c.req.param(name), `param.${name}`);
}

/** A JSON body of any shape (validated afterwards by a domain validator), or a 400. */
export async function rawJson(c: Context): Promise<unknown> {
  return jsonBody(c, v.unknown());
}
