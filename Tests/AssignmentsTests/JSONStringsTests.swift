import Foundation
import Testing
@testable import Assignments

/// An assignment's device paths column: plain paths are read without Foundation's JSON, and whatever
/// `encode` writes reads back as it was.
struct JSONStringsTests {
    @Test(arguments: [
        [String](), [""], ["/dev/vfio/10"], ["/dev/vfio/11", "/dev/vfio/devices/vfio0", ""],
        ["a \"quoted\" path", "back\\slash"], ["ünïcode", "/dev/vfio/3"], [",", "\",\""],
    ])
    func whatEncodeWritesDecodesBack(values: [String]) {
        #expect(JSONStrings.decode(JSONStrings.encode(values)) == values)
    }

    @Test func textThatIsNotAnArrayOfStringsDecodesAsEmpty() {
        for text in ["[\"a\",\"]", "[\"a\"\"b\"]", "[\"a\",1]", "nonsense", "[\"a\""] {
            #expect(JSONStrings.decode(text) == [], "\(text)")
        }
        #expect(JSONStrings.decode("[\"a\",\"b\"]") == ["a", "b"])
    }
}
