import Foundation
import Synchronization
import Testing
@testable import Store

@Suite struct AuditLogTests {
    @Test func appendNumbersRowsAndChainsHashes() throws {
        try withAuditDatabase { database, _ in
            let records = try appendSample(3, to: database)
            #expect(records.map(\.seq) == [1, 2, 3])
            #expect(records[0].prevHash == String(repeating: "0", count: 64))
            #expect(records[1].prevHash == records[0].hash)
            #expect(records[2].prevHash == records[1].hash)
            #expect(Set(records.map(\.hash)).count == 3)
            #expect(records.allSatisfy { $0.hash.count == 64 && $0.hash.allSatisfy { "0123456789abcdef".contains($0) } })
            #expect(try AuditLog.list(AuditQuery(), in: database) == records)
            #expect(try AuditLog.head(in: database) == (3, records[2].hash))
        }
    }

    @Test func everyFieldRoundTrips() throws {
        try withAuditDatabase { database, _ in
            let entry = AuditEntry(time: Date(timeIntervalSince1970: 1_738_324_800.123_9), actor: "ops-1",
                                   requestID: "req-7", action: "device.driver_changed_outside",
                                   device: "0000:41:00.0", group: 12, assignment: "as-1", holder: "vm-9",
                                   tenant: "acme", before: ["driver": "vfio-pci", "a": "1"], after: ["driver": "nvidia"],
                                   detail: "line 1\nline 2", error: "EBUSY")
            let record = try AuditLog.append(entry, to: database)
            var stored = entry
            stored.time = Date(timeIntervalSince1970: 1_738_324_800.123)  // truncated to the millisecond
            #expect(record.entry == stored)
            #expect(try AuditLog.list(AuditQuery(), in: database).map(\.entry) == [stored])
            let raw = try database.query("SELECT time, \"before\", \"after\", group_id FROM audit") {
                [$0.string(0), $0.string(1), $0.string(2), String($0.int64(3))]
            }
            #expect(raw == [["2025-01-31T12:00:00.123Z", #"{"a":"1","driver":"vfio-pci"}"#, #"{"driver":"nvidia"}"#, "12"]])
        }
    }

    @Test func appendOutsideATransactionIsRefused() throws {
        try withAuditDatabase { database, _ in
            let error = #expect(throws: AuditLogError.self) {
                try database.withConnection { try AuditLog.append(AuditEntry(actor: "system", action: "x"), in: $0) }
            }
            #expect(error == .notInTransaction)
            #expect(throws: AuditLogError.invalidEntry("the actor is empty")) {
                try AuditLog.append(AuditEntry(actor: "", action: "x"), to: database)
            }
            let rows = try AuditLog.list(AuditQuery(), in: database)
            #expect(rows.isEmpty)
        }
    }

    @Test func filtersSelectMatchingRows() throws {
        try withAuditDatabase { database, _ in
            try database.write { connection in
                for index in 0..<12 {
                    try AuditLog.append(AuditEntry(time: auditTime(Double(index * 60)), actor: "system",
                                                   action: index.isMultiple(of: 4) ? "lease.expired" : "operation.step",
                                                   device: "0000:0\(index % 3):00.0", group: index % 2,
                                                   assignment: "as-\(index % 4)", holder: "vm-\(index % 5)",
                                                   tenant: index < 6 ? "acme" : "globex"), in: connection)
                }
            }
            func seqs(_ query: AuditQuery) throws -> [Int64] { try AuditLog.list(query, in: database).map(\.seq) }
            #expect(try seqs(AuditQuery(device: "0000:01:00.0")) == [2, 5, 8, 11])
            #expect(try seqs(AuditQuery(group: 1)) == [2, 4, 6, 8, 10, 12])
            #expect(try seqs(AuditQuery(assignment: "as-3")) == [4, 8, 12])
            #expect(try seqs(AuditQuery(holder: "vm-0")) == [1, 6, 11])
            #expect(try seqs(AuditQuery(tenant: "globex")) == [7, 8, 9, 10, 11, 12])
            #expect(try seqs(AuditQuery(action: "lease.expired")) == [1, 5, 9])
            #expect(try seqs(AuditQuery(since: auditTime(120), until: auditTime(300))) == [3, 4, 5])
            #expect(try seqs(AuditQuery(tenant: "acme", action: "lease.expired")) == [1, 5])
            // Rows written under the old spelling are found by the current one too.
            #expect(try seqs(AuditQuery(action: "assignment.expired")) == [1, 5, 9])
            #expect(try seqs(AuditQuery(device: "0000:09:00.0")).isEmpty)
        }
    }

    @Test func keysetPagesCoverEveryRowOnce() throws {
        try withAuditDatabase { database, _ in
            try appendSample(10, to: database)
            var pages: [[Int64]] = []
            var query = AuditQuery(group: 0, limit: 2)
            while true {
                let page = try AuditLog.list(query, in: database)
                if page.isEmpty { break }
                pages.append(page.map(\.seq))
                query.afterSeq = page.last?.seq
            }
            #expect(pages == [[1, 4], [7, 10]])
            #expect(throws: AuditLogError.invalidQuery("limit 0 is below 1")) {
                try AuditLog.list(AuditQuery(limit: 0), in: database)
            }
        }
    }

    @Test func rolledBackAppendLeavesNoRowAndTheChainValid() throws {
        struct Abandon: Error {}
        try withAuditDatabase { database, _ in
            let first = try appendSample(2, to: database)
            #expect(throws: Abandon.self) {
                try database.write { connection in
                    try connection.run("CREATE TABLE change (x)")
                    try AuditLog.append(AuditEntry(actor: "system", action: "assignment.created"), in: connection)
                    throw Abandon()
                }
            }
            #expect(try AuditLog.list(AuditQuery(), in: database) == first)
            let next = try AuditLog.append(AuditEntry(actor: "system", action: "assignment.created"), to: database)
            #expect(next.seq == 3 && next.prevHash == first[1].hash)
            let verification = try AuditLog.verify(database)
            #expect(verification.ok && verification.count == 3 && verification.headHash == next.hash)
        }
    }

    @Test func concurrentAppendsKeepOneValidChain() throws {
        try withAuditDatabase { database, directory in
            let failures = Mutex<[String]>([])
            // Four threads, each with its own connection to the file (SQLite's write lock orders them), and
            // the shared connection too (its lock orders its callers).
            DispatchQueue.concurrentPerform(iterations: 5) { worker in
                do {
                    let connection = worker == 0 ? database : try Database(path: databasePath(in: directory))
                    for index in 0..<20 {
                        try AuditLog.append(AuditEntry(actor: "worker-\(worker)", action: "operation.step",
                                                       detail: "\(index)"), to: connection)
                    }
                } catch {
                    failures.withLock { $0.append("\(worker): \(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let verification = try AuditLog.verify(database)
            #expect(verification.ok && verification.count == 100)
            let records = try AuditLog.list(AuditQuery(), in: database)
            #expect(records.map(\.seq) == Array(1...100))
            for worker in 0..<5 {
                #expect(records.filter { $0.entry.actor == "worker-\(worker)" }.map(\.entry.detail)
                    == (0..<20).map { "\($0)" })
            }
        }
    }
}
