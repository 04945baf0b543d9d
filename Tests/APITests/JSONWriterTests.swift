import Testing
import Inventory
@testable import API

/// The writer's shortcuts write the bytes the plain way writes.
struct JSONWriterTests {
    @Test func hexIsWhatAPaddedHexStringIs() {
        var values: [UInt64] = [0, 1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000, 0x30000, 0x0c0330, 0xffffff,
                                0x1000000, UInt64(UInt32.max), UInt64.max]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 { values.append(UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0...63, using: &generator)) }
        for value in values {
            for width in [0, 1, 2, 4, 6, 16, 17] {
                var fast = JSONWriter()
                fast.beginArray(); fast.hex(value, width: width); fast.hex(UInt8(truncatingIfNeeded: value), width: width); fast.endArray()
                var plain = JSONWriter()
                plain.beginArray(); plain.string(Hex.pad(value, width)); plain.string(Hex.pad(UInt8(truncatingIfNeeded: value), width))
                plain.endArray()
                #expect(fast.bytes == plain.bytes, "\(value) \(width)")
            }
        }
        var none = JSONWriter()
        none.hex(UInt16?.none, width: 4)
        #expect(none.bytes == Array("null".utf8))
    }

    @Test func literalsAndNumbersAreWrittenAsTheirText() {
        var json = JSONWriter()
        json.beginObject()
        json.key("a"); json.bool(true)
        json.key("b"); json.bool(false)
        json.key("c"); json.null()
        json.key("d"); json.int(-42)
        json.key("e"); json.double(1.5)
        json.endObject()
        #expect(String(decoding: json.bytes, as: UTF8.self) == #"{"a":true,"b":false,"c":null,"d":-42,"e":1.5}"#)
    }
}
