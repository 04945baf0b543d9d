import Foundation
import Testing
@testable import Store

@Suite struct AuditVerifyTests {
    static let zeros = String(repeating: "0", count: 64)

    @Test func emptyAndUntouchedChainsVerify() throws {
        try withAuditDatabase { database, _ in
            #expect(try AuditLog.verify(database) == AuditVerification(count: 0, headHash: Self.zeros))
            let records = try appendSample(5, to: database)
            let verification = try AuditLog.verify(database)
            #expect(verification == AuditVerification(count: 5, headHash: records[4].hash))
            #expect(verification.ok && verification.firstBrokenSeq == nil)
        }
    }

    @Test func verifyReadsCommittedRowsThroughItsOwnConnection() throws {
        try withAuditDatabase { database, _ in
            let records = try appendSample(2, to: database)
            // Inside a write transaction on the shared connection: verify neither waits for it nor sees
            // its uncommitted row.
            let during = try database.write { connection in
                try AuditLog.append(AuditEntry(actor: "system", action: "x"), in: connection)
                return try AuditLog.verify(database)
            }
            #expect(during == AuditVerification(count: 2, headHash: records[1].hash))
            let after = try AuditLog.verify(database)
            #expect(after.ok && after.count == 3)
        }
    }

    @Test func triggersRefuseUpdateAndDelete() throws {
        try withAuditDatabase { database, _ in
            let records = try appendSample(2, to: database)
            let update = #expect(throws: DatabaseError.self) { try database.run("UPDATE audit SET detail = 'x' WHERE seq = 1") }
            #expect(update?.message == "audit history is append-only")
            let delete = #expect(throws: DatabaseError.self) { try database.run("DELETE FROM audit WHERE seq = 2") }
            #expect(delete?.message == "audit history is append-only: only archived rows may be deleted")
            #expect(try AuditLog.list(AuditQuery(), in: database) == records)
        }
    }

    @Test func editedRowIsReportedAtItsSeq() throws {
        try verifyAfterTampering(rows: 5) { database, _ in
            try database.run("UPDATE audit SET detail = 'nothing to see' WHERE seq = 3")
        } check: { verification, records in
            #expect(!verification.ok)
            #expect(verification.firstBrokenSeq == 3)
            #expect(verification.count == 2 && verification.headHash == records[1].hash)
            guard case .hashMismatch(let stored, _) = verification.reason else {
                Issue.record("expected a hash mismatch, got \(String(describing: verification.reason))")
                return
            }
            #expect(stored == records[2].hash)
        }
    }

    @Test func editedRowWithItsHashRecomputedBreaksTheNextLink() throws {
        try withAuditDatabase { database, _ in
            let records = try appendSample(5, to: database)
            try dropAuditTriggers(database)
            var forged = records[2].entry
            forged.holder = "someone-else"
            let row = StoredAuditRow(seq: 3, entry: forged, prevHash: records[1].hash)
            try database.run("UPDATE audit SET holder = 'someone-else', hash = ? WHERE seq = 3", .text(row.hash))
            let verification = try AuditLog.verify(database)
            #expect(verification.firstBrokenSeq == 4)
            #expect(verification.reason == .prevHashMismatch(stored: records[2].hash, expected: row.hash))
        }
    }

    @Test func deletedRowIsReportedAsAGap() throws {
        try verifyAfterTampering(rows: 5) { database, _ in
            try database.run("DELETE FROM audit WHERE seq = 3")
        } check: { verification, records in
            #expect(verification.firstBrokenSeq == 3)
            #expect(verification.reason == .seqGap(expected: 3, found: 4))
            #expect(verification.reason?.description == "seq gap: row 3 is missing (row deleted)")
            #expect(verification.count == 2 && verification.headHash == records[1].hash)
        }
    }

    @Test func deletedAndRenumberedRowIsReportedAsABrokenLink() throws {
        try verifyAfterTampering(rows: 4) { database, _ in
            try database.execute("DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 1 WHERE seq > 2")
        } check: { verification, records in
            #expect(verification.firstBrokenSeq == 2)
            #expect(verification.reason == .prevHashMismatch(stored: records[1].hash, expected: records[0].hash))
        }
    }

