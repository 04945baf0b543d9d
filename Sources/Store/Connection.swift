internal import CSQLite

/// One open SQLite connection, used only while its `Database`'s lock is held.
///
/// A `Connection` is handed to the closures of `Database.read`, `Database.write` and `Database.withConnection`; it is
/// not `Sendable` and must not be kept after the closure returns. Everything on it runs on the calling
/// thread and blocks it (disk I/O, and up to the busy timeout when another process holds the write lock).
public final class Connection {
    /// SQLite's connection; owned by this object, closed in `deinit`.
    let handle: OpaquePointer
    /// The path the database was opened with, for error messages.
    public let path: String
    /// Prepared statements by SQL text, reused by `cachedStatement(_:)`.
    private var statementCache: [String: Statement] = [:]
    /// The audit rows `AuditLog.append` added in the open write transaction, in seq order, kept for the
    /// writer's commit observer (`GroupCommit` hands them on once they committed and drops those a
    /// rollback undid); `nil` on connections that keep none.
    var appendedAudit: [AuditRecord]?
    /// The newest audit row (seq, hash, stored time) as the last `AuditLog.append` left it, for the next
    /// append in the same write transaction: kept only inside the writer's group transactions, where no
    /// one else can write, and forgotten by `GroupCommit` at their start and end and on every rollback.
    var auditHead: AuditHead?
    /// Whether `auditHead` may be kept (set by `GroupCommit` while a group transaction is open).
    var keepsAuditHead = false

    init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    deinit {
        // The cached statements are finalized first. sqlite3_close_v2 assumes nothing of statements that
        // escaped: it leaves the connection a "zombie" until they are finalized, instead of failing.
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more `;`-separated SQL statements that take no parameters (`sqlite3_exec`).
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard code == SQLITE_OK else {
            // sqlite3_exec allocates the message with sqlite3_malloc; it must be freed with sqlite3_free.
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(errorMessage)
            throw DatabaseError(operation: .execute, code: sqlite3_extended_errcode(handle), message: message,
                                path: path, sql: sql)
        }
    }

    /// Compiles one SQL statement; bind its `?` parameters and step it. The first statement of `sql` is
    /// compiled: text after it is rejected so a typo cannot silently drop a statement.
    public func prepare(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let code = sql.withCString { text in
            // -1: SQLite reads up to the NUL that withCString guarantees; tail points into `text`, so it
            // is inspected before the closure returns.
            let code = sqlite3_prepare_v2(handle, text, -1, &statement, &tail)
            if code == SQLITE_OK, let tail, !String(cString: tail).allSatisfy(\.isWhitespace) {
                return SQLITE_MISUSE
            }
            return code
        }
        guard code == SQLITE_OK, let statement else {
            if code == SQLITE_MISUSE {
                sqlite3_finalize(statement)
                throw DatabaseError(operation: .prepare, code: SQLITE_MISUSE,
                                    message: "more than one statement: use execute(_:) for scripts",
                                    path: path, sql: sql)
            }
            if code == SQLITE_OK {
                throw DatabaseError(operation: .prepare, code: SQLITE_MISUSE,
                                    message: "no statement: the SQL is empty or only comments", path: path, sql: sql)
            }
            throw error(.prepare, sql: sql)
        }
        return Statement(handle: statement, path: path, sql: sql)
    }

    /// A prepared statement for `sql` kept for reuse: reset and with its bindings cleared. Use it for
    /// statements run often; do not hold it across another `cachedStatement(_:)` call for the same SQL.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs a statement with parameters to completion and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ bindings: SQLValue...) throws -> Int {
        try run(sql, bindings: bindings)
    }

    /// Runs a statement with parameters to completion and returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, bindings: [SQLValue]) throws -> Int {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        try statement.run()
        return changes
    }

    /// Runs a query with parameters and maps each row.
    public func query<T>(_ sql: String, bindings: [SQLValue] = [], map transform: (Row) throws -> T) throws -> [T] {
        let statement = try cachedStatement(sql)
        try statement.bind(bindings)
        return try statement.map(transform)
    }

    /// The rowid of the most recent successful `INSERT` on this connection (`sqlite3_last_insert_rowid`).
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the most recent `INSERT`, `UPDATE` or `DELETE` (`sqlite3_changes`).
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether a transaction is open (`sqlite3_get_autocommit` is 0 inside one).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it (or the commit) throws.
    /// Transactions do not nest: `BEGIN` inside one fails with SQLite's "cannot start a transaction within
    /// a transaction".
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .deferred, _ body: (Connection) throws -> T) throws -> T {
        try execute(kind.beginSQL)
        do {
            let result = try body(self)
            try execute("COMMIT")
            return result
        } catch {
            // SQLite may already have rolled back (e.g. after SQLITE_FULL); the first error is the one to
            // report, so a failing ROLLBACK is ignored.
            if isInTransaction {
                try? execute("ROLLBACK")
            }
            throw error
        }
    }

    /// The connection's current error as a `DatabaseError`.
    func error(_ operation: DatabaseError.Operation, sql: String?) -> DatabaseError {
        DatabaseError(operation, connection: handle, path: path, sql: sql)
    }
}
