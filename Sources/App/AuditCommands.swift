import Foundation
import Store

extension Command {
    static let auditUsage = "usage: vfiod audit archive --db PATH --before TIME|SEQ --to DIR [--segment-rows N] | "
        + "vfiod audit verify --db PATH [--archive DIR]"

    /// Parses `vfiod audit archive|verify …` (the arguments after `audit`).
    static func auditCommand(_ arguments: [String]) throws(ConfigurationError) -> Command {
        guard let verb = arguments.first else { throw ConfigurationError(auditUsage) }
        var options = Options(Array(arguments.dropFirst()))
        guard let db = try options.value("--db") else { throw ConfigurationError("audit \(verb) needs --db PATH") }
        switch verb {
        case "archive":
            guard let text = try options.value("--before") else { throw ConfigurationError("audit archive needs --before TIME|SEQ") }
            guard let directory = try options.value("--to") else { throw ConfigurationError("audit archive needs --to DIR") }
            let cutoff: AuditArchive.Cutoff
            if let seq = Int64(text), seq >= 1 {
                cutoff = .seq(seq)
            } else if let date = Timestamp.parseRFC3339(text) {
                cutoff = .time(date)
            } else {
                throw ConfigurationError("--before: expected a seq (≥ 1) or an RFC 3339 time such as 2026-01-31T00:00:00Z, got \(text)")
            }
            var segmentRows = AuditArchive.defaultSegmentRows
            if let rows = try options.value("--segment-rows") {
                guard let count = Int(rows), count >= 1 else { throw ConfigurationError("--segment-rows: expected a whole number ≥ 1, got \(rows)") }
                segmentRows = count
            }
            try options.finish()
            return .archiveAudit(databasePath: db, before: cutoff, directory: directory, segmentRows: segmentRows)
        case "verify":
            let directory = try options.value("--archive")
            try options.finish()
            return .verifyAudit(databasePath: db, archiveDirectory: directory)
        default:
            throw ConfigurationError(auditUsage)
        }
    }
}

/// `vfiod audit archive` and `vfiod audit verify`.
enum AuditCommands {
    /// Archives and prints what moved; exit 1 on failure.
    static func archive(_ path: String, before cutoff: AuditArchive.Cutoff, to directory: String, segmentRows: Int) -> Int32 {
        do {
            let database = try Database(path: path)
            try Migrator().apply(to: database)
            let result = try AuditArchive.archive(database, before: cutoff, to: directory, segmentRows: segmentRows)
            print("vfiod: archived \(result.rows) audit rows in \(result.segments) segments (\(result.bytes) bytes) to \(directory); "
                  + "checkpoint seq \(result.checkpointSeq) hash \(result.checkpointHash)")
            return 0
        } catch {
            VFIODMain.printError("vfiod: cannot archive the audit history of \(path): \(error)")
            return 1
        }
    }

    /// Verifies the chain (from seq 1 through the segments when `directory` is given) and prints
    /// `ok COUNT HEAD-HASH` (exit 0) or `broken at seq N: REASON` (exit 1), as `scripts/verify-audit.py`.
    static func verify(_ path: String, archive directory: String?) -> Int32 {
        do {
            let database = try Database(path: path)
            let result = try directory.map { try AuditArchive.verify(database, archive: $0) } ?? AuditLog.verify(database)
            if let seq = result.firstBrokenSeq, let reason = result.reason {
                print("broken at seq \(seq): \(reason)")
                return 1
            }
            let from = result.checkpointSeq > 0 ? " (from checkpoint seq \(result.checkpointSeq))" : ""
            print("ok \(result.count) \(result.headHash)\(from)")
            return 0
        } catch {
            VFIODMain.printError("vfiod: cannot verify the audit history of \(path): \(error)")
            return 2
        }
    }
}
