import Foundation

/// One archive segment's content: audit rows as JSON Lines, each line a row's canonical form
/// (`StoredAuditRow`) with its `hash` added as the last key:
///
///     {"seq":1,"time":"…",…,"prev_hash":"000…0","hash":"5f1e…"}
///
/// so a line is verified on its own bytes: drop `,"hash":"…"` and the rest is exactly what the hash
/// covers (in Python: `row = json.loads(line); stored = row.pop("hash")`, then the canonical form of
/// `row`). The file holds these lines gzip-compressed.
enum AuditSegment {
    /// The `,"hash":"` + 64 hex digits + `"}` every line ends with: 9 + 64 + 2 bytes.
    private static let hashSuffixLength = 75

    /// The lines of `rows` (in seq order).
    static func lines(_ rows: [StoredAuditRow]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * 600)
        for row in rows {
            do {
                try StoredAuditRow.appendCanonicalForm(of: row.values, to: &bytes)
            } catch {
                throw AuditLogError.invalidRow(seq: row.seq, reason: "\(error.column) holds a \(error.storageClass)")
            }
            bytes.removeLast()
            bytes.append(contentsOf: ",\"hash\":\"".utf8)
            bytes.append(contentsOf: row.hash.utf8)
            bytes.append(contentsOf: "\"}\n".utf8)
        }
        return bytes
    }

    /// A line's seq, prev_hash and stored hash, and whether its hash is right; nil when the line is not
    /// shaped as `lines(_:)` writes them.
    static func check(line: ArraySlice<UInt8>) -> (seq: Int64, prevHash: String, hash: String, hashMatches: Bool)? {
        let bytes = Array(line)
        let seqPrefix = Array("{\"seq\":".utf8)
        let prevPrefix = Array(",\"prev_hash\":\"".utf8)
        guard bytes.count > seqPrefix.count + prevPrefix.count + 64 + hashSuffixLength,
              bytes.starts(with: seqPrefix), bytes.suffix(2) == [UInt8(ascii: "\""), UInt8(ascii: "}")] else { return nil }
        let hashStart = bytes.count - hashSuffixLength
        guard Array(bytes[hashStart..<(hashStart + 9)]) == Array(",\"hash\":\"".utf8) else { return nil }
        let hash = String(decoding: bytes[(hashStart + 9)..<(hashStart + 73)], as: UTF8.self)
        // The canonical form: everything before the hash, closed again.
        let canonical = bytes[..<hashStart] + [UInt8(ascii: "}")]
        let prevStart = hashStart - 1 - 64 - prevPrefix.count
        guard prevStart > 0, Array(bytes[prevStart..<(prevStart + prevPrefix.count)]) == prevPrefix else { return nil }
        let prevHash = String(decoding: bytes[(prevStart + prevPrefix.count)..<(hashStart - 1)], as: UTF8.self)
        let digits = bytes[seqPrefix.count...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard !digits.isEmpty, digits.count <= 18, let seq = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
        let computed = SHA256.hexDigest(Array(prevHash.utf8) + Array(canonical))
        return (seq, prevHash, hash, computed == hash)
    }
}
