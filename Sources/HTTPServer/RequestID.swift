internal import CMicroHTTPD
internal import Synchronization

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

    /// 16 random bytes (from the system generator, taken 4 KiB at a time) as 32 lower-case hex digits.
    static func generate() -> String {
        let pooled: (UInt64, UInt64)? = randomPool.withLock { $0.take() }
        let words: (UInt64, UInt64)
        if let pooled {
            words = pooled
        } else {
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

    /// Bytes from the system generator handed out 16 at a time: one `getrandom` per 256 request IDs
    /// instead of one per request. Each byte is handed out once.
    struct RandomPool: ~Copyable {
        private var bytes = [UInt8](repeating: 0, count: 4096)
        private var filled = 0
        private var next = 0

        /// The next 16 bytes as two words; nil when the system generator failed.
        mutating func take() -> (UInt64, UInt64)? {
            if next + 16 > filled {
                // getrandom(2) writes at most `count` bytes into the array's storage; it may return
                // fewer (a signal) or -1, so only what it reports is used.
                let got = bytes.withUnsafeMutableBytes { vfiod_random_bytes($0.baseAddress, UInt($0.count)) }
                guard got >= 16 else { return nil }
                filled = got
                next = 0
            }
            var words: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &words) { out in
                for index in 0..<16 { out[index] = bytes[next + index] }
            }
            next += 16
            return words
        }
    }

    private static let randomPool = Mutex(RandomPool())

    /// The ID to use for a request that sent `header` (or none).
    static func choose(clientSent header: String?) -> String {
        if let header, isSane(header) { return header }
        return generate()
    }
}
