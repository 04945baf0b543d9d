import Foundation
import Synchronization
import Testing
@testable import Store

/// The commit observer is handed the audit rows each commit stored, as the database has them, and none
/// that a rollback undid.
@Suite struct CommittedAuditTests {
    /// What the observer was handed, one array per commit.
    final class Handed: Sendable {
        private let batches = Mutex<[[AuditRecord]]>([])
        func note(_ rows: [AuditRecord]) { batches.withLock { $0.append(rows) } }
        var all: [[AuditRecord]] { batches.withLock { $0 } }
    }

    /// Opens a migrated database whose observer collects what it is handed.
    private func observed(in directory: URL) throws -> (Database, Handed) {
        let database = try Database(path: databasePath(in: directory))
        _ = try Migrator().apply(to: database)
        let handed = Handed()
        database.observeCommits { rows in handed.note(rows) }
        return (database, handed)
    }

    private func append(_ action: String, _ connection: Connection) throws {
        try AuditLog.append(AuditEntry(actor: "test", action: action, group: 3, before: ["state": "a"],
                                       after: ["state": "b", "generation": "1"], detail: "d"), in: connection)
    }

    struct Refused: Error {}

    @Test func aSharedBatchHandsOnItsMembersRowsButNotThoseOfABodyOrSavepointThatThrew() throws {
        try withTemporaryDirectory { directory in
            let (database, handed) = try observed(in: directory)
            let holdFirst = DispatchSemaphore(value: 0)
            let firstInside = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for index in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    if index > 0 { firstInside.wait(); firstInside.signal() }
                    _ = try? database.write { connection in
                        if index == 0 { firstInside.signal(); holdFirst.wait() }
                        try append("member \(index)", connection)
                        if index == 1 { throw Refused() }
                        if index == 2 {
                            // A nested transaction (a savepoint) that throws takes its row with it.
                            _ = try? database.write { inner in try append("nested", inner); throw Refused() }
                            try append("member 2 again", connection)
                        }
                    }
                }
            }
            while database.writer.queuedCount < 2 { sched_yield() }
            holdFirst.signal()
            group.wait()
            let batches = handed.all
            #expect(batches.count == 1, "one commit: \(batches)")
            let stored = try AuditLog.list(AuditQuery(), in: database)
            #expect(stored.map(\.entry.action) == ["member 0", "member 2", "member 2 again"])
            #expect(batches.first == stored, "what the observer got is what a read gets back")
            // Each append after a rolled-back one chains to the row still there, not to the undone one.
            #expect(stored.map(\.seq) == [1, 2, 3])
            #expect(try AuditLog.verify(database).ok)
        }
    }

    @Test func aLoneBodyThatThrowsHandsOnNothingAndRowsCommittedElsewhereAreNotHanded() throws {
        try withTemporaryDirectory { directory in
            let (database, handed) = try observed(in: directory)
            _ = try? database.write { connection in try append("undone", connection); throw Refused() }
            // Outside the writer's transactions (as another process would): not handed, a gap in seq.
            try database.withConnection { connection in
                try connection.transaction(.immediate) { try append("elsewhere", $0) }
            }
            try database.write { try append("kept", $0) }
            let stored = try AuditLog.list(AuditQuery(), in: database)
            #expect(stored.map(\.entry.action) == ["elsewhere", "kept"])
            #expect(handed.all == [[stored[1]]])
            #expect(try AuditLog.verify(database).ok)
        }
    }
}
