import Store
import VFIOSimulator
import Workers

/// The kernel worker pool in Prometheus text: queue, busy and stuck threads (an unbind the kernel
/// holds because userspace still has the device open shows up here); and the process's other counters:
/// stuck releases, event streams, the writer's commits, the simulated kernel's CPU.
enum WorkerMetrics {
    /// The releases stuck now under the `wait` escalation policy.
    static func renderReleases(stuck: Int) -> String {
        """
        # HELP vfiod_releases_stuck Releases whose openers kept the devices past releaseTimeoutSeconds (policy wait).
        # TYPE vfiod_releases_stuck gauge
        vfiod_releases_stuck \(stuck)

        """
    }

    /// The event streams open now (a reader that overflowed or left is not counted).
    static func renderEventStreams(_ count: Int) -> String {
        """
        # HELP vfiod_event_streams Event streams (GET /v1/events) open.
        # TYPE vfiod_event_streams gauge
        vfiod_event_streams \(count)

        """
    }

    /// The simulated kernel's own CPU (``SimulatorCPU``): what a benchmark takes off vfiod's. Absent on a real kernel.
    static func renderSimulator(_ cpu: SimulatorCPU) -> String {
        """
        # HELP vfiod_simulator_cpu_seconds_total CPU the simulated kernel spent in its writes, resets and opener searches.
        # TYPE vfiod_simulator_cpu_seconds_total counter
        vfiod_simulator_cpu_seconds_total \(cpu.seconds)
        # HELP vfiod_simulator_calls_total Writes, resets and opener searches the simulated kernel ran.
        # TYPE vfiod_simulator_calls_total counter
        vfiod_simulator_calls_total \(cpu.callCount)

        """
    }

    /// The writer's commits and the write transactions they carried (group commit puts several in one).
    static func renderCommits(_ counts: CommitCounts) -> String {
        """
        # HELP vfiod_store_commits_total SQLite commits of write transactions (each carries one or more).
        # TYPE vfiod_store_commits_total counter
        vfiod_store_commits_total \(counts.commits)
        # HELP vfiod_store_transactions_total Write transactions committed or rolled back.
        # TYPE vfiod_store_transactions_total counter
        vfiod_store_transactions_total \(counts.transactions)

        """
    }

    static func render(_ stats: WorkerPoolStats) -> String {
        """
        # HELP vfiod_worker_threads Threads of the kernel worker pool, stand-ins for stuck threads included.
        # TYPE vfiod_worker_threads gauge
        vfiod_worker_threads \(stats.threads)
        # HELP vfiod_worker_busy Worker threads inside a kernel operation now.
        # TYPE vfiod_worker_busy gauge
        vfiod_worker_busy \(stats.busy)
        # HELP vfiod_worker_queue_depth Operations accepted and waiting for a worker.
        # TYPE vfiod_worker_queue_depth gauge
        vfiod_worker_queue_depth \(stats.queued)
        # HELP vfiod_worker_stuck_jobs Kernel operations running longer than the stuck threshold.
        # TYPE vfiod_worker_stuck_jobs gauge
        vfiod_worker_stuck_jobs \(stats.stuckJobs.count)
        # HELP vfiod_worker_rejected_total Operations refused because the queue was full.
        # TYPE vfiod_worker_rejected_total counter
        vfiod_worker_rejected_total \(stats.rejected)
        # HELP vfiod_worker_completed_total Kernel operations finished.
        # TYPE vfiod_worker_completed_total counter
        vfiod_worker_completed_total \(stats.completed)

        """
    }
}
