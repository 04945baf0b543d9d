/// How a transaction on one `Connection` takes SQLite's locks (`BEGIN DEFERRED|IMMEDIATE`). `Database` calls
/// pick it themselves: `read` is deferred, `write` immediate.
public enum TransactionKind: Sendable {
    /// Locks on first use: a read-only transaction never blocks writers. A deferred transaction that reads
    /// and then writes can fail with `SQLITE_BUSY` when another connection wrote in between.
    case deferred
    /// Takes the write lock at `BEGIN` (waiting up to the busy timeout): use for every transaction that
    /// writes.
    case immediate

    var beginSQL: String {
        switch self {
        case .deferred: "BEGIN DEFERRED"
        case .immediate: "BEGIN IMMEDIATE"
        }
    }
}
