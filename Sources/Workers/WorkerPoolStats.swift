import Foundation

/// A job that a thread has been inside for longer than the pool's `stuckAfterSeconds`.
public struct StuckJob: Sendable, Equatable {
    /// The job's key (an IOMMU group), or nil.
    public let key: String?
    /// The job's label, as given to `submit` or `run`.
    public let label: String
    /// When the thread entered the job (wall clock).
    public let since: Date
    /// How long the thread has been inside the job, measured on the monotonic clock.
    public let seconds: Double
}

/// A snapshot of a `WorkerPool`, for /metrics and /readyz.
public struct WorkerPoolStats: Sendable, Equatable {
    /// The pool's name.
    public let name: String
    /// Threads alive now: the base threads plus extra threads, stuck ones included.
    public let threads: Int
    /// The number of threads the pool was created with.
    public let baseThreads: Int
    /// How many jobs may wait; `queued == queueLimit` means the next submission is refused.
    public let queueLimit: Int
    /// How many threads may be alive beyond `baseThreads`.
    public let maxExtraThreads: Int
    /// Threads inside a job now.
    public let busy: Int
    /// Jobs accepted and not yet started (the queue depth `queueLimit` bounds).
    public let queued: Int
    /// For each key with jobs waiting, how many: a key stuck behind a hung job shows up here.
    public let waitingKeys: [String: Int]
    /// Jobs running for longer than `stuckAfterSeconds`, longest first.
    public let stuckJobs: [StuckJob]
    /// Threads alive beyond `baseThreads` (started to replace threads stuck in a job).
    public let extraThreads: Int
    /// Extra threads started since the pool was created (a counter).
    public let extraThreadsStarted: Int
    /// Submissions refused with `queueFull` since the pool was created (a counter).
    public let rejected: Int
    /// Jobs that have returned since the pool was created (a counter).
    public let completed: Int
    /// False once shutdown has begun.
    public let accepting: Bool
}
