import Testing
@testable import API

/// Keyset page tokens: opaque, bound to their list and filters, refused rather than restarting a listing.
struct PageTokenTests {
    @Test func aTokenDecodesToTheKeyItWasIssuedWith() throws {
        let token = PageToken(kind: "assignments", lastKey: "asg_0000019ab3c4d5e6f7a8b9c0", filterKey: "active,,t1,")
        #expect(!token.encoded.contains("="), "URL-safe, unpadded")
        let decoded = try PageToken(decoding: token.encoded, kind: "assignments", filterKey: "active,,t1,")
        #expect(decoded.lastKey == "asg_0000019ab3c4d5e6f7a8b9c0")
    }

    @Test func aTokenForAnotherListOrOtherFiltersIsRefused() {
        let token = PageToken(kind: "assignments", lastKey: "k", filterKey: "a").encoded
        for (kind, filter) in [("audit", "a"), ("assignments", "b")] {
            #expect(throws: APIError.self) { try PageToken(decoding: token, kind: kind, filterKey: filter) }
        }
        #expect(throws: APIError.self) { try PageToken(decoding: "not a token!", kind: "assignments", filterKey: "a") }
        #expect(throws: APIError.self) { try PageToken(decoding: String(repeating: "A", count: 513), kind: "assignments", filterKey: "a") }
    }
}
