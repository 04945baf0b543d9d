/// One dedicated OS thread that runs closures one at a time, in submission order: the home of a resource
/// that must never be used concurrently and whose calls block, such as the SQLite connection.
///
/// It is a `WorkerPool` with one thread, no keys and no extra threads, wrapped so that the serial
/// promise is in the type: a stuck call is reported in `stats.stuckJobs` but no second thread ever
/// starts beside it, so everything queued behind it waits (which is what one connection means).
/// Its queue is bounded like the pool's: `run` throws `WorkerPoolError.queueFull` when it is full.
public final class DedicatedExecutor: Sendable {
    private let pool: WorkerPool

    /// Starts the thread "<name>-0" (and the pool's supervisor thread "<name>-watch").
    ///
    /// - Parameters:
    ///   - name: names the thread and the stats.
    ///   - queueLimit: how many calls may wait, at least 1.
    ///   - stuckAfterSeconds: how long one call may run before `stats` reports it stuck.
    public init(name: String, queueLimit: Int, stuckAfterSeconds: Double) {
        pool = WorkerPool(name: name, threads: 1, queueLimit: queueLimit,
                          stuckAfterSeconds: stuckAfterSeconds, maxExtraThreads: 0)
    }

    /// Runs `body` on the executor's thread after every call submitted before it, and returns its
    /// result or rethrows its error. See `WorkerPool.run`.
    public func run<T: Sendable>(label: String = "job", _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.run(key: nil, label: label, body)
    }

    /// Queues `job` to run on the executor's thread after every call submitted before it.
    /// See `WorkerPool.submit`.
    public func submit(label: String = "job", _ job: @escaping @Sendable () -> Void) throws(WorkerPoolError) {
        try pool.submit(key: nil, label: label, job)
    }

    /// A snapshot of the executor's queue and thread.
    public var stats: WorkerPoolStats { pool.stats }

    /// Stops accepting calls, lets queued ones run, and returns the label of a call still running after
    /// `timeout` (or []). See `WorkerPool.shutdown(timeout:)`.
    public func shutdown(timeout: Duration) async -> [String] {
        await pool.shutdown(timeout: timeout)
    }
}
