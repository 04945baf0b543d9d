import Glibc

/// One event-stream response as a reader receives it: the head, then the chunked body decoded, then
/// its `audit.appended` frames (`\n\n`-terminated) with their `seq` and `time`, and its `assignment.changed`
/// frames with the seq of their audit row.
struct StreamParser {
    private var body: [UInt8] = []
    private var headDone = false
    /// Data bytes left in the current chunk; then the CRLF after it.
    private var chunkLeft = 0
    private var trailer = false

    /// Takes the received bytes in `raw` and leaves there those that do not complete a chunk-size line
    /// or the head yet; true when they completed a `200` head.
    mutating func take(_ raw: inout [UInt8]) -> Bool {
        var position = 0
        var opened = false
        while position < raw.count {
            if !headDone {
                guard let end = Self.find("\r\n\r\n", in: raw, from: position) else { break }
                opened = raw.starts(with: Array("HTTP/1.1 200".utf8))
                headDone = true
                position = end + 4
            } else if chunkLeft > 0 {
                let count = min(chunkLeft, raw.count - position)
                body.append(contentsOf: raw[position..<(position + count)])
                position += count
                chunkLeft -= count
                trailer = chunkLeft == 0
            } else if trailer {
                guard raw.count - position >= 2 else { break }
                position += 2
                trailer = false
            } else {
                guard let end = Self.find("\r\n", in: raw, from: position) else { break }
                chunkLeft = raw[position..<end].reduce(0) { $0 * 16 + Self.hexValue($1) }
                position = end + 2
                if chunkLeft == 0 { position = raw.count }
            }
        }
        raw.removeFirst(position)
        return opened
    }

    /// Hands each complete `audit.appended` frame's `seq` and `time` (seconds since 1970) to `body`, and
    /// forgets every complete frame.
    mutating func frames(_ visit: (Int64?, Double?) -> Void) {
        var start = 0
        while let end = Self.find("\n\n", in: body, from: start) {
            let frame = body[start..<end]
            start = end + 2
            // An audit row names its seq and time; an assignment change the seq of the row behind it (no time:
            // its delay is measured from the commit alone).
            let isRow = Self.find("event: audit.appended", in: body, from: frame.startIndex, before: end) != nil
            guard isRow || Self.find("event: assignment.changed", in: body, from: frame.startIndex, before: end) != nil else { continue }
            var seq: Int64?
            let seqKey: StaticString = isRow ? "\"seq\":" : "\"auditSeq\":"
            if let at = Self.find(seqKey, in: body, from: frame.startIndex, before: end) {
                let digits = at + seqKey.utf8CodeUnitCount
                seq = body[digits..<end].prefix { $0 >= 48 && $0 <= 57 }.reduce(0) { $0 * 10 + Int64($1 - 48) }
            }
            var time: Double?
            if let at = Self.find("\"time\":\"", in: body, from: frame.startIndex, before: end), at + 8 + 24 <= end {
                time = EventReaders.parse(body[(at + 8)..<(at + 32)])
            }
            visit(seq, time)
        }
        body.removeFirst(start)
    }

    private static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 48...57: Int(byte) - 48
        case 97...102: Int(byte) - 87
        case 65...70: Int(byte) - 55
        default: 0
        }
    }

    /// Where `needle` starts in `haystack[from..<before]` (memchr for its first byte, memcmp for the rest).
    static func find(_ needle: StaticString, in haystack: [UInt8], from: Int, before: Int? = nil) -> Int? {
        let end = before ?? haystack.count
        let length = needle.utf8CodeUnitCount
        guard end - from >= length else { return nil }
        return haystack.withUnsafeBytes { raw in
            // Every pointer stays inside the array's storage: positions run from `from` to `end - length`.
            let base = raw.baseAddress!
            var position = from
            while position <= end - length {
                guard let hit = memchr(base + position, Int32(needle.utf8Start.pointee), end - length + 1 - position) else { return nil }
                let at = UnsafeRawPointer(hit) - base
                if memcmp(base + at, needle.utf8Start, length) == 0 { return at }
                position = at + 1
            }
            return nil
        }
    }
}
