import Testing
@testable import API

/// `If-Match` names the generation an assignment's `ETag` carried (`"g7"`), weak or strong; `*` names none.
struct AssignmentETagTests {
    @Test func theGenerationIsReadBackFromTheETagItWasWrittenAs() throws {
        #expect(AssignmentETag.of(generation: 7) == "\"g7\"")
        #expect(try AssignmentETag.generation(ifMatch: "\"g7\"") == 7)
        #expect(try AssignmentETag.generation(ifMatch: "W/\"g7\"") == 7)
        #expect(try AssignmentETag.generation(ifMatch: "*") == nil)
        #expect(try AssignmentETag.generation(ifMatch: nil) == nil)
    }

    @Test func anythingElseIsAnInvalidHeader() {
        for header in ["g7", "\"7\"", "\"g\"", "\"gx\"", "\"g99999999999999999999\""] {
            #expect(throws: APIError.self, "\(header)") { try AssignmentETag.generation(ifMatch: header) }
        }
    }
}
