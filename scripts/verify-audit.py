#!/usr/bin/env python3
"""Verify vfiod's audit hash chain independently of vfiod.

Usage: verify-audit.py PATH-TO-vfiod.db [EXPECTED-HEAD-HASH]

Reads table `audit` with Python's sqlite3 module (read-only) and checks, in seq order, that seqs run
1, 2, 3, ... without a gap, that each prev_hash is the previous row's hash (64 zeros for seq 1), and
that each hash is

    sha256(prev_hash as ASCII || canonical row).hexdigest()

where the canonical row is the compact JSON object of the columns below, in this order, INTEGER as a
number, TEXT as a string, NULL as null (json.dumps with ensure_ascii=False, separators=(",", ":")).
With EXPECTED-HEAD-HASH, the last row's hash must also equal it (detects rows cut from the end).

Prints "ok <count> <head-hash>" and exits 0, or "broken at seq <n>: <reason>" and exits 1.
Exit 2: the file or table cannot be read.
"""
import hashlib
import json
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


def verify(path, expected_head=None):
    """Returns (count, head_hash, None) when the chain is valid, else (count, head_hash, (seq, reason))."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count, head, broken, next_seq = check_rows(connection)
    finally:
        connection.close()
    if broken is None and expected_head is not None and head != expected_head:
        broken = (next_seq, f"head is {head}, expected {expected_head} (rows missing at the end?)")
    return count, head, broken


def check_rows(connection):
    # Text that is not UTF-8 cannot be what vfiod wrote: read it with U+FFFD for the bad bytes (as
    # vfiod does), so the row fails its hash instead of stopping the read.
    connection.text_factory = lambda data: data.decode("utf-8", "replace")
    select = ", ".join(f'"{c}"' for c in COLUMNS) + ", hash"
    expected_seq, previous, count = 1, GENESIS, 0
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
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        count, head, broken = verify(argv[1], argv[2] if len(argv) == 3 else None)
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
