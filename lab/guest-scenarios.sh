#!/usr/bin/env bash
# The lab's default guest command: vfiod's scenario suite against real Linux (lab/run runs it in the guest,
# chrooted into the host root, cwd = the repo; LAB_* variables are described in lab/README.md). The same
# suite runs against the simulated kernel in `swift test` (Tests/ScenarioTests, examples/topologies/qemu-lab.json).
# Contract: one line per scenario on stdout,
#   scenario NAME: pass
#   scenario NAME: fail: REASON
#   scenario NAME: skip: REASON
# (notes on stderr); the runner exits non-zero when a scenario failed.
# VFIOD_LAB_GUEST_SCENARIOS=a,b (on the host) runs only those scenarios; VFIOD_LAB_GUEST_TIMING_CYCLES=N sets
# how many leases lease-timing times per target (default 20). Its table lands in $LAB_RESULTS/lease-timing.txt.
set -u
work=/tmp/vfiod-scenarios
mkdir -p "$work"
only=()
[ -n "${SCENARIOS:-}" ] && only=(--only "$SCENARIOS")
exec "$LAB_BUILD/vfiod-scenarios" --linux --vfiod "$LAB_VFIOD" --opener "$LAB_OPENER" --work "$work" \
    --results "$LAB_RESULTS" --timing-cycles "${TIMING_CYCLES:-20}" "${only[@]}"
