internal import CMicroHTTPD

/// Request IDs: a client's `X-Request-Id` is kept when sane, otherwise the server makes one.
enum RequestID {
    /// True for 1–128 characters of `[A-Za-z0-9._-]`.
    static func isSane(_ candidate: String) -> Bool {
        let bytes = candidate.utf8
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    /// 16 random bytes (from the system generator, in one call) as 32 lower-case hex digits.
    static func generate() -> String {
        var words: (UInt64, UInt64) = (0, 0)
        // getrandom(2) fills the 16 bytes of `words` (a tuple of two UInt64 is laid out contiguously);
        // for 16 bytes it never returns short and does not block once the pool is initialised.
        let filled = withUnsafeMutableBytes(of: &words) { vfiod_random_bytes($0.baseAddress, UInt($0.count)) }
        if filled != 16 {
            var generator = SystemRandomNumberGenerator()
            words = (generator.next(), generator.next())
        }
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 32) { out in
            for (half, word) in [words.0, words.1].enumerated() {
                var word = word
                for index in 0..<16 {
                    out[half * 16 + index] = digits.utf8Start[Int(word & 0xF)]
                    word >>= 4
                }
            }
            return 32
        }
    }

    /// The ID to use for a request that sent `header` (or none).
    static func choose(clientSent header: String?) -> String {
        if let header, isSane(header) { return header }
        return generate()
    }
}
