import Foundation
import Testing
import Store
import TestSupport

/// The database failing under vfiod: read-only when it starts, unreadable while it serves.
@Suite struct DatabaseFaultTests {
    /// A database vfiod cannot write is a start failure: one line, a non-zero exit, never a listener.
    /// Root writes whatever the file modes say, so as root the database is also behind a read-only
    /// bind mount, which refuses root too (EROFS).
    @Test func aReadOnlyDatabaseIsAStartFailure() async throws {
        let directory = try TemporaryDirectory(prefix: "vfiod-readonly")
        defer { directory.remove() }
        let writable = directory.path + "/rw"
        try FileManager.default.createDirectory(atPath: writable, withIntermediateDirectories: true)
        let migrated = try ProcessTests.run(["migrate", "--db", writable + "/v.db"])
        #expect(migrated.status == 0, "\(migrated.err)")
        var path = writable + "/v.db"
        for file in try FileManager.default.contentsOfDirectory(atPath: writable) {
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: writable + "/" + file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: writable)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: writable) }
        var mounted: String?
        if geteuid() == 0 {
            let readOnly = directory.path + "/ro"
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
            try Self.mount(["--bind", writable, readOnly])
            mounted = readOnly
            try Self.mount(["-o", "remount,ro,bind", readOnly])
            path = readOnly + "/v.db"
        }
        defer { if let mounted { try? Self.mount([mounted], program: "/usr/bin/umount") } }

        let vfiod = try VFIODProcess(arguments: ["--db", path, "--no-auth", "--simulate", Fixtures.topologyDirectory + "/workstation.json"])
        let listened = try await vfiod.waitUntilListening()
        if listened { await vfiod.terminate() }
        #expect(!listened, "vfiod served a database it cannot write: \(vfiod.output)")
        let exit = try await vfiod.waitForExit()
        #expect(!exit.signaled && exit.status == 1)
        let lines = vfiod.output.split(separator: "\n")
        #expect(lines.count == 1, "\(vfiod.output)")
        #expect(vfiod.output.contains("cannot write database \(path): attempt to write a readonly database"), "\(vfiod.output)")
    }

    /// A database that cannot be read while vfiod serves: a token checked a moment ago keeps working
    /// (the outage grace), any other valid token is answered `503` `storage_unavailable`, never `401`;
    /// once the file is whole again, the same token is accepted. The fault is real: the database file
    /// is overwritten with zeros under the running server (SQLite reads a page of zeros and reports the
    /// file as not a database or malformed), and its bytes are put back afterwards.
    @Test func aFailingDatabaseAnswers503NotUnauthenticated() async throws {
        let service = try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist, auth: true) {
            $0.tokenOutageGraceSeconds = 3600
        }
        try await withService(service) { service in
            let path = service.service.configuration.databasePath
            let database = try Database(path: path)
            let tokens = TokenStore(database: database)
            let seen = try tokens.create(name: "seen", role: .viewer).token
            let unseen = try tokens.create(name: "unseen", role: .viewer).token
            #expect(try await service.send("GET", "/v1/devices", token: seen).response.status == 200)

            // Everything into the main file, the WAL emptied (its header changes, so every reader drops its
            // cached pages), then the main file zeroed in place.
            let busy = try database.query("PRAGMA wal_checkpoint(TRUNCATE)") { $0.int64(0) }
            #expect(busy == [0], "the checkpoint ran to the end")
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            try Self.overwrite(path, with: Data(count: original.count))

            let refused = try await service.send("GET", "/v1/devices", token: unseen)
            #expect(refused.response.status == 503, "\(refused.response.bodyText)")
            #expect(refused.body["code"] as? String == "storage_unavailable")
            #expect((refused.body["detail"] as? String)?.contains("database") == true, "\(refused.body)")
            #expect(refused.response.header("Retry-After") == "1")
            #expect(refused.response.header("WWW-Authenticate") == nil)
            ContractTests.expect(refused.body, conformsTo: try OpenAPIDocument(), "GET", "/v1/devices", 503, problem: true)
            let remembered = try await service.send("GET", "/v1/devices", token: seen)
            #expect(remembered.response.status == 200, "a token verified a moment ago outlives the outage: \(remembered.response.bodyText)")

            // The file whole again, and one commit beside it, which readers notice and drop what they read.
            try Self.overwrite(path, with: original)
            _ = try tokens.create(name: "after-the-outage", role: .viewer)
            let accepted = try await service.send("GET", "/v1/devices", token: unseen)
            #expect(accepted.response.status == 200, "\(accepted.response.bodyText)")
        }
    }

    /// Writes `data` over the file at `path`, in place (same inode, as a failing disk would).
    static func overwrite(_ path: String, with data: Data) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }

    /// Runs mount (or `program`) with `arguments`; throws when it fails.
    static func mount(_ arguments: [String], program: String = "/usr/bin/mount") throws {
        let result = try ChildProcess.run(program, arguments)
        guard result.exit.status == 0 else {
            throw FixtureError("\(program) \(arguments.joined(separator: " ")): \(result.err)")
        }
    }
}
