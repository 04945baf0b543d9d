internal import CSQLite

/// The current row of a `Statement`, read by column index (0-based, as in SQLite).
///
/// Valid only until its statement steps again. Non-optional getters follow SQLite's conversions (NULL
/// reads as 0, 0.0, "" or empty bytes); use the `nullable…` getters or `isNull(_:)` for nullable columns.
public struct Row {
    /// The statement whose current row this is.
    let statement: Statement

    private var handle: OpaquePointer { statement.handle }

    /// Number of columns in the result.
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The column's name as written in the query (`AS` alias if any).
    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// Whether the column holds NULL.
    public func isNull(_ index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// The column as a 64-bit integer.
    public func int64(_ index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(index))
    }

    /// The column as a double.
    public func double(_ index: Int) -> Double {
        sqlite3_column_double(handle, Int32(index))
    }

    /// The column as text (UTF-8; invalid sequences are repaired).
    public func string(_ index: Int) -> String {
        // sqlite3_column_text returns a pointer owned by SQLite, valid until the next step/reset or a type
        // conversion of this column; sqlite3_column_bytes must be called after it to give the text length.
        guard let text = sqlite3_column_text(handle, Int32(index)) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The column as bytes.
    public func blob(_ index: Int) -> [UInt8] {
        // sqlite3_column_blob's pointer is valid until the next step/reset; the bytes are copied out now.
        // It is nil for NULL and for zero-length blobs.
        guard let bytes = sqlite3_column_blob(handle, Int32(index)) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// The column as an integer, nil for NULL.
    public func nullableInt64(_ index: Int) -> Int64? { isNull(index) ? nil : int64(index) }


    /// The column as text, nil for NULL.
    public func nullableString(_ index: Int) -> String? { isNull(index) ? nil : string(index) }

    /// The column as bytes, nil for NULL.
    public func nullableBlob(_ index: Int) -> [UInt8]? { isNull(index) ? nil : blob(index) }

    /// The column with its storage class.
    public func value(_ index: Int) -> SQLValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        case SQLITE_TEXT: .text(string(index))
        case SQLITE_BLOB: .blob(blob(index))
        default: .null
        }
    }
}
