import Foundation
import Testing
@testable import Store

@Suite struct DatabaseTests {
    @Test func openCreatesFileAndSetsPragmas() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let database = try Database(path: path)
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(try database.query("PRAGMA journal_mode") { $0.string(0) } == ["wal"])
            #expect(try database.query("PRAGMA foreign_keys") { $0.int64(0) } == [1])
            #expect(try database.query("PRAGMA synchronous") { $0.int64(0) } == [1])  // NORMAL
            #expect(try database.query("PRAGMA busy_timeout") { $0.int64(0) } == [5000])
            #expect(try database.query("PRAGMA temp_store") { $0.int64(0) } == [2])  // MEMORY
        }
    }

    @Test func aCheckpointerRaisesTheWritersBackstopAndLosesNothing() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            #expect(try database.query("PRAGMA wal_autocheckpoint") { $0.int64(0) } == [1000])
            let checkpointer = try WALCheckpointer(database: database, interval: .milliseconds(1))
            #expect(try database.query("PRAGMA wal_autocheckpoint") { $0.int64(0) } == [Int64(WALCheckpointer.backstopPages)])
            try database.execute("CREATE TABLE t (n INTEGER)")
            for n in 0..<2_000 { try database.run("INSERT INTO t (n) VALUES (?)", .integer(Int64(n))) }
            // The checkpointer sees the log (a connection that never read the database sees none, and its
            // checkpoints do nothing) and copies it into the database file. A checkpoint that ran while the
            // inserts went on may have copied part of it; the one after the last insert copies the rest.
            func copiedAll(_ report: (logFrames: Int32, checkpointedFrames: Int32)) -> Bool { report.logFrames > 0 && report.checkpointedFrames == report.logFrames }
            let deadline = Date().addingTimeInterval(30)
            while !copiedAll(checkpointer.lastReport) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            let report = checkpointer.lastReport
            #expect(report.logFrames > 0 && report.checkpointedFrames == report.logFrames)
            checkpointer.stop()
            #expect(try database.query("SELECT count(*), sum(n) FROM t") { [$0.int64(0), $0.int64(1)] } == [[2_000, 1_999_000]])
            #expect(try database.query("PRAGMA integrity_check") { $0.string(0) } == ["ok"])
        }
    }

    @Test func theCheckpointerSleepsUntilSomethingIsWritten() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let checkpointer = try WALCheckpointer(database: database, interval: .milliseconds(1))
            defer { checkpointer.stop() }
            // One checkpoint at start (a log a previous process left), then asleep: no timer, no work.
            checkpointer.waitUntilAsleep(after: 0)
            #expect(checkpointer.activity.checkpoints == 1)
            try database.execute("CREATE TABLE t (n INTEGER)")
            // The write wakes it: one more checkpoint, which sees the write's log, then asleep again.
            checkpointer.waitUntilAsleep(after: 1)
            #expect(checkpointer.activity.checkpoints == 2)
            let report = checkpointer.lastReport
            #expect(report.logFrames > 0 && report.checkpointedFrames == report.logFrames)
        }
    }

    @Test func readsUseTheReadOnlyConnectionAndSeeTheLastCommit() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            try database.run("INSERT INTO t (n) VALUES (7)")
            #expect(try database.read { try $0.query("SELECT n FROM t", bindings: []) { $0.int64(0) } } == [7])
            #expect(throws: DatabaseError.self) { try database.read { try $0.run("INSERT INTO t (n) VALUES (8)", bindings: []) } }
            // A write in progress on the writer is invisible to a read until it commits.
            try database.write { connection in
                try connection.run("INSERT INTO t (n) VALUES (9)", bindings: [])
                #expect(try database.read { try $0.query("SELECT count(*) FROM t", bindings: []) { $0.int64(0) } } == [1])
            }
            #expect(try database.read { try $0.query("SELECT count(*) FROM t", bindings: []) { $0.int64(0) } } == [2])
        }
    }

    @Test func readsOnDifferentThreadsDoNotWaitForEachOther() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            try database.run("INSERT INTO t (n) VALUES (1)")
            let inside = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            // Every connection but one is held by a reader that waits inside its read transaction…
            for _ in 0..<(Database.readConnections - 1) {
                Thread.detachNewThread {
                    _ = try? database.read { connection in
                        inside.signal()
                        release.wait()
                        return try connection.query("SELECT n FROM t", bindings: []) { $0.int64(0) }
                    }
                    finished.signal()
                }
            }
            for _ in 0..<(Database.readConnections - 1) { inside.wait() }
            // …and another reader still reads at once (a deadlock detector, not a timing claim).
            let read = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                if (try? database.read { try $0.query("SELECT n FROM t", bindings: []) { $0.int64(0) } }) == [1] { read.signal() }
            }
            #expect(read.wait(timeout: .now() + 30) == .success)
            for _ in 0..<(Database.readConnections - 1) { release.signal() }
            for _ in 0..<(Database.readConnections - 1) { finished.wait() }
        }
    }

    @Test func readersBeyondTheConnectionsWaitForOneAndAllRead() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (n INTEGER)")
            try database.run("INSERT INTO t (n) VALUES (1)")
            let group = DispatchGroup()
            let results = NSLock()
            nonisolated(unsafe) var sums: [Int64] = []
            for _ in 0..<(4 * Database.readConnections) {
                group.enter()
                Thread.detachNewThread {
                    let sum = (try? database.read { connection -> Int64 in
                        var sum: Int64 = 0
                        for _ in 0..<50 { sum += try connection.query("SELECT n FROM t", bindings: []) { $0.int64(0) }.reduce(0, +) }
                        return sum
                    }) ?? -1
                    results.withLock { sums.append(sum) }
                    group.leave()
                }
            }
            group.wait()
            #expect(sums == Array(repeating: 50, count: 4 * Database.readConnections))
        }
    }

    @Test func missingDirectoryGivesClearError() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("missing/vfiod.db").path
            let error = #expect(throws: DatabaseError.self) { try Database(path: path) }
            #expect(error?.operation == .open)
            #expect(error?.primaryCode == 14)  // SQLITE_CANTOPEN
            #expect(error?.description == "cannot open database at \(path): unable to open database file")
        }
    }

    @Test func pathUnderARegularFileGivesClearError() throws {
        // Runs as root too: a file is never a directory, whatever the permissions.
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("plain")
            try Data("x".utf8).write(to: file)
            let path = file.appendingPathComponent("vfiod.db").path
            let error = #expect(throws: DatabaseError.self) { try Database(path: path) }
            #expect(error?.description == "cannot open database at \(path): unable to open database file")
        }
    }

    @Test(.enabled(if: getuid() != 0, "root may write anywhere"))
    func readOnlyDirectoryGivesClearError() throws {
        try withTemporaryDirectory { directory in
            let locked = directory.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o555])
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path) }
            let path = locked.appendingPathComponent("vfiod.db").path
            let error = #expect(throws: DatabaseError.self) { try Database(path: path) }
            #expect(error?.description == "cannot open database at \(path): unable to open database file")
        }
    }

    @Test func transactionCommitsWhenBodyReturns() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (x INTEGER)")
            let id = try database.write { connection in
                try connection.run("INSERT INTO t (x) VALUES (?)", 7)
                return connection.lastInsertRowID
            }
            #expect(id == 1)
            #expect(try database.query("SELECT x FROM t") { $0.int64(0) } == [7])
        }
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (x INTEGER)")
            #expect(throws: Boom.self) {
                try database.write { connection in
                    try connection.run("INSERT INTO t (x) VALUES (1), (2)")
                    #expect(connection.changes == 2)
                    throw Boom()
                }
            }
            #expect(try database.query("SELECT count(*) FROM t") { $0.int64(0) } == [0])
            try database.withConnection { #expect(!$0.isInTransaction) }
        }
    }

    @Test func failedStatementRollsBackTheWholeTransaction() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (x INTEGER UNIQUE)")
            let error = #expect(throws: DatabaseError.self) {
                try database.write { connection in
                    try connection.run("INSERT INTO t (x) VALUES (1)")
                    try connection.run("INSERT INTO t (x) VALUES (1)")
                }
            }
            #expect(error?.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
            #expect(error?.description.contains("UNIQUE constraint failed: t.x") == true)
            #expect(try database.query("SELECT count(*) FROM t") { $0.int64(0) } == [0])
        }
    }

    @Test func foreignKeysAreEnforced() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("""
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id))
                """)
            let error = #expect(throws: DatabaseError.self) { try database.run("INSERT INTO child VALUES (42)") }
            #expect(error?.code == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
        }
    }

    @Test func badSQLNamesTheStatement() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let database = try Database(path: path)
            let error = #expect(throws: DatabaseError.self) { try database.execute("SELEKT 1") }
            #expect(error?.description.hasPrefix("database error at \(path): near \"SELEKT\": syntax error") == true)
            #expect(error?.sql == "SELEKT 1")
        }
    }

    @Test func prepareRefusesMoreThanOneStatement() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            #expect(throws: DatabaseError.self) {
                try database.withConnection { _ = try $0.prepare("SELECT 1; SELECT 2") }
            }
            let empty = #expect(throws: DatabaseError.self) {
                try database.withConnection { _ = try $0.prepare("  -- nothing") }
            }
            #expect(empty?.message == "no statement: the SQL is empty or only comments")
            let values = try database.withConnection { try $0.prepare("SELECT 1;  \n").map { $0.int64(0) } }
            #expect(values == [1])
        }
    }

    @Test func writesFromManyThreadsAreSerialized() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE t (thread INTEGER, n INTEGER, UNIQUE (thread, n))")
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 4) { thread in
                for n in 0..<100 {
                    do {
                        try database.write { connection in
                            try connection.run("INSERT INTO t VALUES (?, ?)", .integer(Int64(thread)), .integer(Int64(n)))
                        }
                    } catch {
                        failures.add(error)
                    }
                }
            }
            #expect(failures.count == 0)
            #expect(try database.query("SELECT count(*) FROM t") { $0.int64(0) } == [400])
        }
    }

    @Test func secondConnectionSeesCommittedRows() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let writer = try Database(path: path)
            let reader = try Database(path: path)
            try writer.execute("CREATE TABLE t (x TEXT)")
            try writer.run("INSERT INTO t VALUES (?)", "committed")
            #expect(try reader.query("SELECT x FROM t") { $0.string(0) } == ["committed"])
        }
    }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []

    func add(_ error: any Error) { lock.withLock { errors.append(error) } }
    var count: Int { lock.withLock { errors.count } }
}
