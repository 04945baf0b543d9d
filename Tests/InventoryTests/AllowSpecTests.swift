import Testing
import Inventory
import VFIOCore

private func facts(_ address: String, vendor: UInt16 = 0x10de, device: UInt16 = 0x2204, classCode: UInt32 = 0x030000) -> PCIDeviceFacts {
    PCIDeviceFacts(address: PCIAddress(address)!, vendorID: vendor, deviceID: device, classCode: classCode, sysfsPath: "/x")
}

@Test(arguments: ["all", "0000:41:00.0", "10de:2204", "10de:*", "class:03", "class:0300", "class:030000", "ALL", "10DE:2204"])
func allowSpecParsesWhatUsersWrite(_ text: String) throws {
    let spec = try AllowSpec(parsing: text)
    #expect(spec.admits(facts("0000:41:00.0")))
}

@Test(arguments: ["", "any", "10de", "10de:22", "10de:2204:1", "class:3", "class:030", "class:zz", "0000:41:00.8", "../sys"])
func allowSpecRefusesNonsenseWithAClearMessage(_ text: String) {
    #expect {
        _ = try AllowSpec(parsing: text)
    } throws: { error in
        "\(error)".contains("invalid allow spec") && "\(error)".contains("expected")
    }
}

@Test func allowSpecsAdmitOnlyWhatTheySay() throws {
    let gpu = facts("0000:41:00.0")
    let nic = facts("0000:03:00.0", vendor: 0x8086, device: 0x10d3, classCode: 0x020000)
    #expect(try AllowSpec(parsing: "class:02").admits(nic))
    #expect(try !AllowSpec(parsing: "class:02").admits(gpu))
    #expect(try AllowSpec(parsing: "class:0200").admits(nic))
    #expect(try !AllowSpec(parsing: "class:020001").admits(nic))
    #expect(try AllowSpec(parsing: "8086:*").admits(nic))
    #expect(try !AllowSpec(parsing: "8086:10d4").admits(nic))
    #expect(try !AllowSpec(parsing: "0000:41:00.1").admits(gpu))
    #expect(Allowlist().admittingSpec(for: gpu) == nil)
    #expect(try AllowSpec(parsing: "10DE:*").description == "10de:*")
    #expect(try AllowSpec(parsing: "class:0300").description == "class:0300")
}
