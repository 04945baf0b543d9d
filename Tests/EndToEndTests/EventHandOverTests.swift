import Foundation
import App
import Store
import Testing
import TestSupport

/// The audit tail publishes the rows each commit hands it and reads back from the database the rows it
/// was not handed (committed by another process, as `vfiod token revoke` does): every audited change
/// arrives once, in seq order, as the database has it.
@Suite struct EventHandOverTests {
    @Test func aRowCommittedByAnotherProcessArrivesInItsPlaceBetweenTheHandedOnes() async throws {
        try await EventEndToEndTests.withTokens { service, tokens in
            let auditor = try await service.openEvents(token: tokens.auditor)
            let id = try await service.lease(group: 10, token: tokens.admin)
            // Another connection's commit: vfiod's writer never sees this row, so nothing hands it over.
            let other = try Database(path: service.service.configuration.databasePath)
            _ = try TokenStore(database: other).create(name: "from-elsewhere", role: .viewer)
            try await service.releaseAndWait(id, token: tokens.admin)
            let frames = try await auditor.read(until: assignmentReaches(id, "released"))
            let rows = frames.filter { $0.type == "audit.appended" }.map(\.object)
            let seqs = rows.compactMap { $0["seq"] as? Int }
            let first = try #require(seqs.first)
            #expect(seqs == Array(first..<(first + seqs.count)), "every row once, in seq order: \(seqs)")
            let details = rows.compactMap { $0["detail"] as? String }
            #expect(details.contains("token from-elsewhere (viewer)"), "\(details)")
            // The stream's rows are the database's, seq for seq.
            let stored = try AuditLog.list(AuditQuery(afterSeq: Int64(first - 1), limit: seqs.count), in: other)
            #expect(stored.map { Int($0.seq) } == seqs)
            #expect(stored.map(\.entry.action) == rows.compactMap { $0["action"] as? String })
        }
    }
}
