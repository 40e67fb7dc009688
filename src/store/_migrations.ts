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
  {
    version: 2,
    name: "sign-in, pairings and approvals",
    // docs/approvals.md. Secrets (device codes, pairing codes, approver tokens) are stored as SHA-256
    // hashes; an approval holds the sealed envelope (ciphertext) and the signed decision, never the
    // command in clear. tokens is rebuilt for its new kinds (SQLite cannot alter a CHECK) and gains
    // `user` (a user token's identity, `user:<id>`) and `pairing_id` (an approver token's pairing).
    sql: `
CREATE TABLE device_requests (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  device_hash TEXT NOT NULL UNIQUE,
  user_code TEXT NOT NULL,
  client_name TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'used')),
  interval INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_polled_at TEXT,
  decided_at TEXT,
  decided_by TEXT,
  user TEXT,
  token_id TEXT
);
CREATE INDEX device_requests_code ON device_requests (user_code);

CREATE TABLE pairings (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paired', 'removed')),
  client_id TEXT NOT NULL REFERENCES clients (id),
  user TEXT NOT NULL,
  label TEXT,
  approver_label TEXT,
  daemon_sign_key TEXT NOT NULL,
  daemon_box_key TEXT NOT NULL,
  approver_sign_key TEXT,
  approver_box_key TEXT,
  -- SHA-256 of the pairing code while it can be claimed; NULL once claimed (single use)
  code_hash TEXT UNIQUE,
  code_expires_at TEXT,
  created_at TEXT NOT NULL,
  paired_at TEXT,
  removed_at TEXT,
  removed_by TEXT
);
CREATE INDEX pairings_user ON pairings (user, created_at);
CREATE INDEX pairings_client ON pairings (client_id, created_at);

CREATE TABLE tokens_v2 (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('admin', 'viewer', 'client', 'enrollment', 'user', 'approver')),
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  client_id TEXT REFERENCES clients (id),
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT,
  used_at TEXT,
  revoked_at TEXT,
  user TEXT,
  pairing_id TEXT REFERENCES pairings (id)
);
INSERT INTO tokens_v2 (rowid, id, kind, name, hash, client_id, created_at, created_by, expires_at, last_used_at, used_at, revoked_at)
  SELECT rowid, id, kind, name, hash, client_id, created_at, created_by, expires_at, last_used_at, used_at, revoked_at FROM tokens ORDER BY rowid;
DROP TABLE tokens;
ALTER TABLE tokens_v2 RENAME TO tokens;
CREATE INDEX tokens_client ON tokens (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX tokens_pairing ON tokens (pairing_id) WHERE pairing_id IS NOT NULL;

CREATE TABLE approvals (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  pairing_id TEXT NOT NULL REFERENCES pairings (id),
  client_id TEXT NOT NULL,
  session_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  decided_at TEXT,
  decided_by TEXT,
  -- the sealed action as the daemon sent it: {v, epk, iv, ct, sig}
  envelope TEXT NOT NULL,
  -- the approver's signed decision, verbatim
  decision_payload TEXT,
  decision_sig TEXT,
  -- the daemon's verifier result: {ok, reason, verify_ms, total_ms, at}
  verification TEXT
);
CREATE INDEX approvals_created ON approvals (created_at);
CREATE INDEX approvals_pairing ON approvals (pairing_id, created_at);
CREATE INDEX approvals_status ON approvals (status, created_at);
CREATE INDEX approvals_pending ON approvals (expires_at) WHERE status = 'pending';
`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
