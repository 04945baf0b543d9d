internal import CSHA256

/// SHA-256 (FIPS 180-4), for migration checksums and the audit chain: Foundation on Linux has no digest
/// API and vfiod takes no package dependencies. The blocks go through the CPU's SHA instructions where it
/// has them (`CSHA256`), else through the portable rounds here; both give the same digest. Not
/// constant-time; not for secrets.
public enum SHA256 {
    /// Whether this CPU has the SHA extensions `CSHA256` uses (asked once).
    static let hasHardware = csha256_hardware_available() == 1

    /// FIPS 180-4's 64 round constants, from the one table `CSHA256`'s SHA-NI rounds use too.
    private static let roundConstants: [UInt32] = {
        // csha256_round_constants() points at a static array of exactly 64 words that lives as long as the process.
        Array(UnsafeBufferPointer(start: csha256_round_constants(), count: 64))
    }()

    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hexDigest<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        hexDigest(bytes, portable: !hasHardware)
    }

    /// The digest of `bytes` as hex, through the portable rounds when `portable` (tests compare both ways).
    static func hexDigest<Bytes: Collection<UInt8>>(_ bytes: Bytes, portable: Bool) -> String {
        digest(bytes, portable: portable).hex
    }

    /// The digest of `bytes` without allocating on the heap for inputs under ~1 KiB (padding on the
    /// stack, no hex text): for a key looked up on every request.
    public static func digest<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Digest {
        digest(bytes, portable: !hasHardware)
    }

    /// `digest(_:)`, through the portable rounds when `portable` (tests compare both ways).
    static func digest<Bytes: Collection<UInt8>>(_ bytes: Bytes, portable: Bool) -> Digest {
        // One call into the contiguous bytes (a native string's UTF-8, an array): the generic
        // collection is not walked a byte at a time through its witnesses.
        if let digest = bytes.withContiguousStorageIfAvailable({ digest(buffer: $0, portable: portable) }) { return digest }
        return Array(bytes).withUnsafeBufferPointer { digest(buffer: $0, portable: portable) }
    }

    /// The digest of `bytes`, padded in a temporary buffer (on the stack when small).
    private static func digest(buffer bytes: UnsafeBufferPointer<UInt8>, portable: Bool) -> Digest {
        let count = bytes.count
        let padded = (count + 9 + 63) / 64 * 64
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: padded) { message in
            // Every index written below is < `padded`: the message, 0x80, zeros, then 8 length bytes.
            _ = message.initialize(from: bytes)
            message[count] = 0x80
            for zero in (count + 1)..<(padded - 8) { message[zero] = 0 }
            let bitLength = UInt64(count) * 8
            for byte in 0..<8 { message[padded - 8 + byte] = UInt8(truncatingIfNeeded: bitLength >> UInt64(56 - 8 * byte)) }
            return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 8) { state in
                for (index, word) in initialState.enumerated() { state[index] = word }
                compressBlocks(UnsafeBufferPointer(message), into: state, portable: portable)
                return Digest(state)
            }
        }
    }

    private static let initialState: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

    /// Compresses the padded `input` (whole 64-byte blocks) into the 8 words of `state`.
    private static func compressBlocks(_ input: UnsafeBufferPointer<UInt8>, into state: UnsafeMutableBufferPointer<UInt32>,
                                       portable: Bool) {
        if portable {
            compress(input, into: state)
        } else {
            // `state` holds the 8 state words and `input` whole 64-byte blocks (its length is a multiple
            // of 64); the C code reads and writes nothing else.
            csha256_blocks(state.baseAddress!, input.baseAddress!, input.count / 64)
        }
    }

    /// The portable compression of the padded `message` (whole 64-byte blocks) into the 8 words `stateWords`.
    private static func compress(_ message: UnsafeBufferPointer<UInt8>, into stateWords: UnsafeMutableBufferPointer<UInt32>) {
        var state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3], stateWords[4], stateWords[5], stateWords[6], stateWords[7])
        // The schedule lives in one stack buffer of 64 words, the constants and the padded message are read
        // through buffer pointers: no allocation or bounds check per block. Every index below is < 64, and
        // every block read stays inside `message`, whose length is a multiple of 64.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { words in
            roundConstants.withUnsafeBufferPointer { constants in
                for chunk in stride(from: 0, to: message.count, by: 64) {
                    for i in 0..<16 {
                        let b = chunk + i * 4
                        words[i] = UInt32(message[b]) << 24 | UInt32(message[b + 1]) << 16
                            | UInt32(message[b + 2]) << 8 | UInt32(message[b + 3])
                    }
                    for i in 16..<64 {
                        let s0 = words[i - 15].rotatedRight(7) ^ words[i - 15].rotatedRight(18) ^ (words[i - 15] >> 3)
                        let s1 = words[i - 2].rotatedRight(17) ^ words[i - 2].rotatedRight(19) ^ (words[i - 2] >> 10)
                        words[i] = words[i - 16] &+ s0 &+ words[i - 7] &+ s1
                    }
                    var (a, b, c, d, e, f, g, h) = state
                    for i in 0..<64 {
                        let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                        let choice = (e & f) ^ (~e & g)
                        let t1 = h &+ s1 &+ choice &+ constants[i] &+ words[i]
                        let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                        let majority = (a & b) ^ (a & c) ^ (b & c)
                        (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ majority)
                    }
                    state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                             state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
                }
            }
        }
        (stateWords[0], stateWords[1], stateWords[2], stateWords[3]) = (state.0, state.1, state.2, state.3)
        (stateWords[4], stateWords[5], stateWords[6], stateWords[7]) = (state.4, state.5, state.6, state.7)
    }
}

extension UInt32 {
    fileprivate func rotatedRight(_ count: UInt32) -> UInt32 { (self >> count) | (self << (32 - count)) }
}
