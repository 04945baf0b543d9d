import Foundation
import Testing
import VFIOSimulator

struct TopologyErrorTests {
    private static func message(_ json: String) -> String? {
        do {
            _ = try Topology.decode(Data(json.utf8)).expand()
            return nil
        } catch let error as TopologyError {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    private static func devices(_ entries: String) -> String { "{\"devices\": [\(entries)]}" }
    private static let bridge = #"{"address": "0000:00:01.0", "vendor": "0x8086", "device": "0x1", "class": "0x060400"}"#

    @Test func duplicateAddress() {
        let text = Self.message(Self.devices(Self.bridge + "," + Self.bridge))
        #expect(text == #"devices[1] (0000:00:01.0): field "address": 0000:00:01.0 duplicates devices[0] (0000:00:01.0)"#)
    }

    @Test func badHex() {
        let text = Self.message(Self.devices(#"{"address": "0000:00:01.0", "vendor": "0xZZ", "device": "0x1", "class": "0x0"}"#))
        #expect(text == #"devices[0] (0000:00:01.0): field "vendor": "0xZZ" is not a 16-bit hex number"#)
        let wide = Self.message(Self.devices(#"{"address": "0000:00:01.0", "vendor": "0x1", "device": "0x1", "class": "0x1000000"}"#))
        #expect(wide?.contains(#"field "class""#) == true)
    }

    @Test func badAddress() {
        let text = Self.message(Self.devices(#"{"address": "0000:00:01.0/..", "vendor": "0x1", "device": "0x1", "class": "0x0"}"#))
        #expect(text?.hasPrefix(#"devices[0] (0000:00:01.0/..): field "address""#) == true)
    }

    @Test func vfWithoutPF() {
        let text = Self.message(Self.devices(#"{"address": "0000:00:02.1", "vendor": "0x1", "device": "0x1", "class": "0x020000", "physfn": "0000:00:02.0"}"#))
        #expect(text == #"devices[0] (0000:00:02.1): field "physfn": VF without PF: 0000:00:02.0 is not a device of this host"#)
    }

    @Test func unknownParentAndNonBridgeParent() {
        let orphan = Self.message(Self.devices(#"{"address": "0000:01:00.0", "vendor": "0x1", "device": "0x1", "class": "0x0", "parent": "0000:00:09.0"}"#))
        #expect(orphan == #"devices[0] (0000:01:00.0): field "parent": 0000:00:09.0 is not a device of this host"#)
        let endpoint = #"{"address": "0000:00:03.0", "vendor": "0x1", "device": "0x1", "class": "0x020000"}"#
        let child = #"{"address": "0000:01:00.0", "vendor": "0x1", "device": "0x1", "class": "0x0", "parent": "0000:00:03.0"}"#
        #expect(Self.message(Self.devices(endpoint + "," + child))?.contains("is not a bridge") == true)
    }

    @Test func wrongTypesNameThePath() {
        let text = Self.message(Self.devices(#"{"address": "0000:00:01.0", "vendor": "0x1", "device": "0x1", "class": "0x0", "iommuGroup": "seven"}"#))
        #expect(text?.hasPrefix("devices[0].iommuGroup: expected") == true)
        let missing = Self.message(Self.devices(#"{"address": "0000:00:01.0", "vendor": "0x1", "class": "0x0"}"#))
        #expect(missing == "devices[0].device: required field is missing")
    }

    @Test func repetitionPastTheLastBus() {
        let text = Self.message(Self.devices(#"{"address": "0000:fe:00.0", "vendor": "0x1", "device": "0x1", "class": "0x0", "repeat": {"count": 3, "step": "bus"}}"#))
        #expect(text == #"devices[0] (0000:fe:00.0): field "address": repetition runs past bus ff"#)
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: TopologyError.self) { try SimulatedKernel(source: "/nonexistent/topology.json") }
    }
}
