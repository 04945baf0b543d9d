@testable import API
import Assignments
import Foundation
import Testing

/// The plain form of a small body read byte by byte gives what Foundation's reading gives, and anything
/// else is left to Foundation (which answers the problems).
@Suite struct PlainJSONObjectTests {
    @Test(arguments: [
        #"{"device":"0000:01:00.0","holder":{"id":"vm-1","tenant":"team-a"}}"#,
        #"{"group":7,"holder":{"id":"vm-1","tenant":"team-a","uid":1000},"ttlSeconds":60,"resetOnRelease":true}"#,
        #"{"group":0,"holder":{"id":"a","tenant":"b"},"resetOnRelease":false,"escalation":"kill"}"#,
        " {\n\t\"device\" : \"0000:01:00.0\" ,\r\n \"holder\":{ \"tenant\":\"t\", \"id\":\"i\" } } \n",
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"releaseGraceSeconds":86400,"releaseTimeoutSeconds":0}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"callbackUrl":"http://127.0.0.1:9/done?x=1"}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"ttlSeconds":999999999999999999}"#,
    ])
    func aPlainBodyGivesTheSameRequestAsFoundation(body: String) throws {
        let bytes = Array(body.utf8)
        let plain = try #require(PlainJSONObject.parse(bytes))
        let general = try JSONObject.parseGeneral(bytes)
        #expect(Set(plain.keys) == Set(general.keys))
        let fromPlain = try AssignmentBody.request(plain, callbackHosts: .loopback)
        let fromGeneral = try AssignmentBody.request(general, callbackHosts: .loopback)
        #expect(fromPlain == fromGeneral)
    }

    /// Refusals of plain bodies come out the same way: the same code and detail.
    @Test(arguments: [
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"ttlSeconds":0}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"resetOnRelease":1}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"ttlSeconds":true}"#,
        #"{"group":"7","holder":{"id":"a","tenant":"b"}}"#,
        #"{"group":7,"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"}}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b","uid":4294967295}}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b","extra":1}}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a b","tenant":"b"}}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"colour":"red"}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"callbackUrl":"http://example.com/"}"#,
        #"{"device":"0000:01:00.0","holder":{"id":"a","tenant":"b"},"escalation":"maybe"}"#,
        #"{}"#,
    ])
    func aPlainRefusalIsTheSameAsFoundations(body: String) throws {
        let bytes = Array(body.utf8)
        let plain = try #require(PlainJSONObject.parse(bytes))
        let general = try JSONObject.parseGeneral(bytes)
        let fromPlain = #expect(throws: APIError.self) { try AssignmentBody.request(plain, callbackHosts: .loopback) }
        let fromGeneral = #expect(throws: APIError.self) { try AssignmentBody.request(general, callbackHosts: .loopback) }
        #expect(fromPlain?.code == fromGeneral?.code)
        #expect(fromPlain?.detail == fromGeneral?.detail)
    }

    @Test func booleansAreBooleansAndNumbersAreNot() throws {
        let object = try #require(PlainJSONObject.parse(Array(#"{"a":true,"b":false,"c":1,"d":0}"#.utf8)))
        #expect((object["a"] as? NSNumber).map(JSONObject.isBool) == true)
        #expect((object["b"] as? NSNumber).map(JSONObject.isBool) == true)
        #expect((object["c"] as? NSNumber).map(JSONObject.isBool) == false)
        #expect((object["d"] as? NSNumber).map(JSONObject.isBool) == false)
        #expect(WholeNumber(object["c"] as Any) == .exact(1))
        #expect(WholeNumber(object["a"] as Any) == nil)
    }

    /// Outside the plain form: nil, so the body goes to Foundation and its checks.
    @Test(arguments: [
        "", " ", "[]", "{", "}", #"{"a":1,}"#, #"{"a":1}x"#, #"{"a":1}{}"#, #"{"a" 1}"#, #"{a:1}"#,
        #"{"a":1,"a":2}"#, #"{"h":{"a":1,"a":2}}"#, #"{"a":"\u0061"}"#, #"{"a\n":1}"#, #"{"a":"é"}"#,
        #"{"a":null}"#, #"{"a":[1]}"#, #"{"a":-1}"#, #"{"a":1.0}"#, #"{"a":1e3}"#, #"{"a":01}"#,
        #"{"a":1234567890123456789}"#, #"{"a":99999999999999999999999}"#, #"{"a":18446744073709551616}"#, #"{"a":tru}"#, #"{"a":truex}"#, "{\"a\":\"x\ty\"}", "\u{FEFF}{}",
        #"{"a":{"b":{"c":{"d":{"e":1}}}}}"#, #"{"a":"unterminated}"#,
    ])
    func anythingElseIsLeftToFoundation(body: String) {
        #expect(PlainJSONObject.parse(Array(body.utf8)) == nil)
    }
}
