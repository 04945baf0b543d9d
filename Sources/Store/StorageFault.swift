internal import CSQLite
import Synchronization

extension DatabaseError {
    /// The file system refused a write: no space left (`SQLITE_FULL`).
    public var isStorageFull: Bool { primaryCode == SQLITE_FULL }

    /// The database cannot be written now for a reason outside vfiod's SQL: the disk is full, an I/O error,
    /// the file or its file system turned read-only, or another process held the lock past the busy
    /// timeout. Writing again later may succeed; a constraint or SQL error never would.
    public var isStorageFault: Bool {
        [SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL]
            .contains(primaryCode)
    }
}

/// Whether the database takes writes: the last write's storage fault, cleared by the next write that
/// commits. Readiness reports it; the lease service retries what it could not journal once it clears.
final class WriteHealth: Sendable {
    private let fault = Mutex<DatabaseError?>(nil)

    /// The storage fault of the last write, `nil` when it committed.
    var current: DatabaseError? { fault.withLock { $0 } }

    /// Notes how a write ended.
    func note<T>(_ result: Result<T, Error>) {
        switch result {
        case .success:
            if current != nil { fault.withLock { $0 = nil } }
        case .failure(let error as DatabaseError) where error.isStorageFault:
            fault.withLock { $0 = error }
        case .failure:
            break
        }
    }
}
