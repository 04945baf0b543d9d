extension SHA256 {
    /// A SHA-256 digest as four 64-bit words (the state words in order, two to a word): hashed and
    /// compared without hex text, e.g. as a dictionary key looked up on every request.
    public struct Digest: Hashable, Sendable {
        let high0, high1, low0, low1: UInt64

        /// The digest of the 8 state words `words` (exactly 8).
        init<Words: RandomAccessCollection<UInt32>>(_ words: Words) where Words.Index == Int {
            func pair(_ index: Int) -> UInt64 { UInt64(words[index]) << 32 | UInt64(words[index + 1]) }
            (high0, high1, low0, low1) = (pair(0), pair(2), pair(4), pair(6))
        }

        /// 64 lowercase hex digits, as `SHA256.hexDigest` gives them.
        public var hex: String {
            String(unsafeUninitializedCapacity: 64) { buffer in
                for (index, word) in [high0, high1, low0, low1].enumerated() {
                    for nibble in 0..<16 {
                        let value = Int((word >> UInt64(60 - 4 * nibble)) & 0xf)
                        buffer[index * 16 + nibble] = UInt8(value < 10 ? 0x30 + value : 0x57 + value)
                    }
                }
                return 64
            }
        }
    }
}
