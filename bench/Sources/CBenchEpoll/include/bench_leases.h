// The lease benchmark's load client (vfiod-bench leases): one thread, one epoll loop, many keep-alive
// connections, each leasing and releasing its own IOMMU group over and over. Written in C so that the
// client takes as little as possible of the two cores it shares with vfiod.
#ifndef BENCH_LEASES_H
#define BENCH_LEASES_H

#include <stdint.h>

/// What a run of bench_leases did.
typedef struct {
    /// Lifecycles finished (POST → bind succeeded → DELETE → release succeeded).
    long lifecycles;
    /// Lifecycles that went wrong (an unexpected status, an operation that did not succeed, a closed connection).
    long failures;
    /// Wall time of the run, seconds.
    double elapsed;
    /// Lifecycle latency percentiles, milliseconds.
    double p50_ms, p99_ms;
    /// CPU the client's thread used during the run (user and system), seconds.
    double cpu_seconds;
} bench_lease_result;

/// Runs `clients` connections to 127.0.0.1:`port` for `seconds`: client i leases group `first_group + i`
/// (holder `bench-<i>`, tenant `bench`), waits for the bind with `?wait=30`, releases, waits for the
/// release, and starts again; a lifecycle begun before the deadline is finished. Returns 0, or -1 with
/// errno set when the epoll loop itself fails (a connection that fails is a failure, not an error).
int bench_leases(uint16_t port, int clients, int first_group, double seconds, bench_lease_result *result);

#endif
