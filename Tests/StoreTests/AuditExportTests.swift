import Foundation
import Testing
@testable import Store

@Suite struct AuditExportTests {
    static let awkward = AuditEntry(time: auditTime(1.25), actor: "ops", requestID: "r-1", action: "operation.step",
                                    device: "0000:41:00.0", group: 3, assignment: "as-1", holder: "vm-1",
                                    tenant: "acme", before: ["driver": "nvidia, \"open\""], after: [:],
                                    detail: "quotes \"here\", commas, and\r\nnew\nlines", error: "")

    func export(_ format: AuditExportFormat, _ database: Database, _ query: AuditQuery = AuditQuery()) throws -> String {
        var bytes: [UInt8] = []
        var writes = 0
        try AuditLog.export(query, format: format, in: database) { bytes += $0; writes += 1 }
        #expect(writes >= 1)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func jsonLinesRoundTrip() throws {
        try withAuditDatabase { database, _ in
            let awkward = try AuditLog.append(Self.awkward, to: database)
            let plain = try AuditLog.append(AuditEntry(time: auditTime(2), actor: "system", action: "lease.expired"),
                                            to: database)
            let lines = try export(.jsonLines, database).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 3 && lines[2].isEmpty)  // each line ends in \n
            let objects = try lines.dropLast().map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
            #expect(Set(objects[0].keys) == Set(AuditLog.exportFields))
            #expect(objects[0]["seq"] as? Int == 1)
            #expect(objects[0]["time"] as? String == "2025-01-31T12:00:01.250Z")
            #expect(objects[0]["requestId"] as? String == "r-1")
            #expect(objects[0]["group"] as? Int == 3)
            #expect(objects[0]["detail"] as? String == Self.awkward.detail)
            #expect(objects[0]["error"] as? String == "")
            #expect(objects[0]["before"] as? [String: String] == Self.awkward.before)
            #expect(objects[0]["after"] as? [String: String] == [:])
            #expect(objects[0]["prevHash"] as? String == awkward.prevHash)
            #expect(objects[0]["hash"] as? String == awkward.hash)
            #expect(objects[1]["device"] is NSNull && objects[1]["before"] is NSNull)
            #expect(objects[1]["hash"] as? String == plain.hash)
        }
    }

    @Test func csvRoundTrip() throws {
        try withAuditDatabase { database, _ in
            let awkward = try AuditLog.append(Self.awkward, to: database)
            try AuditLog.append(AuditEntry(time: auditTime(2), actor: "system", action: "lease.expired"), to: database)
            let records = try parseCSV(export(.csv, database))
            #expect(records.count == 3)
            #expect(records[0] == AuditLog.exportFields.map { $0 as String? })
            let fields = Dictionary(uniqueKeysWithValues: zip(AuditLog.exportFields, records[1]))
            #expect(fields["detail"] == Self.awkward.detail)
            #expect(fields["before"] == #"{"driver":"nvidia, \"open\""}"#)
            #expect(fields["after"] == "{}")
            #expect(fields["error"] == "")  // an empty string is "", not an empty field
            #expect(fields["group"] == "3" && fields["hash"] == awkward.hash)
            let second = Dictionary(uniqueKeysWithValues: zip(AuditLog.exportFields, records[2]))
            #expect(second["device"] == .some(nil) && second["error"] == .some(nil))  // NULL: empty field
            #expect(second["action"] == "lease.expired")
        }
    }

    @Test func exportFollowsTheQueryAcrossBatches() throws {
        try withAuditDatabase { database, _ in
            let total = AuditLog.exportBatchSize * 2 + 10
            try database.write { connection in
                for index in 0..<total {
                    try AuditLog.append(AuditEntry(actor: "system", action: index.isMultiple(of: 2) ? "even" : "odd"),
                                        in: connection)
                }
            }
            func seqs(_ query: AuditQuery) throws -> [Int64] {
                try export(.jsonLines, database, query).split(separator: "\n").map { line in
                    let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    return Int64(object?["seq"] as? Int ?? -1)
                }
            }
            #expect(try seqs(AuditQuery()) == Array(1...Int64(total)))
            #expect(try seqs(AuditQuery(action: "odd", afterSeq: 1000)) == Array(stride(from: 1002, through: Int64(total), by: 2)))
            #expect(try seqs(AuditQuery(action: "even", limit: 1002)) == Array(stride(from: 1, through: 2003, by: 2)))
            #expect(try export(.csv, database, AuditQuery(action: "none")) == AuditLog.exportFields.joined(separator: ",") + "\r\n")
        }
    }

    @Test func aFailingWriteStopsTheExport() throws {
        struct Full: Error {}
        try withAuditDatabase { database, _ in
            try appendSample(3, to: database)
            var calls = 0
            #expect(throws: Full.self) {
                try AuditLog.export(AuditQuery(), format: .jsonLines, in: database) { _ in calls += 1; throw Full() }
            }
            #expect(calls == 1)
        }
    }
}

/// RFC 4180 records (CRLF line ends): an unquoted empty field is nil, a quoted one "".
func parseCSV(_ text: String) -> [[String?]] {
    var records: [[String?]] = []
    var record: [String?] = []
    var field = ""
    var quoted = false
    var inQuotes = false
    var characters = Array(text.unicodeScalars)[...]
    func endField() {
        record.append(field.isEmpty && !quoted ? nil : field)
        field = ""
        quoted = false
    }
    while let scalar = characters.popFirst() {
        if inQuotes {
            if scalar == "\"" {
                if characters.first == "\"" { characters.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false }
            } else {
                field.unicodeScalars.append(scalar)
            }
        } else if scalar == "\"" {
            inQuotes = true
            quoted = true
        } else if scalar == "," {
            endField()
        } else if scalar == "\r", characters.first == "\n" {
            characters.removeFirst()
            endField()
            records.append(record)
            record = []
        } else {
            field.unicodeScalars.append(scalar)
        }
    }
    return records
}
