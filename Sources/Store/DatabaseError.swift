internal import CSQLite

/// A failure reported by SQLite, with the database it happened in and, when there was one, the SQL.
///
/// The description reads like a log line: `cannot open database at /x/y.db: unable to open database file`.
public struct DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the store was doing when SQLite failed.
    public enum Operation: String, Sendable, Equatable {
        /// Opening the file (`sqlite3_open_v2`).
        case open
        /// Setting the connection up after opening: pragmas and the busy timeout.
        case configure
        /// Compiling a statement (`sqlite3_prepare_v2`).
        case prepare
        /// Binding a parameter to a prepared statement.
        case bind
        /// Running SQL (`sqlite3_step` or `sqlite3_exec`).
        case execute
    }

    /// What the store was doing.
    public let operation: Operation
    /// SQLite's extended result code (`SQLITE_CANTOPEN` is 14, `SQLITE_CONSTRAINT_UNIQUE` is 2067, …).
    public let code: Int32
    /// SQLite's message (`sqlite3_errmsg`), e.g. "UNIQUE constraint failed: t.x".
    public let message: String
    /// The path the database was opened with.
    public let path: String
    /// The SQL being prepared or run, when there was one.
    public let sql: String?

    /// Makes an error; the store builds these from the connection's state after a failed call.
    public init(operation: Operation, code: Int32, message: String, path: String, sql: String? = nil) {
        self.operation = operation
        self.code = code
        self.message = message
        self.path = path
        self.sql = sql
    }

    /// The primary result code (the low byte of `code`): `SQLITE_CONSTRAINT` is 19, `SQLITE_BUSY` 5.
    public var primaryCode: Int32 { code & 0xFF }

    /// One line saying what failed, where, and SQLite's own words.
    public var description: String {
        switch operation {
        case .open:
            return "cannot open database at \(path): \(message)"
        case .configure:
            return "cannot configure database at \(path): \(message)"
        case .prepare, .bind, .execute:
            var text = "database error at \(path): \(message) (code \(code))"
            if let sql {
                text += " while running: \(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)"
            }
            return text
        }
    }
}

extension DatabaseError {
    /// The error SQLite recorded on `connection` for its last failed call.
    init(_ operation: Operation, connection: OpaquePointer?, path: String, sql: String?) {
        self.init(operation: operation, code: sqlite3_extended_errcode(connection),
                  message: String(cString: sqlite3_errmsg(connection)), path: path, sql: sql)
    }
}
