/**
 * The one place API errors become HTTP: `{ code, message, details }` with the status of its code.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AirlockError, isAirlockError, type ErrorBody, type ErrorCode } from "../protocol/errors";

export function statusFor(code: ErrorCode): ContentfulStatusCode {
  switch (code) {
    case "usage":
    case "invalid_input":
    case "invalid_policy":
    case "authorization_pending":
    case "expired_token":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
    case "policy_block":
    case "access_denied":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "expired":
      return 410;
    case "rate_limited":
    case "slow_down":
      return 429;
    case "unavailable":
      return 503;
    default:
      return 500;
  }
}

export function errorResponse(c: Context, error: AirlockError): Response {
  const body: ErrorBody = error.toJSON();
  return c.json(body, statusFor(error.code));
}

/** Hono's onError: known errors keep their code; anything else is a 500 that leaks nothing. */
export function onError(log: (message: string, error: unknown) => void) {
  return (error: Error, c: Context): Response => {
    if (isAirlockError(error)) return errorResponse(c, error);
    const status = (error as { status?: number }).status;
    if (status === 413) return errorResponse(c, new AirlockError("invalid_input", "request body too large"));
    log(`unhandled error on ${c.req.method} ${c.req.path}`, error);
    return errorResponse(c, new AirlockError("internal", "internal error"));
  };
}
