/**
 * PostgreSQL schema, as ordered migrations (the SQLite ones are in _migrations.ts; the two
 * schemas hold the same data, each in its own dialect). Each migration runs once, inside one
 * transaction that first takes a database-wide advisory lock (so replicas starting together
 * migrate one after the other), and is recorded in `airlock_schema_migrations`. Never edit a
 * released migration: add the next one.
 *
 * Layout notes:
 * - times are TEXT in `Date#toISOString()` form (as in SQLite), so text order is time order and a
 *   record reads back exactly as written; ids, times and audit types are COLLATE "C" so ordering
 *   and prefix ranges are by code point whatever the database's locale (SQLite compares binary).
 * - documents, audit details, envelopes and `normalized` are TEXT holding JSON, not jsonb: jsonb
 *   would re-render numbers and reject `\u0000`; the hashed audit details must read back as written.
 * - `user` and `interval` are keywords in PostgreSQL: those columns are always written quoted.
 * - audit_events is append-only: triggers refuse UPDATE, DELETE and TRUNCATE. Its head (seq, hash)
 *   lives in the one-row store_head, which every audited write locks first (SELECT ... FOR UPDATE):
 *   that lock is what serializes appends from any number of gateway replicas into one chain.
 * - sessions, decisions, approvals, pairings, device requests, tokens and clients carry `rid`, an
 *   identity column, the keyset tie-breaker (rows are inserted under the head lock, so rid order is
 *   commit order).
 */

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** the advisory lock key migrations run under (an arbitrary constant: "arlk" in ASCII) */
export const MIGRATION_LOCK_KEY = 0x61726c6b;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "initial schema (SQLite migrations 1 and 2)",
    sql: `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE clients (
  rid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  hostname TEXT NOT NULL,
  "user" TEXT NOT NULL,
  version TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  last_seen_at TEXT COLLATE "C",
  revoked_at TEXT COLLATE "C"
);

CREATE TABLE pairings (
  rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paired', 'removed')),
  client_id TEXT COLLATE "C" NOT NULL REFERENCES clients (id),
  "user" TEXT COLLATE "C" NOT NULL,
  label TEXT,
  approver_label TEXT,
  daemon_sign_key TEXT NOT NULL,
  daemon_box_key TEXT NOT NULL,
  approver_sign_key TEXT,
  approver_box_key TEXT,
  -- SHA-256 of the pairing code while it can be claimed; NULL once claimed (single use)
  code_hash TEXT UNIQUE,
  code_expires_at TEXT COLLATE "C",
  created_at TEXT COLLATE "C" NOT NULL,
  paired_at TEXT COLLATE "C",
  removed_at TEXT COLLATE "C",
  removed_by TEXT
);
CREATE INDEX pairings_user ON pairings ("user", created_at);
CREATE INDEX pairings_client ON pairings (client_id, created_at);

CREATE TABLE tokens (
  rid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('admin', 'viewer', 'client', 'enrollment', 'user', 'approver')),
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  client_id TEXT COLLATE "C" REFERENCES clients (id),
  created_at TEXT COLLATE "C" NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT COLLATE "C",
  last_used_at TEXT COLLATE "C",
  used_at TEXT COLLATE "C",
  revoked_at TEXT COLLATE "C",
  "user" TEXT,
  pairing_id TEXT COLLATE "C" REFERENCES pairings (id)
);
CREATE INDEX tokens_client ON tokens (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX tokens_pairing ON tokens (pairing_id) WHERE pairing_id IS NOT NULL;
CREATE INDEX tokens_created ON tokens (created_at, rid);

CREATE TABLE policies (
  id TEXT COLLATE "C" PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version >= 1),
  document TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE roles (
  id TEXT COLLATE "C" PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version >= 1),
  document TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);

-- the role document's "policies" array, so attachment is enforced by the database
CREATE TABLE role_policies (
  role_id TEXT COLLATE "C" NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  pos INTEGER NOT NULL,
  policy_id TEXT COLLATE "C" NOT NULL REFERENCES policies (id),
  PRIMARY KEY (role_id, pos)
);
CREATE INDEX role_policies_policy ON role_policies (policy_id);

CREATE TABLE sessions (
  rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  client_id TEXT COLLATE "C" REFERENCES clients (id),
  agent TEXT NOT NULL,
  role TEXT NOT NULL,
  "user" TEXT NOT NULL,
  host TEXT NOT NULL,
  cwd TEXT NOT NULL,
  pid INTEGER,
  status TEXT NOT NULL CHECK (status IN ('ready', 'running', 'exited', 'revoked')),
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL,
  started_at TEXT COLLATE "C",
  ended_at TEXT COLLATE "C",
  exit_code INTEGER,
  revoked_by TEXT
);
CREATE INDEX sessions_created ON sessions (created_at, rid);
CREATE INDEX sessions_status ON sessions (status, created_at, rid);

-- client_id has no foreign key: ingest checks the client once per batch under the head lock, and
-- clients are never deleted
CREATE TABLE decisions (
  rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  client_id TEXT COLLATE "C",
  session_id TEXT COLLATE "C",
  role TEXT,
  agent TEXT,
  tool TEXT,
  command TEXT NOT NULL,
  normalized TEXT NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('allow', 'require_approval', 'block')),
  policy TEXT,
  rule TEXT,
  pattern TEXT,
  reason TEXT NOT NULL,
  source TEXT NOT NULL,
  cwd TEXT,
  decided_at TEXT COLLATE "C" NOT NULL,
  received_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX decisions_decided ON decisions (decided_at, rid);
CREATE INDEX decisions_session ON decisions (session_id, decided_at, rid) WHERE session_id IS NOT NULL;
CREATE INDEX decisions_flagged ON decisions (verdict, decided_at, rid) WHERE verdict <> 'allow';

CREATE TABLE audit_events (
  seq BIGINT PRIMARY KEY,
  id TEXT NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  code TEXT NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  target TEXT COLLATE "C" NOT NULL,
  details TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_type ON audit_events (type, seq);
CREATE INDEX audit_actor ON audit_events (actor, seq);
CREATE INDEX audit_target ON audit_events (target, seq);
CREATE INDEX audit_created ON audit_events (created_at);

CREATE FUNCTION airlock_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION airlock_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_append_only();

-- the one row every audited write locks and rewrites: the chain's head (seq 0 = empty chain) and
-- running decision totals per verdict
CREATE TABLE store_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  decisions_allow BIGINT NOT NULL,
  decisions_require_approval BIGINT NOT NULL,
  decisions_block BIGINT NOT NULL
);
INSERT INTO store_head VALUES (1, 0, '', '', 0, 0, 0);

CREATE TABLE device_requests (
  rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  device_hash TEXT NOT NULL UNIQUE,
  user_code TEXT COLLATE "C" NOT NULL,
  client_name TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
  "interval" INTEGER NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  expires_at TEXT COLLATE "C" NOT NULL,
  last_polled_at TEXT COLLATE "C",
  decided_at TEXT COLLATE "C",
  decided_by TEXT,
  "user" TEXT,
  token_id TEXT
);
CREATE INDEX device_requests_code ON device_requests (user_code, rid);

CREATE TABLE approvals (
  rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL UNIQUE,
  pairing_id TEXT COLLATE "C" NOT NULL REFERENCES pairings (id),
  client_id TEXT COLLATE "C" NOT NULL,
  session_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  created_at TEXT COLLATE "C" NOT NULL,
  expires_at TEXT COLLATE "C" NOT NULL,
  decided_at TEXT COLLATE "C",
  decided_by TEXT,
  -- the sealed action as the daemon sent it: {v, epk, iv, ct, sig}
  envelope TEXT NOT NULL,
  -- the approver's signed decision, verbatim
  decision_payload TEXT,
  decision_sig TEXT,
  -- the daemon's verifier result: {ok, reason, verify_ms, total_ms, at}
  verification TEXT
);
CREATE INDEX approvals_created ON approvals (created_at, rid);
CREATE INDEX approvals_pairing ON approvals (pairing_id, created_at, rid);
CREATE INDEX approvals_status ON approvals (status, created_at, rid);
CREATE INDEX approvals_pending ON approvals (expires_at) WHERE status = 'pending';
`,
  },
];

export const PG_LATEST_VERSION = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
