#!/usr/bin/env python3
"""Times fetching an assignment's descriptors from vfiod's holder socket against opening the same files
directly, in one run (bench/holder-fetch runs it against a simulated host).

Usage: holder-fetch-timing.py SOCKET ASSIGNMENT GENERATION COUNT FILE...
Prints p50 and p99 in microseconds for both, one line each. Standard library only (Python 3.9+).
"""
import os
import socket
import sys
import time


def fetch(path, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(request)
        message, fds, _, _ = socket.recv_fds(sock, 8192, 64)
        while not message.endswith(b"\n"):
            more = sock.recv(8192)
            if not more:
                break
            message += more
        for fd in fds:
            os.close(fd)
    if not message.startswith(b'{"ok":true'):
        raise SystemExit(f"refused: {message!r}")
    return len(fds)


def open_directly(files):
    fds = [os.open(path, os.O_RDWR | os.O_CLOEXEC) for path in files]
    for fd in fds:
        os.close(fd)
    return len(fds)


def percentiles(samples):
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] / 1000, ordered[min(len(ordered) - 1, (len(ordered) * 99) // 100)] / 1000


def measure(count, action):
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        action()
        samples.append(time.perf_counter_ns() - start)
    return percentiles(samples)


def main(argv):
    path, assignment, generation, count, files = argv[0], argv[1], int(argv[2]), int(argv[3]), argv[4:]
    request = f'{{"assignment": "{assignment}", "generation": {generation}}}\n'.encode()
    given = fetch(path, request)
    assert given == len(files), f"the socket gave {given} descriptors for {len(files)} files"
    fetched = measure(count, lambda: fetch(path, request))
    opened = measure(count, lambda: open_directly(files))
    print(f"holder socket fetch ({given} descriptors, audited): p50 {fetched[0]:.0f} us, p99 {fetched[1]:.0f} us ({count} fetches)")
    print(f"open the same files directly:                p50 {opened[0]:.0f} us, p99 {opened[1]:.0f} us ({count} opens)")


if __name__ == "__main__":
    main(sys.argv[1:])
