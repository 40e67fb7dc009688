/**
 * SQLite schema, as ordered migrations. Each one runs once, inside its own `BEGIN IMMEDIATE`, and
 * is recorded in `schema_migrations`. Never edit a released migration: add the next one.
 *
 * Layout notes:
 * - listings are keyset-paginated on an integer key: audit events on `seq` (the chain's own gapless
 *   sequence, the rowid), sessions and decisions on (time, rid) where rid is the rowid; every
 *   secondary index carries the rowid, so `(col, time)` indexes serve "filter + newest first".
 * - audit_events is append-only (triggers refuse UPDATE and DELETE); its head (seq, hash) is kept in
 *   store_head, written in the same transaction as every append, so a removed tail is detected.
 *   created_at never decreases along seq (the store clamps it), so a time bound is found by a
 *   binary search on seq and needs no index of its own.
 * - no index is keyed by a decision id except decisions.id itself (idempotency): a random key
 *   dirties a random index page per row. Clients should choose time-ordered ids (UUIDv7) so even
 *   that one appends at the right edge.
 * - store_head also keeps per-verdict decision totals in step with ingest (counts() stays O(1)).
 */

import type { Migration } from "./sqlite-file";

export type { Migration };

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  hostname TEXT NOT NULL,
  user TEXT NOT NULL,
  version TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen_at TEXT,
  revoked_at TEXT
);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('admin', 'viewer', 'client', 'enrollment')),
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  client_id TEXT REFERENCES clients (id),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT,
  used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX tokens_client ON tokens (client_id) WHERE client_id IS NOT NULL;

CREATE TABLE policies (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version >= 1),
  document TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL CHECK (version >= 1),
  document TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- the role document's "policies" array, so attachment is enforced by the database
CREATE TABLE role_policies (
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  policy_id TEXT NOT NULL REFERENCES policies (id),
  PRIMARY KEY (role_id, position)
) WITHOUT ROWID;
CREATE INDEX role_policies_policy ON role_policies (policy_id);

CREATE TABLE sessions (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  client_id TEXT REFERENCES clients (id),
  agent TEXT NOT NULL,
  role TEXT NOT NULL,
  user TEXT NOT NULL,
  host TEXT NOT NULL,
  cwd TEXT NOT NULL,
  pid INTEGER,
  status TEXT NOT NULL CHECK (status IN ('ready', 'running', 'exited', 'revoked')),
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  exit_code INTEGER,
  revoked_by TEXT
);
CREATE INDEX sessions_created ON sessions (created_at);
CREATE INDEX sessions_status ON sessions (status, created_at);

-- client_id has no foreign key: ingest checks the client once per batch under the write lock, and
-- clients are never deleted (a per-row parent lookup costs ~5% of batched ingest)
CREATE TABLE decisions (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  client_id TEXT,
  session_id TEXT,
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
  decided_at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  -- the seq of its decision.* audit event: the way from a decision to its event (see audit_target)
  audit_seq INTEGER NOT NULL
);
CREATE INDEX decisions_decided ON decisions (decided_at);
CREATE INDEX decisions_session ON decisions (session_id, decided_at) WHERE session_id IS NOT NULL;
-- allow is the bulk of decisions and is listed through decisions_decided; the rest are flagged
CREATE INDEX decisions_flagged ON decisions (verdict, decided_at) WHERE verdict <> 'allow';


CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  code TEXT NOT NULL,
  actor TEXT NOT NULL,
  target TEXT NOT NULL,
  details TEXT NOT NULL,
  created_at TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_type ON audit_events (type);
CREATE INDEX audit_actor ON audit_events (actor);
-- decision events are left out: their targets are random ids, one index page written per event;
-- a decision's event is found through decisions.audit_seq instead
CREATE INDEX audit_target ON audit_events (target) WHERE type NOT LIKE 'decision.%';
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

-- the one row every mutation rewrites (one page per transaction): the chain's head (seq 0 = empty
-- chain) and running decision totals per verdict
CREATE TABLE store_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  decisions_allow INTEGER NOT NULL,
  decisions_require_approval INTEGER NOT NULL,
  decisions_block INTEGER NOT NULL
);
INSERT INTO store_head VALUES (1, 0, '', '', 0, 0, 0);
`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
