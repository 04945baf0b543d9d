import Foundation
import Testing
@testable import Store

/// `AuditArchive`: rows move to gzip segments with a checkpoint, the rows left verify from it, the whole
/// history verifies from seq 1 through the segments, and a damaged segment or an early delete is caught.
@Suite struct AuditArchiveTests {
    @Test func archivedRowsLeaveForSegmentsAndTheWholeHistoryStillVerifies() throws {
        try withAuditDatabase { database, directory in
            let records = try appendSample(50, to: database)
            let archive = directory.appendingPathComponent("archive").path
            let result = try AuditArchive.archive(database, before: .seq(31), to: archive, segmentRows: 12)
            #expect(result.rows == 30 && result.segments == 3)
            #expect(result.checkpointSeq == 30 && result.checkpointHash == records[29].hash)
            let files = try FileManager.default.contentsOfDirectory(atPath: archive).filter { $0.hasSuffix(".jsonl.gz") }.sorted()
            #expect(files == ["audit-000000000001-000000000012.jsonl.gz", "audit-000000000013-000000000024.jsonl.gz",
                              "audit-000000000025-000000000030.jsonl.gz"])
            #expect(try AuditLog.list(AuditQuery(), in: database).map(\.seq) == Array(31...50))
            let rest = try AuditLog.verify(database)
            #expect(rest.ok && rest.count == 20 && rest.checkpointSeq == 30 && rest.headHash == records[49].hash)
            let whole = try AuditArchive.verify(database, archive: archive)
            #expect(whole.ok && whole.count == 50 && whole.headHash == records[49].hash)
            // New rows chain on; the newest row never leaves.
            try appendSample(2, to: database)
            let again = try AuditArchive.archive(database, before: .keepRows(1), to: archive)
            #expect(again.checkpointSeq == 51)
            #expect(try AuditArchive.verify(database, archive: archive).count == 52)
            #expect(try runVerifyScript(on: database.path, archive: archive).status == 0)
        }
    }

    @Test func aDamagedOrMissingSegmentBreaksTheWholeVerification() throws {
        try withAuditDatabase { database, directory in
            try appendSample(20, to: database)
            let archive = directory.appendingPathComponent("archive").path
            _ = try AuditArchive.archive(database, before: .seq(11), to: archive, segmentRows: 5)
            let second = archive + "/audit-000000000006-000000000010.jsonl.gz"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: second)))
            bytes[bytes.count / 2] ^= 0x20
            try Data(bytes).write(to: URL(fileURLWithPath: second))
            let broken = try AuditArchive.verify(database, archive: archive)
            #expect(!broken.ok && broken.count == 5 && broken.firstBrokenSeq == 6)
            #expect(try runVerifyScript(on: database.path, archive: archive).status == 1)
            try FileManager.default.removeItem(atPath: second)
            #expect(try AuditArchive.verify(database, archive: archive).firstBrokenSeq == 6)
            // The rows in the database still verify from the checkpoint.
            #expect(try AuditLog.verify(database).ok)
        }
    }

    @Test func onlyArchivedRowsMayBeDeleted() throws {
        try withAuditDatabase { database, directory in
            try appendSample(10, to: database)
            #expect(throws: DatabaseError.self) { try database.write { try $0.run("DELETE FROM audit WHERE seq = 1") } }
            _ = try AuditArchive.archive(database, before: .seq(4), to: directory.appendingPathComponent("a").path)
            #expect(throws: DatabaseError.self) { try database.write { try $0.run("DELETE FROM audit WHERE seq = 4") } }
            #expect(throws: DatabaseError.self) { try database.write { try $0.run("DELETE FROM audit_archive") } }
        }
    }

    @Test func aSegmentLineIsItsCanonicalFormWithTheHash() throws {
        try withAuditDatabase { database, _ in
            try AuditLog.append(AuditExportTests.awkward, to: database)
            let rows = try database.read { try $0.query("SELECT \(StoredAuditRow.selectList) FROM audit") { StoredAuditRow($0) } }
            let lines = try AuditSegment.lines(rows)
            let checked = try #require(AuditSegment.check(line: lines.dropLast()[...]))
            #expect(checked.seq == 1 && checked.hashMatches && checked.hash == rows[0].hash)
            #expect(try Gzip.decompress(Gzip.compress(lines)) == lines)
        }
    }
}
