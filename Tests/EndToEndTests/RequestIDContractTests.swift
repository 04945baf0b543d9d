import Foundation
import Testing
import TestSupport

/// The contract's word on `X-Request-Id`: any value is accepted, one that breaks the pattern is replaced.
extension ContractTests {
    @Test func aRequestIdThatBreaksThePatternIsReplacedAsDocumented() async throws {
        let document = try OpenAPIDocument()
        let components = try #require(document.root["components"] as? [String: Any])
        let parameter = (components["parameters"] as? [String: Any])?["XRequestId"] as? [String: Any]
        let header = (components["headers"] as? [String: Any])?["XRequestId"] as? [String: Any]
        // Any value is accepted (no pattern on the parameter); the response's id always has the pattern.
        #expect((parameter?["schema"] as? [String: Any])?["pattern"] == nil)
        let pattern = try #require((header?["schema"] as? [String: Any])?["pattern"] as? String)
        let regex = try NSRegularExpression(pattern: pattern)
        try await withService(try await TestService(host: richHost())) { service in
            for sent in ["has space", "semi;colon", String(repeating: "a", count: 129), "ok-id.1"] {
                let response = try await service.request("GET", "/healthz", headers: [("X-Request-Id", sent)], body: [])
                #expect(response.status == 200)
                let id = try #require(response.header("X-Request-Id"))
                #expect(regex.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)) != nil, "\(id)")
                #expect((id == sent) == (sent == "ok-id.1"))
            }
        }
    }
}
