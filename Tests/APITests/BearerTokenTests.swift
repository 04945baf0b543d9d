@testable import API
import Testing

/// `Authorization: Bearer <token>`: the usual form read from the bytes answers as the general reading.
@Suite struct BearerTokenTests {
    @Test(arguments: [
        ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER abc", "abc"), ("Bearer a b", "a b"),
        ("Bearer \tabc", "\tabc"), ("Bearer  abc", " abc"), ("Bearer é", "é"),
        ("Bearer " + String(repeating: "x", count: 256), String(repeating: "x", count: 256)),
    ])
    func aBearerTokenIsTheRestAfterTheScheme(header: String, token: String) {
        #expect(APIContext.bearerToken(header) == token)
    }

    @Test(arguments: ["Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer: abc", "Token abc",
                      "Bearer " + String(repeating: "x", count: 257)])
    func anythingElseIsNoBearerToken(header: String) {
        #expect(APIContext.bearerToken(header) == nil)
    }
}
