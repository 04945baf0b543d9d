import Foundation

extension AuditArchive {
    /// Verifies the whole history from seq 1: every segment the checkpoints name, read from `directory`
    /// (its SHA-256 as recorded, then each line's hash and its chain on from the previous row), then the
    /// rows in the database from the last checkpoint (`AuditLog.verify`). `count` is every row that
    /// verified, archived ones included; `checkpointSeq` is 0, since the chain was followed from seq 1.
    /// Blocks the calling thread (it reads every segment).
    public static func verify(_ database: Database, archive directory: String) throws -> AuditVerification {
        let files = ArchiveDirectory(path: directory)
        // An archive may commit while this runs: then the database's checkpoint is past the segments
        // read, and the pass is made again with the new list.
        for _ in 0..<5 {
            let segments = try database.read { connection in
                try connection.query("SELECT segment, first_seq, last_seq, last_hash, segment_sha256 FROM audit_archive ORDER BY last_seq") {
                    SegmentRecord(name: $0.string(0), first: $0.int64(1), last: $0.int64(2), lastHash: $0.string(3), sha256: $0.string(4))
                }
            }
            var chain = ChainState()
            for segment in segments {
                if let broken = verify(segment, in: files, chain: &chain) {
                    return AuditVerification(count: chain.count, headHash: chain.previousHash, firstBrokenSeq: broken.seq,
                                             reason: broken.reason)
                }
            }
            let rest = try AuditLog.verify(database)
            guard rest.checkpointSeq == chain.expectedSeq - 1 else {
                if rest.checkpointSeq > chain.expectedSeq - 1 { continue }
                return AuditVerification(count: chain.count, headHash: chain.previousHash, firstBrokenSeq: chain.expectedSeq,
                                         reason: .seqGap(expected: chain.expectedSeq, found: rest.checkpointSeq + 1))
            }
            return AuditVerification(count: chain.count + rest.count, headHash: rest.headHash,
                                     firstBrokenSeq: rest.firstBrokenSeq, reason: rest.reason)
        }
        throw AuditArchiveError.checkpointMoved(expected: 0, found: -1)
    }

    private struct SegmentRecord {
        let name: String
        let first: Int64
        let last: Int64
        let lastHash: String
        let sha256: String
    }

    private struct ChainState {
        var count = 0
        var expectedSeq: Int64 = 1
        var previousHash = StoredAuditRow.genesisHash
    }

    /// Checks one segment on from `chain`, advancing it; the first break, or nil.
    private static func verify(_ segment: SegmentRecord, in files: ArchiveDirectory,
                               chain: inout ChainState) -> (seq: Int64, reason: AuditChainBreak)? {
        func damaged(_ problem: String) -> (Int64, AuditChainBreak) {
            (chain.expectedSeq, .segmentDamaged(segment: segment.name, problem: problem))
        }
        guard segment.first == chain.expectedSeq else {
            return (chain.expectedSeq, .seqGap(expected: chain.expectedSeq, found: segment.first))
        }
        let lines: [UInt8]
        do {
            let bytes = try files.read(segment.name)
            guard SHA256.hexDigest(bytes) == segment.sha256 else { return damaged("its SHA-256 is not the one recorded") }
            lines = try Gzip.decompress(bytes)
        } catch {
            return damaged("\(error)")
        }
        for line in lines.split(separator: UInt8(ascii: "\n")) {
            guard let row = AuditSegment.check(line: line) else { return damaged("a line is not an archived audit row") }
            if row.seq != chain.expectedSeq {
                return (chain.expectedSeq, .seqGap(expected: chain.expectedSeq, found: row.seq))
            }
            if row.prevHash != chain.previousHash {
                return (row.seq, .prevHashMismatch(stored: row.prevHash, expected: chain.previousHash))
            }
            guard row.hashMatches else { return (row.seq, .hashMismatch(stored: row.hash, computed: "another hash")) }
            chain.count += 1
            chain.expectedSeq += 1
            chain.previousHash = row.hash
        }
        guard chain.expectedSeq == segment.last + 1, chain.previousHash == segment.lastHash else {
            return damaged("it ends at seq \(chain.expectedSeq - 1), the checkpoint says \(segment.last)")
        }
        return nil
    }
}
