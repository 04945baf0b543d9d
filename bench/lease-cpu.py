#!/usr/bin/env python3
"""vfiod's CPU per lease lifecycle, for bench/run's lease phase (not a test).

  lease-cpu.py OUT LIFECYCLES LOAD STEPS AUDIT   from OUT/threads0, threads1 (CPU ticks by thread name, "all"
                                                 for the process) and OUT/counters0, counters1 (vfiod_simulator_*
                                                 and vfiod_store_* from /metrics), taken around the load
  lease-cpu.py OUT LIFECYCLES ratio              the committer's CPU per lifecycle (OUT/cpu.txt) against the
                                                 same-rows replay at the same commits per lifecycle (OUT/raw.txt)
"""
import re
import sys


def pairs(path):
    with open(path) as lines:
        return {key: float(value) for key, value in (line.split() for line in lines if len(line.split()) == 2)}


def usage(out, n, load, steps, audit):
    t0, t1 = pairs(f"{out}/threads0"), pairs(f"{out}/threads1")
    c0, c1 = pairs(f"{out}/counters0"), pairs(f"{out}/counters1")

    def ms(*names):  # CPU ticks are 1/100 s
        return sum(t1.get(name, 0) - t0.get(name, 0) for name in names) * 10 / n

    def per(name):
        return (c1.get(name, 0) - c0.get(name, 0)) / n

    total, simulator = ms("all"), per("vfiod_simulator_cpu_seconds_total") * 1000
    pool = [name for name in t1 if "qos" in name]  # Swift's cooperative pool: "oot.default-qos", "-qos.overcommit"
    print(f"vfiod CPU per lifecycle (load average {load} at the start): {total:.2f} ms, all threads; "
          f"the simulated kernel's own {simulator:.2f} ms; vfiod without it {total - simulator:.2f} ms")
    print(f"  by thread: committer {ms('vfiod-commit'):.2f}, kernel workers {ms('vfiod-kernel'):.2f} (the simulator's "
          f"share is in these), HTTP (libmicrohttpd {ms('MHD-worker'):.2f}, Swift's pool {ms(*pool):.2f}), audit tail "
          f"{ms('vfiod-events'):.2f}, readers {ms('vfiod-sqlite'):.2f}, inventory {ms('vfiod-inventory'):.2f}, "
          f"checkpointer {ms('wal-checkpoint'):.2f}")
    commits, transactions = per("vfiod_store_commits_total"), per("vfiod_store_transactions_total")
    print(f"per lifecycle: {transactions:.1f} write transactions in {commits:.2f} commits, {steps} journaled steps, "
          f"{audit} audit rows; committer {ms('vfiod-commit'):.3f} ms")


def ratio(out):
    committer = float(re.search(r"committer ([0-9.]+) ms", open(f"{out}/cpu.txt").read()).group(1))
    replay = float(re.search(r"committer made them: .*?([0-9.]+) ms of CPU per lifecycle", open(f"{out}/raw.txt").read()).group(1))
    print(f"committer {committer:.2f} ms of CPU per lifecycle, the replay of the same rows at the same commits "
          f"{replay:.2f} ms: {committer / max(replay, 0.001):.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[3] == "ratio":
        ratio(sys.argv[1])
    elif len(sys.argv) == 6:
        usage(sys.argv[1], max(1, int(sys.argv[2])), *sys.argv[3:])
    else:
        sys.exit(__doc__)
