import Testing
import VFIOCore

struct PCIAddressTests {
    @Test func parsesCanonicalForms() throws {
        let address = try #require(PCIAddress("0000:41:00.1"))
        #expect(address.domain == 0 && address.bus == 0x41 && address.slot == 0 && address.function == 1)
        #expect(address.description == "0000:41:00.1")
        let vmd = try #require(PCIAddress("10000:e1:1f.7"))
        #expect(vmd.domain == 0x10000 && vmd.slot == 31 && vmd.function == 7)
        #expect(PCIAddress("ffffffff:00:00.0")?.domain == 0xffff_ffff)
        #expect(vmd.description == "10000:e1:1f.7")
    }

    @Test(arguments: ["0000:41:00.8", "0000:41:20.0", "0000:4G:00.0", "0000:41:00.1/../x", "../0000:41:00.0",
                      "0000:41:00", "", "000:41:00.0", "123456789:00:00.0", "0000:41:00.0 ", "0000/41:00.0"])
    func refusesGarbage(_ text: String) {
        #expect(PCIAddress(text) == nil)
    }

    @Test func refusesUppercase() {
        #expect(PCIAddress("0000:AB:00.0") == nil)
        #expect(PCIAddress("0000:ab:00.0") != nil)
    }

    @Test func ordersLikeLspci() throws {
        let sorted = ["0001:00:00.0", "0000:41:00.1", "0000:41:00.0", "0000:03:1f.0"].compactMap { PCIAddress($0) }.sorted()
        #expect(sorted.map(\.description) == ["0000:03:1f.0", "0000:41:00.0", "0000:41:00.1", "0001:00:00.0"])
    }
}
