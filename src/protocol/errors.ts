/**
 * The one error shape of Airlock: `{ code, message, details }`.
 * Codes are a closed set of snake_case strings; `exitCodeFor` and (later) the gateway's HTTP
 * mapping are the only places that translate them.
 */

export const ERROR_CODES = [
  "usage",
  "invalid_input",
  "invalid_policy",
  "not_found",
  "conflict",
  "unauthorized",
  "forbidden",
  "rate_limited",
  "policy_block",
  "approval_required",
  // device flow (RFC 8628 names) and approvals
  "authorization_pending",
  "slow_down",
  "expired_token",
  "access_denied",
  "expired",
  "tool_not_found",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetail {
  /** Where the problem is: a file, a JSON path (`rules[2].action`), a flag, a field. */
  path?: string;
  message: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details: ErrorDetail[];
}

export class AirlockError extends Error {
  override readonly name = "AirlockError";
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isAirlockError(value: unknown): value is AirlockError {
  return value instanceof AirlockError;
}

/** Process exit code for an error (DESIGN 1): 126 block, 127 tool missing, 2 usage, 1 other. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "usage":
    case "invalid_input":
    case "invalid_policy":
      return 2;
    case "policy_block":
      return 126;
    case "approval_required":
      return 3;
    case "tool_not_found":
      return 127;
    default:
      return 1;
  }
}
