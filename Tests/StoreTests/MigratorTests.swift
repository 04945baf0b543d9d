import Foundation
import Testing
@testable import Store

@Suite struct MigratorTests {
    /// The repository's top-level migrations folder, found from this file.
    static let migrationsFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("migrations")

    @Test func embeddedListMatchesTheMigrationsFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrationsFolder.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(Migration.embedded.map(\.fileName) == files)
        for migration in Migration.embedded {
            let bytes = try Data(contentsOf: Self.migrationsFolder.appendingPathComponent(migration.fileName))
            #expect(migration.checksum == SHA256.hexDigest(bytes), "\(migration.fileName) differs from the compiled-in copy")
        }
        #expect(Migration.embedded.map(\.version) == Array(1...Migration.embedded.count))
    }

    @Test func appliesOnceAndIsIdempotentOnReopen() throws {
        try withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let before = Date()
            #expect(try Migrator().apply(to: Database(path: path)) == Migration.embedded.map(\.version))

            let reopened = try Database(path: path)
            #expect(try Migrator().apply(to: reopened) == [])
            let rows = try reopened.query("SELECT version, name, applied_at, checksum FROM schema_migrations ORDER BY version") { row in
                (row.int64(0), row.string(1), row.string(2), row.string(3))
            }
            #expect(rows.count == Migration.embedded.count)
            #expect(rows.first?.0 == 1)
            #expect(rows.first?.1 == "device_identities")
            #expect(rows.first?.3 == Migration.embedded.first?.checksum)
            let appliedAt = try #require(rows.first.flatMap { Timestamp.parse($0.2) })
            #expect(appliedAt >= Date(timeIntervalSince1970: (before.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
            #expect(try reopened.query("SELECT count(*) FROM device_identities") { $0.int64(0) } == [0])

            let status = try Migrator().status(of: reopened)
            #expect(status.isUpToDate)
            #expect(status.databaseVersion == Migration.embedded.count)
            #expect(status.knownVersion == Migration.embedded.count)
        }
    }

    @Test func statusOfANewDatabaseListsEverythingPendingAndWritesNothing() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let status = try Migrator().status(of: database)
            #expect(status.pending.map(\.version) == Migration.embedded.map(\.version))
            #expect(status.applied.isEmpty)
            #expect(!status.isUpToDate)
            #expect(try database.query("SELECT count(*) FROM sqlite_master") { $0.int64(0) } == [0])
        }
    }

    @Test func newerDatabaseIsRefused() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try Migrator().apply(to: database)
            let future = Migration.embedded.count + 1
            try database.run("INSERT INTO schema_migrations VALUES (\(future), 'from_the_future', '2030-01-01T00:00:00.000Z', 'x')")
            let error = #expect(throws: MigrationError.self) { try Migrator().apply(to: database) }
            #expect(error?.description == "database schema version \(future) is newer than this vfiod (knows up to \(Migration.embedded.count)); upgrade vfiod")
            #expect(try Migrator().status(of: database).problems == [.databaseNewer(databaseVersion: future, knownVersion: Migration.embedded.count)])
        }
    }

    @Test func changedChecksumIsRefused() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let original = Migration(version: 1, name: "widgets", sql: "CREATE TABLE widgets (id INTEGER PRIMARY KEY);")
            try Migrator(migrations: [original]).apply(to: database)
            let edited = Migration(version: 1, name: "widgets", sql: "CREATE TABLE widgets (id INTEGER PRIMARY KEY, x);")
            let next = Migration(version: 2, name: "gadgets", sql: "CREATE TABLE gadgets (id INTEGER PRIMARY KEY);")
            let error = #expect(throws: MigrationError.self) { try Migrator(migrations: [edited, next]).apply(to: database) }
            #expect(error == .checksumMismatch(version: 1, name: "widgets", recorded: original.checksum, embedded: edited.checksum))
            #expect(error?.description.hasPrefix("migration 1 (widgets) was changed after it was applied") == true)
            // Refused before anything ran: migration 2 did not apply.
            #expect(try database.query("SELECT count(*) FROM sqlite_master WHERE name = 'gadgets'") { $0.int64(0) } == [0])
        }
    }

    @Test func failingMigrationRollsBackEntirelyAndStaysUnrecorded() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let good = Migration(version: 1, name: "good", sql: "CREATE TABLE a (x INTEGER);")
            let broken = Migration(version: 2, name: "broken", sql: """
                CREATE TABLE b (x INTEGER);
                INSERT INTO a VALUES (1);
                INSERT INTO no_such_table VALUES (1);
                """)
            let error = #expect(throws: MigrationError.self) { try Migrator(migrations: [good, broken]).apply(to: database) }
            guard case let .migrationFailed(version, name, underlying) = error else {
                Issue.record("expected migrationFailed, got \(String(describing: error))")
                return
            }
            #expect(version == 2 && name == "broken")
            #expect(underlying.message == "no such table: no_such_table")
            #expect(try database.query("SELECT version FROM schema_migrations") { $0.int64(0) } == [1])
            #expect(try database.query("SELECT count(*) FROM sqlite_master WHERE name = 'b'") { $0.int64(0) } == [0])
            #expect(try database.query("SELECT count(*) FROM a") { $0.int64(0) } == [0])
            #expect(try Migrator(migrations: [good, broken]).status(of: database).pending.map(\.version) == [2])
        }
    }

    @Test func migrationThatCommitsItselfIsRejected() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let sneaky = Migration(version: 1, name: "sneaky", sql: "CREATE TABLE s (x); COMMIT;")
            let error = #expect(throws: MigrationError.self) { try Migrator(migrations: [sneaky]).apply(to: database) }
            #expect(error?.description.contains("ended the transaction itself") == true)
            #expect(try Migrator(migrations: [sneaky]).status(of: database).applied.isEmpty)
        }
    }

    /// 0007 changes the audit's indexes and triggers, never a row: a history written under 0006 (times
    /// out of order included) verifies after it, by vfiod and by the script, with the same head.
    @Test func migration7CarriesAnAuditHistoryOverAndItsChainStillVerifies() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            #expect(try Migrator(throughVersion: 6).apply(to: database) == Array(1...6))
            try AuditLayoutTests.appendLegacy((0..<40).map(AuditLayoutTests.entry), to: database)
            let before = try AuditLog.verify(database)
            #expect(before.ok && before.count == 40)
            #expect(try Migrator(throughVersion: 7).apply(to: database) == [7])
            let after = try AuditLog.verify(database)
            #expect(after == before)
            #expect(try runVerifyScript(on: database.path).output == "ok 40 \(before.headHash)")
            let indexes = try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' ORDER BY name") { $0.string(0) }
            #expect(indexes == ["audit_assignment", "audit_current_action", "audit_device", "audit_group", "audit_holder", "audit_tenant"])
            let listed = try database.query("SELECT seq FROM audit_time_order ORDER BY seq") { $0.int64(0) }
            #expect(!listed.isEmpty && listed.count < 40, "only the rows out of order are listed: \(listed)")
        }
    }

    /// 0009 rebuilds `operations` and `operation_steps` and remakes one partial index: every row stays,
    /// every condition still refuses what it refused, and none is written as `IN (…)` any more.
    @Test func migration9KeepsEveryOperationAndStepAndEveryCondition() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            #expect(try Migrator(throughVersion: 8).apply(to: database) == Array(1...8))
            let time = "2026-12-08T00:00:00.000Z"
            try database.execute("""
                INSERT INTO assignments (id, group_id, holder_id, tenant, state, ttl_seconds, expires_at, created_at, updated_at, created_by)
                    VALUES ('asg_1', 7, 'vm-1', 't', 'active', 60, '\(time)', '\(time)', '\(time)', 'orch');
                INSERT INTO operations (id, kind, assignment_id, group_id, state, created_at, started_at, finished_at, actor, target, detail)
                    VALUES ('op_1', 'bind', 'asg_1', 7, 'succeeded', '\(time)', '\(time)', '\(time)', 'orch', '0000:01:00.0', '{"a":1}');
                INSERT INTO operation_steps (operation_id, seq, action, device, original_driver, expected, state, started_at, finished_at)
                    VALUES ('op_1', 1, 'set_override', '0000:01:00.0', 'e1000e', 'vfio-pci', 'done', '\(time)', '\(time)');
                """)
            let operationsBefore = try database.query("SELECT * FROM operations") { row in (0..<14).map { row.nullableString($0) } }
            let stepsBefore = try database.query("SELECT * FROM operation_steps") { row in (0..<10).map { row.nullableString($0) } }
            #expect(try Migrator().apply(to: database) == Array(9...Migration.embedded.count))
            #expect(try database.query("SELECT * FROM operations") { row in (0..<14).map { row.nullableString($0) } } == operationsBefore)
            #expect(try database.query("SELECT * FROM operation_steps") { row in (0..<10).map { row.nullableString($0) } } == stepsBefore)
            #expect(try database.query("PRAGMA foreign_key_check") { $0.string(0) }.isEmpty)
            let refused = [
                "UPDATE operations SET state = 'done' WHERE id = 'op_1'",
                "UPDATE operations SET kind = 'rebind' WHERE id = 'op_1'",
                "UPDATE operation_steps SET state = 'running' WHERE operation_id = 'op_1'",
                "INSERT INTO assignments (id, group_id, holder_id, tenant, state, ttl_seconds, expires_at, created_at, updated_at, created_by) "
                    + "VALUES ('asg_2', 7, 'vm-2', 't', 'binding', 60, '\(time)', '\(time)', '\(time)', 'orch')",
            ]
            for statement in refused {
                #expect(throws: DatabaseError.self, "\(statement)") { try database.execute(statement) }
            }
            let tables = try database.query("""
                SELECT sql FROM sqlite_master WHERE name IN ('operations', 'operation_steps', 'assignments_one_live_per_group')
                """) { $0.string(0) }
            #expect(tables.count == 3)
            #expect(tables.allSatisfy { !$0.contains(" IN (") }, "\(tables)")
        }
    }

    @Test func fileNamesParse() {
        let migration = Migration(fileName: "0012_add_leases.sql", contents: Array("SELECT 1;".utf8))
        #expect(migration?.version == 12)
        #expect(migration?.name == "add_leases")
        #expect(migration?.fileName == "0012_add_leases.sql")
        #expect(Migration(fileName: "12_add_leases.sql", contents: []) == nil)
        #expect(Migration(fileName: "0012_.sql", contents: []) == nil)
        #expect(Migration(fileName: "0012_add_leases.txt", contents: []) == nil)
        #expect(Migration(fileName: "0000_zero.sql", contents: []) == nil)
    }
}