    @Test func blobInATextColumnIsReported() throws {
        try withAuditDatabase { database, _ in
            try appendSample(3, to: database)
            try dropAuditTriggers(database)
            try database.run("UPDATE audit SET detail = x'00ff' WHERE seq = 2")
            let verification = try AuditLog.verify(database)
            #expect(verification.firstBrokenSeq == 2)
            #expect(verification.reason == .nonCanonicalValue(column: "detail", storageClass: "blob"))
        }
    }

    /// The canonical form is a contract with auditors' scripts: this pins its exact bytes.
    @Test func canonicalFormIsExactlyAsDocumented() throws {
        let entry = AuditEntry(time: auditTime(0.5), actor: "ops", action: "operation.step", group: 7,
                               before: ["b": "2", "a": "1"], detail: "say \"hi\",\n\ttab\u{1}\\ é")
        let row = StoredAuditRow(seq: 1, entry: entry, prevHash: Self.zeros)
        var bytes: [UInt8] = []
        try StoredAuditRow.appendCanonicalForm(of: row.values, to: &bytes)
        let expected = #"{"seq":1,"time":"2025-01-31T12:00:00.500Z","actor":"ops","request_id":null,"#
            + #""action":"operation.step","device":null,"group_id":7,"assignment_id":null,"holder":null,"#
            + #""tenant":null,"before":"{\"a\":\"1\",\"b\":\"2\"}","after":null,"#
            + #""detail":"say \"hi\",\n\ttab\u0001\\ é","error":null,"prev_hash":""# + Self.zeros + #""}"#
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        #expect(row.hash == SHA256.hexDigest(Array(Self.zeros.utf8) + Array(expected.utf8)))
    }

    @Test(.enabled(if: pythonPath != nil, "python3 is not on PATH"))
    func pythonScriptAgreesWithSwift() throws {
        try withAuditDatabase { database, directory in
            let path = databasePath(in: directory)
            #expect(try runVerifyScript(on: path) == (0, "ok 0 \(Self.zeros)"))
            // Text the canonical form escapes, and non-ASCII, so both sides must escape alike.
            try AuditLog.append(AuditEntry(actor: "ops", action: "x", before: ["k\"ey": "v\u{7f}"],
                                           detail: "a,\"b\"\r\n\u{0}\u{1f} ünï 🚀 \u{2028}"), to: database)
            let records = try appendSample(6, to: database)
            #expect(try runVerifyScript(on: path) == (0, "ok 7 \(records[5].hash)"))

            try dropAuditTriggers(database)
            try database.run("UPDATE audit SET actor = 'root' WHERE seq = 5")
            #expect(try AuditLog.verify(database).firstBrokenSeq == 5)
            let edited = try runVerifyScript(on: path)
            #expect(edited.status == 1 && edited.output.hasPrefix("broken at seq 5: hash mismatch"))

            try database.run("UPDATE audit SET actor = 'system' WHERE seq = 5")
            #expect(try AuditLog.verify(database).ok)
            #expect(try runVerifyScript(on: path).status == 0)

            try database.run("DELETE FROM audit WHERE seq = 4")
            #expect(try AuditLog.verify(database).firstBrokenSeq == 4)
            let deleted = try runVerifyScript(on: path)
            #expect(deleted.status == 1 && deleted.output.hasPrefix("broken at seq 4: seq gap"))
        }
    }

    /// Appends `rows` sample rows, lets `tamper` change the table behind the log's back (its triggers
    /// dropped), verifies the chain and hands the verdict and the rows as appended to `check`.
    private func verifyAfterTampering(rows: Int, _ tamper: (Database, [AuditRecord]) throws -> Void,
                                      check: (AuditVerification, [AuditRecord]) throws -> Void) throws {
        try withAuditDatabase { database, _ in
            let records = try appendSample(rows, to: database)
            try dropAuditTriggers(database)
            try tamper(database, records)
            try check(try AuditLog.verify(database), records)
        }
    }
}
