import Testing
@testable import Store

/// `SHA256.digest` (the allocation-free key the token cache uses) against the hex digest and FIPS vectors.
@Suite struct SHA256DigestTests {
    @Test func theDigestsHexIsTheHexDigestAtEveryLengthBothWays() {
        // Every length around the padding's boundaries, from contiguous bytes, a string's UTF-8 and a
        // collection that is not contiguous (the fallback).
        for count in 0...300 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ count) }
            let expected = SHA256.hexDigest(bytes, portable: true)
            #expect(SHA256.digest(bytes, portable: true).hex == expected, "\(count) bytes, portable")
            #expect(SHA256.digest(bytes).hex == expected, "\(count) bytes")
            #expect(SHA256.digest(bytes.lazy.map { $0 }).hex == expected, "\(count) bytes, not contiguous")
        }
        #expect(SHA256.digest("abc".utf8).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func digestsAreEqualAndHashAlikeOnlyForTheSameBytes() {
        let token = "vfiod_" + String(repeating: "x", count: 43)
        #expect(SHA256.digest(token.utf8) == SHA256.digest(Array(token.utf8)))
        #expect(SHA256.digest(token.utf8).hashValue == SHA256.digest(Array(token.utf8)).hashValue)
        #expect(SHA256.digest(token.utf8) != SHA256.digest((token + "y").utf8))
        let keys = Set((0..<1000).map { SHA256.digest("token \($0)".utf8) })
        #expect(keys.count == 1000)
    }
}
