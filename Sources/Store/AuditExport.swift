import Foundation

/// The formats `AuditLog.export` writes.
public enum AuditExportFormat: String, Sendable, Hashable, CaseIterable {
    /// One compact JSON object per line, `\n`-terminated, with the API's field names (`exportFields`);
    /// absent values are `null`, `before`/`after` are objects.
    case jsonLines
    /// RFC 4180: a header line of `exportFields`, then one record per row, lines ending in CRLF. A field
    /// holding `,`, `"`, CR or LF is quoted (`"` doubled); NULL is an empty field and an empty string is
    /// `""`; `before`/`after` are their JSON text.
    case csv
}

extension AuditLog {
    /// The field names of an exported row, in order: the API's names for the columns.
    public static let exportFields = ["seq", "time", "actor", "requestId", "action", "device", "group",
                                      "assignment", "holder", "tenant", "before", "after", "detail", "error",
                                      "prevHash", "hash"]

    /// Rows read per hold of the database lock; `write` is called once per batch, outside the lock.
    static let exportBatchSize = 1000

    /// Streams the rows matching `query` in seq order to `write`, in `format`. Rows are read in batches
    /// (keyset on seq), so the database is not locked while `write` runs and rows appended meanwhile may
    /// appear at the end. `query.limit`, when set, caps the rows exported. A CSV export always begins with
    /// its header. Throws what `write` throws, and stops there.
    public static func export(_ query: AuditQuery, format: AuditExportFormat, in database: Database,
                              write: ([UInt8]) throws -> Void) throws {
        if let limit = query.limit, limit < 1 { throw AuditLogError.invalidQuery("limit \(limit) is below 1") }
        if format == .csv {
            try write(Array((exportFields.joined(separator: ",") + "\r\n").utf8))
        }
        var afterSeq = query.afterSeq
        var remaining = query.limit ?? Int.max
        while remaining > 0 {
            let records = try database.read { connection in
                try query.records(afterSeq: afterSeq, limit: min(remaining, exportBatchSize), on: connection)
            }
            guard let last = records.last else { return }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(records.count * 512)
            for record in records {
                switch format {
                case .jsonLines: appendJSONLine(record, to: &bytes)
                case .csv: appendCSVRecord(record, to: &bytes)
                }
            }
            try write(bytes)
            afterSeq = last.seq
            remaining -= records.count
            if records.count < exportBatchSize { return }
        }
    }

    /// An exported row's fields, in `exportFields` order; objects as their sorted-key JSON.
    private static func fields(_ record: AuditRecord) -> [ExportValue] {
        let entry = record.entry
        func text(_ value: String?) -> ExportValue { value.map(ExportValue.text) ?? .null }
        func object(_ value: [String: String]?) -> ExportValue {
            value.map { .json(JSONText.encodeObject($0)) } ?? .null
        }
        return [.number(record.seq), .text(Timestamp.format(entry.time)), .text(entry.actor), text(entry.requestID),
                .text(entry.action), text(entry.device), entry.group.map { .number(Int64($0)) } ?? .null,
                text(entry.assignment), text(entry.holder), text(entry.tenant), object(entry.before),
                object(entry.after), text(entry.detail), text(entry.error), .text(record.prevHash),
                .text(record.hash)]
    }

    private enum ExportValue {
        case number(Int64)
        case text(String)
        case json(String)
        case null
    }

    private static func appendJSONLine(_ record: AuditRecord, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        for (index, value) in fields(record).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendString(exportFields[index], to: &output)
            output.append(UInt8(ascii: ":"))
            switch value {
            case .number(let number): output.append(contentsOf: String(number).utf8)
            case .text(let text): JSONText.appendString(text, to: &output)
            case .json(let json): output.append(contentsOf: json.utf8)
            case .null: output.append(contentsOf: "null".utf8)
            }
        }
        output.append(contentsOf: "}\n".utf8)
    }

    private static func appendCSVRecord(_ record: AuditRecord, to output: inout [UInt8]) {
        for (index, value) in fields(record).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            switch value {
            case .number(let number): output.append(contentsOf: String(number).utf8)
            case .text(let text), .json(let text): appendCSVField(text, to: &output)
            case .null: break
            }
        }
        output.append(contentsOf: "\r\n".utf8)
    }

    /// RFC 4180: quoted when empty or when it holds `,` `"` CR or LF, with `"` doubled inside.
    private static func appendCSVField(_ text: String, to output: inout [UInt8]) {
        let special: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "\""), 0x0D, 0x0A]
        guard text.isEmpty || text.utf8.contains(where: special.contains) else {
            output.append(contentsOf: text.utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }
}
