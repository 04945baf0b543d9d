#!/usr/bin/env python3
"""Verify vfiod's audit hash chain independently of vfiod.

Usage: verify-audit.py [--archive DIR] PATH-TO-vfiod.db [EXPECTED-HEAD-HASH]

Reads table `audit` with Python's sqlite3 module (read-only) and checks, in seq order, that seqs run
1, 2, 3, ... without a gap, that each prev_hash is the previous row's hash (64 zeros for seq 1), and
that each hash is

    sha256(prev_hash as ASCII || canonical row).hexdigest()

where the canonical row is the compact JSON object of the columns below, in this order, INTEGER as a
number, TEXT as a string, NULL as null (json.dumps with ensure_ascii=False, separators=(",", ":")).
With EXPECTED-HEAD-HASH, the last row's hash must also equal it (detects rows cut from the end).

Archived rows (vfiod audit archive): the rows in the database chain on from the checkpoint in table
`audit_archive` (the last archived seq and its hash) instead of seq 1. With --archive DIR, the segments
that table names are read from DIR first (each file's SHA-256 as recorded; gzip; one row per line: the
canonical row with "hash" added as its last key), so the whole history is verified from seq 1.

Prints "ok <count> <head-hash>" and exits 0, or "broken at seq <n>: <reason>" and exits 1.
Exit 2: the file or table cannot be read.
"""
import gzip
import hashlib
import json
import os
import sqlite3
import sys

COLUMNS = ["seq", "time", "actor", "request_id", "action", "device", "group_id", "assignment_id",
           "holder", "tenant", "before", "after", "detail", "error", "prev_hash"]
GENESIS = "0" * 64


def canonical(values):
    for name, value in zip(COLUMNS, values):
        if value is not None and not isinstance(value, (int, str)):
            raise ValueError(f"{name} holds a {type(value).__name__}")
    return json.dumps(dict(zip(COLUMNS, values)), ensure_ascii=False, separators=(",", ":"))


def verify(path, expected_head=None, archive=None):
    """Returns (count, head_hash, None) when the chain is valid, else (count, head_hash, (seq, reason))."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        segments = archived_segments(connection)
        start = (1, GENESIS, 0)
        if segments and archive is None:
            start = (segments[-1][2] + 1, segments[-1][3], 0)
        elif segments:
            start = check_segments(archive, segments)
            if len(start) == 4:
                return start[2], start[1], start[3]
        count, head, broken, next_seq = check_rows(connection, start)
    finally:
        connection.close()
    if broken is None and expected_head is not None and head != expected_head:
        broken = (next_seq, f"head is {head}, expected {expected_head} (rows missing at the end?)")
    return count, head, broken


def archived_segments(connection):
    """The archive's segments (name, first seq, last seq, last hash, sha256), oldest first; [] when none."""
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if "audit_archive" not in tables:
        return []
    return list(connection.execute(
        "SELECT segment, first_seq, last_seq, last_hash, segment_sha256 FROM audit_archive ORDER BY last_seq"))


def check_segments(directory, segments):
    """(next seq, previous hash, count) after the segments, or (seq, previous hash, count, (seq, reason))."""
    expected_seq, previous, count = 1, GENESIS, 0
    for name, first, last, last_hash, digest in segments:
        def broken(reason, seq=None):
            return (expected_seq, previous, count, (seq or expected_seq, f"archive segment {name}: {reason}"))
        try:
            with open(os.path.join(directory, name), "rb") as file:
                data = file.read()
        except OSError as error:
            return broken(str(error))
        if hashlib.sha256(data).hexdigest() != digest:
            return broken("its SHA-256 is not the one recorded")
        try:
            lines = gzip.decompress(data).decode("utf-8").splitlines()
        except (OSError, EOFError, UnicodeDecodeError) as error:
            return broken(str(error))
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                return broken("a line is not JSON")
            stored = row.pop("hash", None) if isinstance(row, dict) else None
            if stored is None or list(row) != COLUMNS:
                return broken("a line is not an archived audit row")
            seq = row["seq"]
            if seq != expected_seq:
                return broken(f"seq gap: expected {expected_seq}, found {seq}")
            if row["prev_hash"] != previous:
                return broken(f"prev_hash mismatch: stored {row['prev_hash']}, expected {previous}", seq)
            text = canonical([row[c] for c in COLUMNS])
            if hashlib.sha256(previous.encode("ascii") + text.encode("utf-8")).hexdigest() != stored:
                return broken("hash mismatch", seq)
            expected_seq, previous, count = seq + 1, stored, count + 1
        if expected_seq != last + 1 or previous != last_hash:
            return broken(f"ends at seq {expected_seq - 1}, the checkpoint says {last}")
    return expected_seq, previous, count


def check_rows(connection, start=(1, GENESIS, 0)):
    # Text that is not UTF-8 cannot be what vfiod wrote: read it with U+FFFD for the bad bytes (as
    # vfiod does), so the row fails its hash instead of stopping the read.
    connection.text_factory = lambda data: data.decode("utf-8", "replace")
    select = ", ".join(f'"{c}"' for c in COLUMNS) + ", hash"
    expected_seq, previous, count = start
    for row in connection.execute(f"SELECT {select} FROM audit ORDER BY seq"):
        values, stored = row[:-1], row[-1]
        seq, prev_hash = values[0], values[-1]
        if seq != expected_seq:
            return count, previous, (expected_seq, f"seq gap: expected {expected_seq}, found {seq}"), seq
        if prev_hash != previous:
            return count, previous, (seq, f"prev_hash mismatch: stored {prev_hash}, expected {previous}"), seq
        try:
            text = canonical(values)
        except ValueError as error:
            return count, previous, (seq, str(error)), seq
        computed = hashlib.sha256(prev_hash.encode("ascii") + text.encode("utf-8")).hexdigest()
        if computed != stored:
            return count, previous, (seq, f"hash mismatch: stored {stored}, computed {computed}"), seq
        expected_seq, previous, count = seq + 1, stored, count + 1
    return count, previous, None, expected_seq


def main(argv):
    archive = None
    if len(argv) > 2 and argv[1] == "--archive":
        archive, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        count, head, broken = verify(argv[1], argv[2] if len(argv) == 3 else None, archive)
    except sqlite3.Error as error:
        print(f"cannot read {argv[1]}: {error}", file=sys.stderr)
        return 2
    if broken is not None:
        print(f"broken at seq {broken[0]}: {broken[1]}")
        return 1
    print(f"ok {count} {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
