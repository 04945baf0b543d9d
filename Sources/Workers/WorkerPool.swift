/// A fixed set of dedicated OS threads with a bounded queue, for work that blocks: sysfs writes (an
/// unbind can block for as long as a process holds the device), ioctls, SQLite calls. Nothing here ever
/// runs on Swift's cooperative pool.
///
/// - Keys: jobs with the same non-nil key (an IOMMU group) run one at a time, in submission order;
///   jobs with different keys run in parallel; jobs with a nil key are not serialised at all. A job must
///   not wait for a later job of its own key (it would wait forever).
/// - Bound: at most `queueLimit` jobs wait (accepted, not started; keyed jobs waiting behind their key
///   count too). One more is refused with `WorkerPoolError.queueFull`: answer 503 with Retry-After.
/// - Stuck jobs: a job inside its thread for longer than `stuckAfterSeconds` is reported in
///   `stats.stuckJobs`. When a job is waiting, every thread is busy, and more threads are stuck than
///   extra threads stand in for them, the pool starts an extra thread (at most `maxExtraThreads` alive
///   beyond the base). A stuck thread is never killed; when its job returns it rejoins the pool. Threads
///   beyond the base exit as soon as they find nothing to run.
/// - Shutdown: `shutdown(timeout:)`, or dropping the last reference to the pool, stops new jobs; queued
///   and running jobs finish, then the threads exit.
///
/// For one serial thread (a SQLite connection) use `DedicatedExecutor`.
public final class WorkerPool: Sendable {
    private let core: PoolCore

    /// Starts `threads` worker threads named "<name>-0", "<name>-1", … and a supervisor thread
    /// "<name>-watch" (names cut to 15 bytes).
    ///
    /// - Parameters:
    ///   - name: names the threads and the stats.
    ///   - threads: base worker threads, at least 1.
    ///   - queueLimit: how many jobs may wait, at least 1.
    ///   - stuckAfterSeconds: how long a thread may be inside one job before the job counts as stuck.
    ///   - maxExtraThreads: how many threads may be alive beyond `threads` to stand in for stuck ones
    ///     (0: never; a stuck job then holds its thread and the queue behind it waits).
    public init(name: String, threads: Int, queueLimit: Int, stuckAfterSeconds: Double, maxExtraThreads: Int) {
        precondition(threads >= 1, "a worker pool needs at least one thread")
        precondition(queueLimit >= 1, "a worker pool needs room for at least one waiting job")
        precondition(maxExtraThreads >= 0, "maxExtraThreads cannot be negative")
        core = PoolCore(name: name, threads: threads, queueLimit: queueLimit,
                        stuckAfterSeconds: stuckAfterSeconds, maxExtraThreads: maxExtraThreads)
        core.start()
    }

    deinit {
        // Nobody can submit any more: let the threads finish what is queued and exit.
        core.beginShutdown()
    }

    /// The pool's name.
    public var name: String { core.name }

    /// Queues `job` to run on a pool thread and returns at once.
    ///
    /// - Parameters:
    ///   - key: jobs with the same key run one at a time in submission order; nil for no serialisation.
    ///   - label: what the job is, for `stats.stuckJobs` and `shutdown`'s report ("unbind 0000:41:00.0").
    /// - Throws: `.queueFull` when `queueLimit` jobs are already waiting, `.shuttingDown` after shutdown
    ///   began. A refused job is not queued and never runs.
    ///
    /// A job dropped unstarted because shutdown timed out never runs either, silently: use `run` when the
    /// caller must hear of that.
    public func submit(key: String?, label: String = "job",
                       _ job: @escaping @Sendable () -> Void) throws(WorkerPoolError) {
        try core.submit(Job(key: key, label: label, work: job, discard: nil))
    }

    /// Runs `body` on a pool thread and returns its result (or rethrows its error) without blocking the
    /// calling task's thread: the continuation is resumed from the worker thread.
    ///
    /// Throws `WorkerPoolError.queueFull` or `.shuttingDown` when the job is refused, and `.shuttingDown`
    /// when shutdown timed out before it started. Cancelling the calling task neither removes nor stops
    /// the job: `run` still waits for it, since the kernel work it does cannot be taken back halfway.
    public func run<T: Sendable>(key: String?, label: String = "job",
                                 _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(key: key, label: label, work: {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }, discard: {
                continuation.resume(throwing: WorkerPoolError.shuttingDown)
            })
            do {
                try core.submit(job)
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// A snapshot: threads, busy, queued, waiting keys, stuck jobs, extra threads, counters.
    public var stats: WorkerPoolStats { core.stats() }

    /// Jobs accepted and not yet started.
    public var queueDepth: Int { stats.queued }

    /// For each key with jobs waiting, how many.
    public var waitingKeys: [String: Int] { stats.waitingKeys }

    /// Stops accepting jobs (`submit` and `run` throw `.shuttingDown` from now on) without waiting.
    /// Queued and running jobs go on. `shutdown(timeout:)` afterwards waits for them.
    public func beginShutdown() {
        core.beginShutdown()
    }

    /// Stops accepting jobs and waits, without blocking a thread, until queued and running jobs have
    /// finished and every thread has exited; then returns [].
    ///
    /// If that takes longer than `timeout`, returns the labels of the jobs still running, longest-running
    /// first. Their threads are abandoned, not joined: each exits if its job ever returns. Jobs not yet
    /// started are dropped (`run` callers get `.shuttingDown`). Calling it again returns at once with
    /// the jobs still running if an earlier call timed out, else waits with its own timeout.
    public func shutdown(timeout: Duration) async -> [String] {
        await core.shutdown(timeout: timeout)
    }
}
