internal import CSQLite
import Foundation

/// vfiod's SQLite database: one writer connection, used by one thread at a time, and a read-only one.
///
/// Any thread may call it: a caller waits for the one before it, and write transactions of threads that
/// arrive together commit together (``GroupCommit``). Every call blocks the calling thread (disk I/O, and
/// up to the 5 s busy timeout while another process holds the write lock), so call it from worker
/// threads, never from tasks on Swift's cooperative pool, except `write(_:)`, which suspends the task.
///
/// Opening sets `journal_mode=WAL` (readers do not block the writer), `foreign_keys=ON`,
/// `synchronous=NORMAL` (a commit survives a crash of vfiod; the last commits may be lost on power loss),
/// `temp_store=MEMORY` and a busy timeout of 5000 ms.
public final class Database: Sendable {
    /// The path the database was opened with.
    public let path: String
    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    public static let busyTimeoutMilliseconds: Int32 = 5000

    /// Only touched by the thread `writer` handed it to.
    nonisolated(unsafe) private let connection: Connection
    /// Hands `connection` out, one thread at a time, and group-commits transactions. A `Database` call
    /// made inside a `withConnection` or `transaction` closure on the same thread runs at once (nested).
    let writer: GroupCommit
    /// How many read-only connections ``read(_:)`` may open.
    static let readConnections = 4
    /// Read-only connections for ``read(_:)``: in WAL mode their readers see the last commit and never
    /// wait for the writer (nor it for them), nor for each other up to `readConnections`. `nil` when none
    /// could be opened: reads then share the writer's connection.
    private let readers: ReadConnections?
    /// Whether writes commit now (``writeFault``).
    private let health = WriteHealth()

    /// Opens the database at `path`, creating the file if missing (not its directory), and configures the
    /// connection. Throws `DatabaseError` naming the path and SQLite's message, e.g.
    /// "cannot open database at /x/y.db: unable to open database file".
    public init(path: String) throws {
        _ = Self.configureSQLiteOnce
        self.path = path
        var handle: OpaquePointer?
        // FULLMUTEX: SQLite serializes too, so a Statement used outside the lock by mistake cannot corrupt
        // the connection. The handle is set even when opening fails and must then be closed.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = DatabaseError(.open, connection: handle, path: path, sql: nil)
            sqlite3_close_v2(handle)
            throw error
        }
        let connection = Connection(handle: handle, path: path)
        try Self.configure(connection, path: path)
        self.connection = connection
        writer = GroupCommit(connection: connection)
        readers = Self.openReader(path).map { first in
            ReadConnections(first: first, capacity: Self.readConnections) { Self.openReader(path) }
        }
    }

    /// Process-wide SQLite settings, applied once before the first connection opens (SQLite refuses
    /// them after it initialised; that refusal only costs speed, so it is ignored).
    private static let configureSQLiteOnce: Void = {
        _ = csqlite_disable_memory_statistics()
    }()

    /// Opens the read-only connection (the file exists and is in WAL mode by now).
    private static func openReader(_ path: String) -> Connection? {
        var handle: OpaquePointer?
        // A read-only, serialized connection to the same file; closed again if SQLite refuses it.
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nil) == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            return nil
        }
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        return Connection(handle: handle, path: path)
    }

    /// Runs `body` in a read transaction on a read-only connection: one consistent snapshot of the last
    /// commit, without waiting for (or holding up) a write in progress. Writes in `body` fail.
    @discardableResult
    public func read<T>(_ body: (Connection) throws -> T) throws -> T {
        guard let readers else { return try withConnection(body) }
        return try readers.with { try $0.transaction(.deferred, body) }
    }

    private static func configure(_ connection: Connection, path: String) throws {
        sqlite3_extended_result_codes(connection.handle, 1)
        sqlite3_busy_timeout(connection.handle, busyTimeoutMilliseconds)
        do {
            // journal_mode answers with the mode now in force: a file system without shared memory, or a
            // database another process opened in another mode, can refuse WAL.
            let mode = try connection.prepare("PRAGMA journal_mode=WAL").map { $0.string(0) }.first
            guard mode?.lowercased() == "wal" else {
                throw DatabaseError(operation: .configure, code: SQLITE_ERROR,
                                    message: "journal_mode is \(mode ?? "unknown"), not wal", path: path)
            }
            // temp_store=MEMORY: the statement journals of savepoints (group commit) stay in memory
            // instead of spilling to temporary files.
            try connection.execute("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY")
        } catch let error as DatabaseError where error.operation != .configure {
            throw DatabaseError(operation: .configure, code: error.code, message: error.message, path: path)
        }
    }

    /// Runs `body` with the connection to itself; no transaction is opened (an open group of write
    /// transactions is committed first).
    @discardableResult
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        try writer.exclusive(body)
    }

    /// Runs `body` in a write transaction: returns once its changes committed, undoes them when it throws.
    /// Blocks the calling thread (a worker's, the store's), never call it from a task: tasks use the async
    /// `write(_:)`.
    ///
    /// Transactions of threads that arrive together share one SQLite transaction (`BEGIN IMMEDIATE`), each
    /// body in a savepoint of its own: a body that throws undoes only its changes, and every caller returns
    /// only after the shared `COMMIT`, whose error it rethrows. Bodies run one at a time, so each sees every
    /// change committed or made before it.
    @discardableResult
    public func write<T>(_ body: (Connection) throws -> T) throws -> T {
        let result = Result { try writer.transaction(body) }
        health.note(result)
        return try result.get()
    }

    /// Sets the function called after each successful `COMMIT` of a write transaction, on the committer
    /// thread, before the writers are woken, with the audit rows that commit stored (`AuditLog.append`), in
    /// seq order. Rows committed otherwise (another process, `withConnection`) are not passed: they show
    /// as a gap in seq. It must not block (hand the rows to another thread and return): every write waits
    /// for it. Replaces the previous observer.
    public func observeCommits(_ observer: @escaping @Sendable (_ auditRows: [AuditRecord]) -> Void) {
        writer.observeCommits(observer)
    }

    /// The write transactions run so far and the SQLite commits that carried them (several to a commit
    /// under load: group commit).
    public var commitCounts: CommitCounts { writer.counts }

    /// The storage fault (``DatabaseError/isStorageFault``) that made the last write fail — a full disk, an
    /// I/O error, a read-only file — or `nil` when the last write committed.
    public var writeFault: DatabaseError? { health.current }

    /// Runs `body` in a write transaction like the blocking `write(_:)`, suspending the calling task, never its
    /// thread, until the transaction committed: the one way to write from Swift's cooperative pool.
    /// `body` runs on the committer thread and must not block on anything but the connection.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { [health] continuation in
            writer.transaction(body) { result in
                health.note(result)
                continuation.resume(with: result)
            }
        }
    }

    /// Runs one or more `;`-separated SQL statements without parameters.
    public func execute(_ sql: String) throws {
        try withConnection { try $0.execute(sql) }
    }

    /// Runs one statement with parameters and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: SQLValue...) throws -> Int {
        try withConnection { try $0.run(sql, bindings: bindings) }
    }

    /// Runs a query with parameters and maps each row.
    public func query<T>(_ sql: String, _ bindings: SQLValue..., map transform: (Row) throws -> T) throws -> [T] {
        try withConnection { try $0.query(sql, bindings: bindings, map: transform) }
    }
}
