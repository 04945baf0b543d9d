internal import CSQLite

/// A compiled SQL statement: bind parameters, then step through its rows.
///
/// Made by `Connection.prepare(_:)`; like its connection, use it only while the database lock is held.
public final class Statement {
    /// SQLite's statement; finalized in `deinit`.
    let handle: OpaquePointer
    /// The database path, for error messages.
    let path: String
    /// The SQL text, for error messages.
    public let sql: String

    init(handle: OpaquePointer, path: String, sql: String) {
        self.handle = handle
        self.path = path
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Number of `?` parameters.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Binds `values` to parameters 1, 2, … in order; there must be exactly one per parameter.
    public func bind(_ values: [SQLValue]) throws {
        guard values.count == parameterCount else {
            throw DatabaseError(operation: .bind, code: SQLITE_RANGE,
                                message: "\(values.count) values for \(parameterCount) parameters",
                                path: path, sql: sql)
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: offset + 1)
        }
    }

    /// Binds `values` to parameters 1, 2, … in order.
    public func bind(_ values: SQLValue...) throws {
        try bind(values)
    }

    /// Binds one value to the parameter at `index` (1-based, as in SQLite).
    public func bind(_ value: SQLValue, at index: Int) throws {
        let position = Int32(index)
        let code: Int32
        switch value {
        case .integer(let number):
            code = sqlite3_bind_int64(handle, position, number)
        case .real(let number):
            code = sqlite3_bind_double(handle, position, number)
        case .text(let text):
            // SQLITE_TRANSIENT: SQLite copies the bytes before returning, so the buffer that withCString
            // lends may go away afterwards. The explicit length keeps embedded NULs.
            code = text.withCString { sqlite3_bind_text(handle, position, $0, Int32(text.utf8.count), csqlite_transient()) }
        case .blob(let bytes) where bytes.isEmpty:
            // A nil pointer would bind NULL; an empty blob is a zero-length blob.
            code = sqlite3_bind_zeroblob(handle, position, 0)
        case .blob(let bytes):
            // SQLITE_TRANSIENT: SQLite copies `count` bytes from the non-nil base address before returning.
            code = bytes.withUnsafeBytes {
                sqlite3_bind_blob(handle, position, $0.baseAddress, Int32($0.count), csqlite_transient())
            }
        case .null:
            code = sqlite3_bind_null(handle, position)
        }
        guard code == SQLITE_OK else { throw currentError(.bind) }
    }

    /// Advances to the next row: `true` when one is available (read it with `row`), `false` when done.
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = currentError(.execute)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// The current row, valid until the next `step()` or `reset()`.
    public var row: Row { Row(statement: self) }

    /// Steps until done, ignoring rows: for `INSERT`, `UPDATE`, `DELETE` and DDL.
    public func run() throws {
        while try step() {}
        sqlite3_reset(handle)
    }

    /// Calls `body` with each row in turn, then resets the statement.
    public func forEachRow(_ body: (Row) throws -> Void) throws {
        defer { sqlite3_reset(handle) }
        while try step() {
            try body(Row(statement: self))
        }
    }

    /// Maps each row to a value.
    public func map<T>(_ transform: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEachRow { result.append(try transform($0)) }
        return result
    }

    /// The connection's current error. sqlite3_db_handle assumes nothing: it returns the connection this
    /// statement was prepared on, which sqlite3_close_v2 keeps alive until the statement is finalized.
    private func currentError(_ operation: DatabaseError.Operation) -> DatabaseError {
        DatabaseError(operation, connection: sqlite3_db_handle(handle), path: path, sql: sql)
    }

    /// Rewinds the statement so it can run again and clears its bindings to NULL.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }
}
