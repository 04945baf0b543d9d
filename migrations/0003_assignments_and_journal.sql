-- Assignments (leases of a whole IOMMU group), the operation journal behind every kernel write,
-- idempotency keys for POST /v1/assignments, and host facts vfiod must remember across restarts.
-- Times are RFC 3339 UTC text with milliseconds.
CREATE TABLE assignments (
    id               TEXT    PRIMARY KEY,
    group_id         INTEGER NOT NULL,
    holder_id        TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('binding', 'active', 'releasing', 'released', 'failed', 'lost')),
    ttl_seconds      INTEGER NOT NULL CHECK (ttl_seconds > 0),
    expires_at       TEXT    NOT NULL,
    reset_on_release INTEGER NOT NULL DEFAULT 0 CHECK (reset_on_release IN (0, 1)),
    generation       INTEGER NOT NULL DEFAULT 1 CHECK (generation >= 1),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    created_by       TEXT    NOT NULL,
    failure          TEXT,
    release_reason   TEXT,
    device_paths     TEXT    NOT NULL DEFAULT '[]',
    boot_id          TEXT
);

-- The rule vfiod exists to keep: exactly one live assignment per IOMMU group. Checked by SQLite inside
-- the creating BEGIN IMMEDIATE transaction, before any kernel write.
CREATE UNIQUE INDEX assignments_one_live_per_group ON assignments (group_id)
    WHERE state IN ('binding', 'active', 'releasing');
CREATE INDEX assignments_state ON assignments (state, id);
CREATE INDEX assignments_holder ON assignments (holder_id, id);
CREATE INDEX assignments_tenant ON assignments (tenant, id);
CREATE INDEX assignments_expiry ON assignments (expires_at) WHERE state = 'active';

-- Every member of the leased group, with the driver it had before vfiod took it.
CREATE TABLE assignment_devices (
    assignment_id   TEXT    NOT NULL REFERENCES assignments (id),
    address         TEXT    NOT NULL,
    original_driver TEXT,
    is_bridge       INTEGER NOT NULL DEFAULT 0 CHECK (is_bridge IN (0, 1)),
    PRIMARY KEY (assignment_id, address)
);
CREATE INDEX assignment_devices_address ON assignment_devices (address);

-- One bind or release of one group.
CREATE TABLE operations (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('bind', 'release')),
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    group_id      INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed',
                                                 'completed_on_recovery', 'rolled_back')),
    reason        TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    error         TEXT,
    request_id    TEXT,
    actor         TEXT NOT NULL
);
CREATE INDEX operations_unfinished ON operations (state) WHERE state IN ('queued', 'running');
CREATE INDEX operations_assignment ON operations (assignment_id);

-- The journal: an intent row is committed before each kernel write, its outcome after it.
CREATE TABLE operation_steps (
    operation_id    TEXT    NOT NULL REFERENCES operations (id),
    seq             INTEGER NOT NULL,
    action          TEXT    NOT NULL,
    device          TEXT,
    original_driver TEXT,
    expected        TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('intent', 'done', 'failed')),
    started_at      TEXT    NOT NULL,
    finished_at     TEXT,
    error           TEXT,
    PRIMARY KEY (operation_id, seq)
);

-- POST /v1/assignments with Idempotency-Key: the first response, replayed for the same key and body.
-- `status` is NULL while the first request is still being answered.
CREATE TABLE idempotency_keys (
    actor         TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER,
    body          BLOB,
    assignment_id TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (actor, key)
);

-- Facts about the host vfiod must compare across restarts (the boot id).
CREATE TABLE host_state (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
