-- The audit history: append-only and hash-chained, so that an edited or deleted row is detectable.
-- Every row's `hash` is the lowercase hex SHA-256 of `prev_hash` (64 ASCII hex digits) followed by the
-- row's canonical form (see Sources/Store/AuditCanonicalForm.swift and scripts/verify-audit.py);
-- the first row's `prev_hash` is 64 zeros. `seq` is assigned by vfiod as the previous seq + 1, starting
-- at 1, so a gap means a deleted row. Times are RFC 3339 UTC text with milliseconds.
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY CHECK (seq >= 1),
    time          TEXT    NOT NULL,
    actor         TEXT    NOT NULL CHECK (actor <> ''),
    request_id    TEXT,
    action        TEXT    NOT NULL CHECK (action <> ''),
    device        TEXT,
    group_id      INTEGER CHECK (typeof(group_id) IN ('integer', 'null')),
    assignment_id TEXT,
    holder        TEXT,
    tenant        TEXT,
    "before"      TEXT,
    "after"       TEXT,
    detail        TEXT,
    error         TEXT,
    prev_hash     TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash          TEXT    NOT NULL CHECK (length(hash) = 64)
);

-- Filters of the audit listing; each is walked in seq order (the rowid is the last key of every index),
-- so `WHERE device = ? AND seq > ? ORDER BY seq LIMIT n` is a keyset page.
CREATE INDEX audit_time ON audit (time);
CREATE INDEX audit_action ON audit (action);
CREATE INDEX audit_device ON audit (device) WHERE device IS NOT NULL;
CREATE INDEX audit_group ON audit (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX audit_assignment ON audit (assignment_id) WHERE assignment_id IS NOT NULL;
CREATE INDEX audit_holder ON audit (holder) WHERE holder IS NOT NULL;
CREATE INDEX audit_tenant ON audit (tenant) WHERE tenant IS NOT NULL;

-- Append-only: vfiod never changes or removes a row. (These stop mistakes, not someone with write access
-- to the file: the hash chain is what detects that.)
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit history is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit history is append-only');
END;

-- API tokens. Only the SHA-256 of a token is stored (lowercase hex), never the token. Names are unique
-- for ever, revoked tokens included, so an audit row's actor names one token. An operator acts for one
-- tenant and must have it; the other roles may have none.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    role       TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'auditor', 'admin')),
    tenant     TEXT             CHECK (tenant <> ''),
    token_hash TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at TEXT    NOT NULL,
    revoked_at TEXT,
    CHECK (role <> 'operator' OR tenant IS NOT NULL)
);
