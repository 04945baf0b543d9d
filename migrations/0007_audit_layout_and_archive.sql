-- The audit history's layout for paging at any depth, and its archive.
--
-- Times follow seq: from this version on vfiod stores each row's time as at least the previous row's
-- (AuditLog.append), so a time range is a seq range, found by a binary search on seq, and the index on
-- time goes. Rows written before this version may be out of order by a few milliseconds (two writers
-- stamped their entries before taking the head); those rows are listed here with the latest time of any
-- row up to them (not_before) and the earliest time of any row from them on (not_after), so the search
-- stays exact for them. Nothing is listed for a history already in order. Rows written later are in
-- order and never listed.
CREATE TABLE audit_time_order (
    seq        INTEGER PRIMARY KEY,
    not_before TEXT    NOT NULL,
    not_after  TEXT    NOT NULL
);
INSERT INTO audit_time_order (seq, not_before, not_after)
SELECT seq, not_before, not_after FROM (
    SELECT seq, time,
           max(time) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS not_before,
           min(time) OVER (ORDER BY seq ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS not_after
      FROM audit)
 WHERE not_before <> time OR not_after <> time;

DROP INDEX audit_time;

-- The action filter finds every spelling of an action (AuditActions.renamed) through one key, so its
-- rows come in seq order from one range of the index (an IN list of spellings would have to be sorted).
-- The expression must stay identical to AuditQuery.currentActionSQL.
DROP INDEX audit_action;
CREATE INDEX audit_current_action ON audit (CASE action WHEN 'lease.expired' THEN 'assignment.expired' WHEN 'lease.lost' THEN 'assignment.lost' WHEN 'lease.reverified' THEN 'assignment.reverified' ELSE action END);

-- The archive: rows moved out of the database into compressed JSON Lines segment files (AuditArchive).
-- One row per segment; the row with the highest last_seq is the checkpoint the rows left verify from.
CREATE TABLE audit_archive (
    last_seq       INTEGER PRIMARY KEY CHECK (last_seq >= 1),
    first_seq      INTEGER NOT NULL CHECK (first_seq >= 1 AND first_seq <= last_seq),
    last_hash      TEXT    NOT NULL CHECK (length(last_hash) = 64),
    segment        TEXT    NOT NULL UNIQUE CHECK (segment <> ''),
    segment_sha256 TEXT    NOT NULL CHECK (length(segment_sha256) = 64),
    segment_bytes  INTEGER NOT NULL CHECK (segment_bytes >= 0),
    archived_at    TEXT    NOT NULL
);

-- Only archived rows may leave: a row is deleted in the transaction that records its segment.
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.seq > (SELECT coalesce(max(last_seq), 0) FROM audit_archive)
BEGIN
    SELECT RAISE(ABORT, 'audit history is append-only: only archived rows may be deleted');
END;

-- The archive table itself is append-only too.
CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON audit_archive
BEGIN
    SELECT RAISE(ABORT, 'the audit archive record is append-only');
END;
CREATE TRIGGER audit_archive_no_delete BEFORE DELETE ON audit_archive
BEGIN
    SELECT RAISE(ABORT, 'the audit archive record is append-only');
END;
