-- Resets, quarantine and the cooperative release.
-- Operations gain two kinds (`reset`: an admin's or a release's reset; `restore`: giving a quarantined
-- device back after an admin cleared it), the device they aim at, and a JSON `detail` with what the
-- cooperative release saw (holders, device requests the kernel relayed, escalation). SQLite cannot change
-- a CHECK constraint in place, so `operations` is rebuilt; `operation_steps` (which references it) is
-- copied aside and rebuilt after it, so no foreign key is ever broken on the way.
CREATE TABLE operations_new (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('bind', 'release', 'reset', 'restore')),
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
    actor         TEXT NOT NULL,
    target        TEXT,
    detail        TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO operations_new (id, kind, assignment_id, group_id, state, reason, created_at, started_at, finished_at,
                            error, request_id, actor)
    SELECT id, kind, assignment_id, group_id, state, reason, created_at, started_at, finished_at, error, request_id, actor
    FROM operations;
CREATE TABLE operation_steps_copy AS SELECT * FROM operation_steps;
DROP TABLE operation_steps;
DROP TABLE operations;
ALTER TABLE operations_new RENAME TO operations;
CREATE INDEX operations_unfinished ON operations (state) WHERE state IN ('queued', 'running');
CREATE INDEX operations_assignment ON operations (assignment_id);

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
INSERT INTO operation_steps SELECT * FROM operation_steps_copy;
DROP TABLE operation_steps_copy;

-- How a release treats a holder that keeps the device open.
ALTER TABLE assignments ADD COLUMN callback_url TEXT;
ALTER TABLE assignments ADD COLUMN release_grace_seconds INTEGER NOT NULL DEFAULT 0 CHECK (release_grace_seconds >= 0);
ALTER TABLE assignments ADD COLUMN release_timeout_seconds INTEGER NOT NULL DEFAULT 60 CHECK (release_timeout_seconds >= 0);
ALTER TABLE assignments ADD COLUMN escalation TEXT NOT NULL DEFAULT 'wait' CHECK (escalation IN ('wait', 'terminate', 'kill'));

-- Devices whose reset or restore failed: nobody may lease them until an admin clears them. They stay on
-- vfio-pci (nothing on the host touches a device in an unknown state); clearing restores the driver they
-- had before the lease.
CREATE TABLE quarantine (
    address         TEXT PRIMARY KEY,
    reason          TEXT NOT NULL,
    since           TEXT NOT NULL,
    assignment_id   TEXT REFERENCES assignments (id),
    operation_id    TEXT,
    original_driver TEXT
);
