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

    /// 16 random bytes (from the system generator) as 32 lower-case hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 32)
        for half in 0..<2 {
            var word = generator.next() as UInt64
            for index in 0..<16 {
                out[half * 16 + index] = digits[Int(word & 0xF)]
                word >>= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The ID to use for a request that sent `header` (or none).
    static func choose(clientSent header: String?) -> String {
        if let header, isSane(header) { return header }
        return generate()
    }
}
