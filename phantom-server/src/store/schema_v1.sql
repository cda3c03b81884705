-- Phantom's state, version 1. Times are milliseconds since the Unix epoch.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Management API keys: only the SHA-256 of each key is kept.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Ghost tokens: only the SHA-256 of each token is kept.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    hash         BLOB NOT NULL UNIQUE,
    agent        TEXT NOT NULL,
    on_behalf_of TEXT NOT NULL,
    mission_id   TEXT REFERENCES missions (id),
    intent       TEXT NOT NULL,
    scope        TEXT NOT NULL,            -- JSON array of strings
    max_actions  INTEGER,
    actions_used INTEGER NOT NULL DEFAULT 0,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX tokens_by_mission ON tokens (mission_id);

CREATE TABLE missions (
    id            TEXT PRIMARY KEY,
    user          TEXT NOT NULL,
    intent        TEXT NOT NULL,
    state         TEXT NOT NULL,
    state_reason  TEXT,
    durable       INTEGER NOT NULL,
    requires      TEXT NOT NULL,           -- JSON array of entitlements
    created_at    INTEGER NOT NULL,
    deadline      INTEGER NOT NULL,
    ended_at      INTEGER
) STRICT;
CREATE INDEX missions_by_user ON missions (user, state);
CREATE INDEX missions_by_deadline ON missions (state, deadline);

-- Decisions that may be acted on: an ALLOW is recorded here so that the
-- agent can only record actions it was allowed to take.
CREATE TABLE decisions (
    action_id  TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    mission_id TEXT,
    tool       TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    recorded   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE mission_actions (
    mission_id          TEXT NOT NULL REFERENCES missions (id),
    seq                 INTEGER NOT NULL,
    action_id           TEXT NOT NULL UNIQUE,
    tool                TEXT NOT NULL,
    recorded_at         INTEGER NOT NULL,
    compensation        TEXT,              -- JSON {name, args}
    compensation_status TEXT,              -- recorded | due | done | failed
    compensation_detail TEXT,
    compensated_at      INTEGER,
    PRIMARY KEY (mission_id, seq)
) STRICT;

CREATE TABLE approvals (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    mission_id  TEXT,
    token_id    TEXT NOT NULL REFERENCES tokens (id),
    action_id   TEXT NOT NULL,
    action      TEXT NOT NULL,             -- JSON of the action to approve
    action_hash BLOB NOT NULL,             -- what a retry must match
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    decided_by  TEXT,
    note        TEXT,
    consumed_at INTEGER
) STRICT;
CREATE INDEX approvals_by_status ON approvals (status, expires_at);
CREATE INDEX approvals_by_token ON approvals (token_id, status);
CREATE INDEX approvals_by_mission ON approvals (mission_id, status);

-- The relationship graph. `revision` is the write that added the tuple.
CREATE TABLE tuples (
    object    TEXT NOT NULL,
    relation  TEXT NOT NULL,
    subject   TEXT NOT NULL,
    condition TEXT,                        -- JSON {name, context}
    revision  INTEGER NOT NULL,
    PRIMARY KEY (object, relation, subject)
) STRICT, WITHOUT ROWID;

CREATE TABLE entitlements (
    user        TEXT NOT NULL,
    entitlement TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (user, entitlement)
) STRICT;

-- The audit trail: append-only.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    token_id   TEXT,
    mission_id TEXT,
    agent      TEXT,
    user       TEXT,
    tool       TEXT,
    decision   TEXT,
    code       TEXT,
    reason     TEXT,
    score      REAL,
    detail     TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_by_mission ON audit (mission_id, seq);
CREATE INDEX audit_by_token ON audit (token_id, seq);
CREATE INDEX audit_by_agent ON audit (agent, seq);

CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
