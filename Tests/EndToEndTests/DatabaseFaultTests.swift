import Foundation
import Testing
import Store
import TestSupport

/// The database failing under vfiod.
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

    /// Runs mount (or `program`) with `arguments`; throws when it fails.
    static func mount(_ arguments: [String], program: String = "/usr/bin/mount") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("\(program) \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
