import Foundation
import Testing
@testable import Store

@Suite struct ChecksumAndTimestampTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesFIPSVectors(input: String, digest: String) {
        #expect(SHA256.hexDigest(input.utf8) == digest)
    }

    @Test func sha256sCPUInstructionsAndPortableRoundsGiveTheSameDigests() {
        #expect(SHA256.hasHardware == (try! String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).contains(" sha_ni"))
        // Every length around the padding's boundaries (55/56, 63/64 bytes …), bytes of every value.
        for count in 0...300 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ count) }
            #expect(SHA256.hexDigest(bytes, portable: true) == SHA256.hexDigest(bytes, portable: false) || !SHA256.hasHardware,
                    "\(count) bytes")
        }
        #expect(SHA256.hexDigest("abc".utf8, portable: true) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sha256OfAMillionAs() {
        #expect(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func timestampsFormatInUTCWithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_738_324_800.123_9)) == "2025-01-31T12:00:00.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.0005)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_738_324_800.123)) == "2025-01-31T12:00:00.123Z")
    }

    @Test func timestampsAgreeWithFoundationAcrossTheCalendar() {
        let reference = DateFormatter()
        reference.locale = Locale(identifier: "en_US_POSIX")
        reference.timeZone = TimeZone(identifier: "UTC")
        reference.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        // Whole milliseconds from 1900 to 2200 in uneven strides: every month length, leap days, year ends.
        var milliseconds: Int64 = -2_208_988_800_000
        while milliseconds < 7_258_118_400_000 {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            #expect(Timestamp.format(date) == reference.string(from: date))
            milliseconds += 86_399_999 * 37 + 1_234
        }
        // Past year 9999 the year keeps all its digits.
        #expect(Timestamp.format(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
    }

    @Test func timestampsParseBack() throws {
        for milliseconds: Int64 in [0, 1, 951_782_400_000, 1_738_324_800_123, -1, 4_102_444_799_999] {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let parsed = try #require(Timestamp.parse(Timestamp.format(date)))
            #expect(Int64((parsed.timeIntervalSince1970 * 1000).rounded()) == milliseconds)
        }
    }

    @Test(arguments: ["", "2025-01-31T12:00:00Z", "2025-01-31 12:00:00.000Z", "2025-02-30T12:00:00.000Z",
                      "2025-01-31T24:00:00.000Z", "2025-01-31T12:00:00.000+01:00", "2025-13-01T00:00:00.000Z"])
    func malformedTimestampsDoNotParse(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
