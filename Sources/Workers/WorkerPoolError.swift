/// Why a `WorkerPool` refused a job.
public enum WorkerPoolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `queueLimit` jobs are already waiting; nothing was queued. Answer 503 with Retry-After.
    case queueFull
    /// The pool is shutting down and accepts no more jobs, or dropped this one unstarted because
    /// shutdown timed out.
    case shuttingDown

    /// A sentence for logs and problem details.
    public var description: String {
        switch self {
        case .queueFull: "the worker queue is full"
        case .shuttingDown: "the worker pool is shutting down"
        }
    }
}
