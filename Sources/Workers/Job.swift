import Foundation

/// One unit of work as the pool holds it, from `submit` until a thread has run it.
struct Job: Sendable {
    /// Jobs with the same key run one at a time, in submission order; nil: no serialisation.
    let key: String?
    /// What the job is, for the stuck-job report ("unbind 0000:41:00.0").
    let label: String
    /// The work; runs on a pool thread.
    let work: @Sendable () -> Void
    /// Runs instead of `work` when the pool drops the job unstarted (shutdown timed out), so a caller
    /// awaiting it is not left waiting forever.
    let discard: (@Sendable () -> Void)?
}

/// A job a thread is inside, for stuck detection and `WorkerPoolStats`.
struct RunningJob {
    /// The job's key.
    let key: String?
    /// The job's label.
    let label: String
    /// When the thread entered the job, on the monotonic clock.
    let startedNanoseconds: UInt64
    /// When the thread entered the job, on the wall clock, for reports.
    let since: Date
}
