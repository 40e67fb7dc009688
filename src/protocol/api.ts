/**
 * Wire schemas of the gateway API, version v1 (`/api/v1`). Every body, query and param is parsed
 * with one of these; unknown body fields are refused so a typo is an error, not silently ignored.
 */
import * as v from "valibot";
import { SESSION_STATUSES, TOKEN_KINDS } from "./records";

export const API_VERSION = "v1";

const MAX_TEXT = 4096;

export const RecordId = v.pipe(
  v.string("must be a string"),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be 1-128 characters of letters, digits, '.', '_', ':', '-'"),
);

export const DocId = v.pipe(
  v.string("must be a string"),
  v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 characters of a-z, 0-9, '.', '_', '-'"),
);

const Text = (max = MAX_TEXT) => v.pipe(v.string("must be a string"), v.maxLength(max, `must be at most ${max} characters`));
const NonEmpty = (max = 256) => v.pipe(v.string("must be a string"), v.minLength(1, "must not be empty"), v.maxLength(max, `must be at most ${max} characters`));
const IsoTime = v.pipe(v.string("must be a string"), v.isoTimestamp("must be an ISO-8601 timestamp"));

const Limit = v.optional(
  v.pipe(v.string(), v.regex(/^\d{1,4}$/, "must be a whole number"), v.transform(Number), v.minValue(1, "must be at least 1"), v.maxValue(500, "must be at most 500")),
  "50",
);

export const PageQuery = {
  limit: Limit,
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512, "is too long"))),
};

export const VerdictSchema = v.picklist(["allow", "require_approval", "block"], "must be one of allow, require_approval, block");

export const SessionListQuery = v.strictObject({
  ...PageQuery,
  status: v.optional(v.picklist(SESSION_STATUSES, `must be one of ${SESSION_STATUSES.join(", ")}`)),
  agent: v.optional(NonEmpty()),
  role: v.optional(NonEmpty()),
  user: v.optional(NonEmpty()),
  host: v.optional(NonEmpty()),
  client_id: v.optional(RecordId),
  since: v.optional(IsoTime),
  until: v.optional(IsoTime),
});

export const DecisionListQuery = v.strictObject({
  ...PageQuery,
  verdict: v.optional(VerdictSchema),
  session_id: v.optional(RecordId),
  role: v.optional(NonEmpty()),
  agent: v.optional(NonEmpty()),
  tool: v.optional(NonEmpty()),
  policy: v.optional(NonEmpty()),
  rule: v.optional(NonEmpty()),
  client_id: v.optional(RecordId),
  q: v.optional(NonEmpty(500)),
  since: v.optional(IsoTime),
  until: v.optional(IsoTime),
});

const WholeNumber = (min: number, max: number, fallback: string) =>
  v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a whole number"), v.transform(Number), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`)),
    fallback,
  );

/** GET /api/v1/decisions/stats: the Overview's chart and top blocked commands */
export const DecisionStatsQuery = v.strictObject({
  minutes: WholeNumber(1, 1440, "60"),
  top: WholeNumber(1, 50, "10"),
});

export const AuditListQuery = v.strictObject({
  ...PageQuery,
  type: v.optional(v.pipe(v.string(), v.regex(/^[a-z_]+(\.[a-z_]+)*\.?$/, "must be an event type or a prefix ending in '.'"))),
  actor: v.optional(NonEmpty()),
  target: v.optional(NonEmpty()),
  since: v.optional(IsoTime),
  until: v.optional(IsoTime),
});

export const CreateSessionBody = v.strictObject({
  id: v.optional(RecordId),
  agent: NonEmpty(128),
  role: DocId,
  user: NonEmpty(128),
  host: NonEmpty(255),
  cwd: NonEmpty(4096),
  pid: v.optional(v.nullable(v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(0, "must be positive")))),
});

export const SessionTransitionBody = v.strictObject({
  status: v.picklist(["running", "exited", "revoked"], "must be one of running, exited, revoked"),
  exit_code: v.optional(v.nullable(v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(0), v.maxValue(255)))),
});

export const DecisionInputSchema = v.strictObject({
  id: RecordId,
  session_id: v.nullable(RecordId),
  role: v.nullable(NonEmpty(128)),
  agent: v.nullable(NonEmpty(128)),
  tool: v.nullable(NonEmpty(128)),
  command: NonEmpty(MAX_TEXT),
  normalized: v.pipe(v.array(Text(), "must be a list of strings"), v.maxLength(256, "must have at most 256 entries")),
  verdict: VerdictSchema,
  policy: v.nullable(NonEmpty(128)),
  rule: v.nullable(NonEmpty(128)),
  pattern: v.nullable(NonEmpty(1000)),
  reason: Text(),
  source: v.picklist(["shim", "hook", "check", "gateway"], "must be one of shim, hook, check, gateway"),
  cwd: v.nullable(Text()),
  decided_at: IsoTime,
});

export const DecisionBatchBody = v.strictObject({
  decisions: v.pipe(v.array(DecisionInputSchema, "must be a list of decisions"), v.minLength(1, "must not be empty"), v.maxLength(1000, "must have at most 1000 decisions")),
});

export const EnrollBody = v.strictObject({
  name: NonEmpty(128),
  hostname: NonEmpty(255),
  user: NonEmpty(128),
  version: NonEmpty(64),
});

export const CreateTokenBody = v.strictObject({
  kind: v.picklist(["admin", "viewer"] as const, "must be admin or viewer"),
  name: NonEmpty(128),
  expires_in_days: v.optional(v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(1), v.maxValue(3650))),
});

export const CreateEnrollmentTokenBody = v.strictObject({
  name: NonEmpty(128),
  expires_in_minutes: v.optional(v.pipe(v.number("must be a number"), v.integer("must be an integer"), v.minValue(1), v.maxValue(60 * 24 * 30)), 60 * 24),
});

export const TokenListQuery = v.strictObject({
  kind: v.optional(v.picklist(TOKEN_KINDS, `must be one of ${TOKEN_KINDS.join(", ")}`)),
});

export const CheckBody = v.pipe(
  v.strictObject({
    role: v.optional(DocId),
    command: v.optional(NonEmpty(65536)),
    argv: v.optional(v.pipe(v.array(Text(), "must be a list of strings"), v.minLength(1, "must not be empty"), v.maxLength(1000))),
  }),
  v.check((b) => (b.command === undefined) !== (b.argv === undefined), "give exactly one of command or argv"),
);

export const ChangesQuery = v.strictObject({
  after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, "must be a sequence number"), v.transform(Number)), "0"),
  wait: v.optional(v.pipe(v.string(), v.regex(/^\d{1,2}$/, "must be seconds"), v.transform(Number), v.maxValue(30, "must be at most 30")), "0"),
});

export const IfVersionHeader = v.optional(v.pipe(v.string(), v.regex(/^\d{1,9}$/, "must be a version number"), v.transform(Number)));
