import Foundation
@testable import Store
import TestSupport

/// A migrated database in a fresh temp dir, and the directory (for the file's bytes and the script).
func withAuditDatabase<T>(_ body: (Database, URL) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let database = try Database(path: databasePath(in: directory))
        try Migrator().apply(to: database)
        return try body(database, directory)
    }
}

/// A fixed instant: 2025-01-31T12:00:00.000Z plus `seconds`.
func auditTime(_ seconds: Double = 0) -> Date {
    Date(timeIntervalSince1970: 1_738_324_800 + seconds)
}

/// Appends `count` plain entries, one transaction each, and returns their records.
@discardableResult
func appendSample(_ count: Int, to database: Database, action: String = "operation.step") throws -> [AuditRecord] {
    try (0..<count).map { index in
        try AuditLog.append(AuditEntry(time: auditTime(Double(index)), actor: "system", action: action,
                                       device: "0000:41:00.\(index % 8)", group: index % 3,
                                       detail: "step \(index)"), to: database)
    }
}

/// Runs `scripts/verify-audit.py` on `path`: its exit status and its one line of output.
func runVerifyScript(on path: String, archive: String? = nil) throws -> (status: Int32, output: String) {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/verify-audit.py")
    let result = try ChildProcess.run(pythonPath ?? "/usr/bin/python3", [script.path] + (archive.map { ["--archive", $0] } ?? []) + [path])
    return (result.exit.status, result.out.trimmingCharacters(in: .whitespacesAndNewlines))
}

/// The first `python3` on PATH, nil when there is none.
let pythonPath: String? = {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return directories.map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Removes the append-only triggers, as someone with write access to the file could.
func dropAuditTriggers(_ database: Database) throws {
    try database.execute("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
}
