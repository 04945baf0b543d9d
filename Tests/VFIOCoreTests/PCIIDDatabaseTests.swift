import Testing
import VFIOCore

struct PCIIDDatabaseTests {
    @Test func namesFromTheSystemDatabase() throws {
        let database = try PCIIDDatabase(path: PCIIDDatabase.defaultPath)
        #expect(database.vendorName(0x10de) == "NVIDIA Corporation")
        #expect(database.vendorName(0x8086) == "Intel Corporation")
        #expect(database.deviceName(vendor: 0x8086, device: 0x100e) == "82540EM Gigabit Ethernet Controller")
        #expect(database.className(0x030000) == "VGA controller")
        #expect(database.className(0x010802) == "NVM Express")
        #expect(database.className(0x0c0330) == "XHCI")
        #expect(database.className(0x060400) == "Normal decode")
        #expect(database.className(0x0604ff) == "PCI bridge")
        #expect(database.className(0xfe0000) == nil)
        #expect(database.vendorCount > 1000 && database.deviceCount > 10000)
    }

    @Test func parsesSubsystemsAndClassesFromText() {
        let text = """
        # comment
        1af4  Red Hat, Inc.
        \t1041  Virtio 1.0 network device
        \t\t1af4 1100  QEMU Virtual Machine
        C 02  Network controller
        \t00  Ethernet controller
        C 01  Mass storage controller
        \t08  Non-Volatile memory controller
        \t\t02  NVM Express

        """
        let database = PCIIDDatabase(contents: Array(text.utf8))
        #expect(database.vendorName(0x1af4) == "Red Hat, Inc.")
        #expect(database.deviceName(vendor: 0x1af4, device: 0x1041) == "Virtio 1.0 network device")
        #expect(database.subsystemName(vendor: 0x1af4, device: 0x1041, subsystemVendor: 0x1af4, subsystemDevice: 0x1100) == "QEMU Virtual Machine")
        #expect(database.className(0x020000) == "Ethernet controller")
        #expect(database.className(0x020100) == "Network controller")
        #expect(database.className(0x010802) == "NVM Express")
        #expect(PCIIDDatabase().vendorName(0x1af4) == nil)
    }

    @Test func missingFileThrows() {
        #expect(throws: KernelError.self) { try PCIIDDatabase(path: "/nonexistent/pci.ids") }
    }
}
