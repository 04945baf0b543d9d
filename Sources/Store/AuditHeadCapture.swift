import Synchronization

/// The audit head a read saw: set inside a read transaction, so a response can say which audit seq the
/// rows it shows are consistent with (the event stream's `X-Vfiod-Cursor`).
public final class AuditHeadCapture: Sendable {
    private let seq = Mutex<Int64>(0)

    /// An empty capture (seq 0).
    public init() {}

    /// The newest audit seq the read saw.
    public var value: Int64 { seq.withLock { $0 } }

    /// Reads the audit head on `connection`, inside the caller's read transaction.
    public func capture(in connection: Connection) throws {
        let head = try connection.query("SELECT seq FROM audit ORDER BY seq DESC LIMIT 1") { $0.int64(0) }.first ?? 0
        seq.withLock { $0 = head }
    }
}
