import Foundation

/// An `audit` row as stored: every column but `hash` with its SQLite storage class, and the stored
/// `hash`. Verification, listing and export all read rows through this.
///
/// **The canonical form** a row's hash covers is one line of compact JSON (UTF-8, no whitespace, no
/// trailing newline): an object with exactly these keys, in this order, each the column of that name:
///
///     seq, time, actor, request_id, action, device, group_id, assignment_id, holder, tenant,
///     before, after, detail, error, prev_hash
///
/// An INTEGER value is written in decimal, a TEXT value as a JSON string (escaped as `JSONText` says,
/// which is Python's `json.dumps(value, ensure_ascii=False)`), NULL as `null`. `before` and `after` are
/// TEXT (their stored JSON, as a string): the hash covers the bytes stored, not a re-encoding. A REAL or
/// BLOB value has no canonical form: such a row cannot verify. Then
///
///     hash = lowercase hex SHA-256( ASCII bytes of prev_hash ‖ canonical form )
///
/// In Python: `json.dumps(dict(zip(COLUMNS, values)), ensure_ascii=False, separators=(",", ":"))`.
struct StoredAuditRow {
    /// The hashed columns, in canonical order; also the order of `values`.
    static let columns = ["seq", "time", "actor", "request_id", "action", "device", "group_id", "assignment_id",
                          "holder", "tenant", "before", "after", "detail", "error", "prev_hash"]

    /// The select list that `init(_ row:)` reads: the hashed columns, then `hash`.
    static let selectList = columns.map { "\"\($0)\"" }.joined(separator: ", ") + ", hash"

    /// The first row's `prev_hash`.
    static let genesisHash = String(repeating: "0", count: 64)

    /// The hashed columns' values, in `columns` order.
    let values: [SQLValue]
    /// The stored hash (for a row about to be inserted: the computed one).
    let hash: String

    /// Reads a row selected with `selectList`.
    init(_ row: Row) {
        var values: [SQLValue] = []
        values.reserveCapacity(Self.columns.count)
        for index in Self.columns.indices { values.append(row.value(index)) }
        self.values = values
        hash = row.string(Self.columns.count)
    }

    /// The row `entry` becomes at `seq` after `prevHash`, with its hash computed; its time is `notBefore`
    /// (the previous row's) when the entry's is earlier.
    init(seq: Int64, entry: AuditEntry, prevHash: String, notBefore: String? = nil) {
        var time = Timestamp.format(entry.time)
        if let notBefore, notBefore > time { time = notBefore }
        values = [
            .integer(seq), .text(time), .text(entry.actor), SQLValue(entry.requestID),
            .text(entry.action), SQLValue(entry.device), SQLValue(entry.group), SQLValue(entry.assignment),
            SQLValue(entry.holder), SQLValue(entry.tenant), SQLValue(entry.before.map(JSONText.encodeObject)),
            SQLValue(entry.after.map(JSONText.encodeObject)), SQLValue(entry.detail), SQLValue(entry.error),
            .text(prevHash),
        ]
        // Every value above is INTEGER, TEXT or NULL, so the canonical form exists (and were it not, ""
        // would fail the table's CHECK on the hash's length rather than store a wrong hash).
        hash = (try? Self.hash(of: values)) ?? ""
    }

    /// `seq` as stored (the rowid, always an integer).
    var seq: Int64 {
        if case .integer(let seq) = values[0] { return seq }
        return 0
    }

    /// `prev_hash` as stored; "" when it is not text.
    var prevHash: String {
        if case .text(let text) = values[14] { return text }
        return ""
    }

    /// The hash this row's values call for.
    func computedHash() throws(NonCanonicalValue) -> String {
        try Self.hash(of: values)
    }

    /// A column held a REAL or BLOB, which the canonical form has no place for.
    struct NonCanonicalValue: Error {
        /// The column's name.
        let column: String
        /// `real` or `blob`.
        let storageClass: String
    }

    private static func hash(of values: [SQLValue]) throws(NonCanonicalValue) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        if case .text(let prevHash) = values[14] { bytes.append(contentsOf: prevHash.utf8) }
        try appendCanonicalForm(of: values, to: &bytes)
        return SHA256.hexDigest(bytes)
    }

    /// What the canonical form writes before each column's value: `{"seq":`, `,"time":`, …
    private static let keyPrefixes: [[UInt8]] = columns.indices.map { index in
        var prefix = [index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ",")]
        JSONText.appendString(columns[index], to: &prefix)
        prefix.append(UInt8(ascii: ":"))
        return prefix
    }

    /// Appends the canonical JSON of `values` (in `columns` order) to `output`.
    static func appendCanonicalForm(of values: [SQLValue], to output: inout [UInt8]) throws(NonCanonicalValue) {
        for (index, value) in values.enumerated() {
            output.append(contentsOf: keyPrefixes[index])
            switch value {
            case .integer(let number): output.append(contentsOf: String(number).utf8)
            case .text(let text): JSONText.appendString(text, to: &output)
            case .null: output.append(contentsOf: "null".utf8)
            case .real: throw NonCanonicalValue(column: columns[index], storageClass: "real")
            case .blob: throw NonCanonicalValue(column: columns[index], storageClass: "blob")
            }
        }
        output.append(UInt8(ascii: "}"))
    }
}
