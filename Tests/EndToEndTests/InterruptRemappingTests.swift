import Foundation
import Testing
import TestSupport
import VFIOSimulator

/// `/v1/host`'s notes say plainly when interrupt remapping is off, read from a tree laid out as Linux lays it:
/// `/sys/class/iommu/dmarN` links to `/sys/devices/virtual/iommu/dmarN`, whose `intel-iommu/ecap` is the
/// VT-d extended capability register in hex (bit 3, IR: interrupt remapping); `/proc/interrupts` names
/// remapped MSI chips `IR-PCI-MSI…`; `/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts` is Y or N.
@Suite struct InterruptRemappingTests {
    /// A VT-d unit's ecap with IR (0xda: bit 3 set) and the same unit's without it (0xd2).
    static let ecapWithIR = "f020da", ecapWithoutIR = "f020d2"

    static let remapped = """
                   CPU0       CPU1
          0:         35          0   IO-APIC    2-edge      timer
         24:          0       1042  IR-PCI-MSIX-0000:00:02.0    0-edge      nvme0q0
        """
    static let notRemapped = """
                   CPU0       CPU1
          0:         35          0   IO-APIC    2-edge      timer
         24:          0       1042  PCI-MSIX-0000:00:02.0    0-edge      nvme0q0
        """

    @Test(arguments: [
        // (ecap, /proc/interrupts, allow_unsafe_interrupts, what the note must say; nil: no note)
        (ecapWithoutIR, remapped, "N", "the Intel IOMMU dmar0 cannot remap interrupts"),
        (ecapWithIR, notRemapped, "N", "none remapped"),
        (ecapWithIR, notRemapped, "Y", "allow_unsafe_interrupts is on"),
        (ecapWithIR, remapped, "N", nil),
        (ecapWithIR, remapped, "Y", nil),
    ] as [(String, String, String, String?)])
    func hostNotesSayWhenInterruptRemappingIsOff(_ ecap: String, _ interrupts: String, _ unsafe: String, _ expected: String?) async throws {
        let nic = FakeSysfs.device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, driver: "e1000e", group: 3)
        let tree = try FakeSysfs.make(HostSpec(devices: [nic]))
        defer { tree.remove() }
        try Self.layOut(tree.path, ecap: ecap, interrupts: interrupts, allowUnsafe: unsafe)
        try await withService(try await TestService(hostRoot: tree.path)) { service in
            let host = try await service.json("/v1/host")
            let notes = (host["notes"] as? [String] ?? []).filter { $0.contains("interrupt remapping") }
            if let expected {
                #expect(notes.count == 1, "\(notes)")
                #expect(notes.first?.contains(expected) == true, "\(notes)")
                #expect(notes.first?.hasPrefix("interrupt remapping is off") == true, "\(notes)")
            } else {
                #expect(notes.isEmpty, "\(notes)")
            }
        }
    }

    /// A host without an IOMMU gets the no-IOMMU note alone, however its interrupts look.
    @Test func noIOMMUMeansNoInterruptRemappingNote() async throws {
        let nic = FakeSysfs.device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, driver: "e1000e", group: nil)
        let tree = try FakeSysfs.make(HostSpec(iommu: false, devices: [nic]))
        defer { tree.remove() }
        try Self.layOut(tree.path, ecap: nil, interrupts: Self.notRemapped, allowUnsafe: "N")
        try await withService(try await TestService(hostRoot: tree.path)) { service in
            let notes = try await service.json("/v1/host")["notes"] as? [String] ?? []
            #expect(notes.contains { $0.hasPrefix("no IOMMU") }, "\(notes)")
            #expect(!notes.contains { $0.contains("interrupt remapping is off") }, "\(notes)")
        }
    }

    /// Writes the files as the kernel has them beneath `root`.
    static func layOut(_ root: String, ecap: String?, interrupts: String, allowUnsafe: String) throws {
        let files = FileManager.default
        if let ecap {
            let unit = root + "/sys/devices/virtual/iommu/dmar0"
            try files.createDirectory(atPath: unit + "/intel-iommu", withIntermediateDirectories: true)
            try (ecap + "\n").write(toFile: unit + "/intel-iommu/ecap", atomically: false, encoding: .utf8)
            try files.createDirectory(atPath: root + "/sys/class/iommu", withIntermediateDirectories: true)
            try files.createSymbolicLink(atPath: root + "/sys/class/iommu/dmar0", withDestinationPath: "../../devices/virtual/iommu/dmar0")
        }
        try files.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try (interrupts + "\n").write(toFile: root + "/proc/interrupts", atomically: false, encoding: .utf8)
        let parameters = root + "/sys/module/vfio_iommu_type1/parameters"
        try files.createDirectory(atPath: parameters, withIntermediateDirectories: true)
        try (allowUnsafe + "\n").write(toFile: parameters + "/allow_unsafe_interrupts", atomically: false, encoding: .utf8)
    }
}
