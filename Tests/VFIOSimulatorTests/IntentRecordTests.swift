import Foundation
import Testing
import VFIOCore
@testable import VFIOSimulator

/// The intent records' spare files and the bus entries' resolution by hand: the shortcuts a write takes
/// must leave what the longer way left.
struct IntentRecordTests {
    static let nic = pci("0000:02:00.0")

    static func host() -> HostSpec {
        HostSpec(cdev: true, iommufd: true, devices: [device("0000:02:00.0", 0x020000, driver: "e1000e", group: 9)])
    }

    /// A lease and its release, as the lease phase makes them.
    static func leaseAndRelease(_ kernel: SimulatedKernel) throws {
        try kernel.setDriverOverride(nic, to: "vfio-pci")
        try kernel.unbind(nic, from: "e1000e")
        try kernel.probe(nic)
        try kernel.unbind(nic, from: "vfio-pci")
        try kernel.setDriverOverride(nic, to: nil)
        try kernel.probe(nic)
    }

    @Test func writesReuseOneSpareAndLeaveNoRecord() throws {
        let directory = try ScratchDirectory()
        try SysfsTreeBuilder(root: directory.path).build(Self.host())
        let kernel = try SimulatedKernel(source: directory.path, inPlace: true)
        let spare = directory.path + "/.vfiod-simulator/spare"
        for _ in 0..<3 { try Self.leaseAndRelease(kernel) }
        #expect(kernel.driver(of: Self.nic) == "e1000e")
        #expect(try SysfsFiles.listDirectory(directory.path + "/.vfiod-simulator/pending").isEmpty)
        let spares = try SysfsFiles.listDirectory(spare)
        #expect(spares.count == 1, "one thread's writes in turn use one spare: \(spares)")
        #expect(TreeConsistency.problems(kernel).isEmpty)

        // The spare is held while its kernel lives: a second kernel on the tree keeps it; a spare nobody
        // holds (a dead process's) goes.
        try Data("stray\n".utf8).write(to: URL(fileURLWithPath: spare + "/1.1"))
        let second = try SimulatedKernel(source: directory.path, inPlace: true)
        #expect(try SysfsFiles.listDirectory(spare) == spares)
        try Self.leaseAndRelease(second)
        #expect(second.driver(of: Self.nic) == "e1000e")
    }

    @Test func aRecordPaddedToItsSparesLengthIsCompleted() throws {
        let directory = try ScratchDirectory()
        try SysfsTreeBuilder(root: directory.path).build(Self.host())
        let kernel = try SimulatedKernel(source: directory.path, inPlace: true)
        try kernel.setDriverOverride(Self.nic, to: "vfio-pci")
        try kernel.unbind(Self.nic, from: "e1000e")
        try kernel.probe(Self.nic)
        try kernel.unbind(Self.nic, from: "vfio-pci")
        // The attach record is shorter than the detach record (group, vfio-dev) the spare held last:
        // padded; the attach is then cut short after its first step.
        kernel.interruptTreeChange(afterSteps: 1)
        #expect(throws: KernelError.self) { try kernel.probe(Self.nic) }
        let record = try SysfsFiles.readBytes(directory.path + "/.vfiod-simulator/pending/\(Self.nic)", limit: 4096)
        #expect(String(decoding: record, as: UTF8.self).hasSuffix(" \n"), "padded: \(String(decoding: record, as: UTF8.self))")
        #expect(TreeIntent(encoded: String(decoding: record, as: UTF8.self))?.cdev != nil)

        let reopened = try SimulatedKernel(source: directory.path, inPlace: true)
        #expect(reopened.driver(of: Self.nic) == "vfio-pci")
        #expect(TreeConsistency.problems(reopened).isEmpty)
    }

    @Test(arguments: ["/tmp/root", "/"])
    func aBusEntryResolvesByHandAsByTheGeneralWay(_ root: String) throws {
        let tree = SimulatedTree(root: root)
        let bus = tree.paths.sys("bus/pci/devices")
        let targets = ["../../../devices/pci0000:00/0000:00:02.0", "../../../devices/pci0000:00/./0000:00:02.0",
                       "../../../devices//pci0000:00", "../../../devices/pci0000:00/", "../../../devices/../x",
                       "../../../../../../../x", "/abs/./olute/../x", "0000:00:02.0", "../.../x", "../../..", "..",
                       "../devices/..hidden/.x"]
        for target in targets {
            #expect(tree.resolve(busEntryLink: target) == SysfsFiles.resolve(link: target, in: bus), "\(target)")
        }
    }

    @Test func linkTextsAndLastComponentsComeOutAsSplittingGivesThem() {
        let pairs = [("sys/bus/pci/drivers/vfio-pci", "sys/devices/pci0000:00/0000:00:02.0"),
                     ("sys/devices/pci0000:00/0000:00:02.0", "sys/bus/pci/drivers/vfio-pci"), ("a/b", "a/b"),
                     ("a/b/c", "a"), ("", "dev/vfio/7"), ("dev/vfio", ""), ("a//b/", "/a/c"), ("x/y", "z")]
        for (from, to) in pairs {
            #expect(TreeWriter.relativePath(from: from, to: to) == TreeWriter.componentwiseRelativePath(from: from, to: to),
                    "\(from) → \(to)")
        }
        for path in ["../../../kernel/iommu_groups/100", "vfio-pci", "a/b/", "/", "", "//x//", "../bus/pci/drivers/nvme"] {
            #expect(SimulatedTree.lastComponent(path).map(String.init) == path.split(separator: "/").last.map(String.init), "\(path)")
        }
    }

    @Test func vfioDriversAreTheNamesContainingVFIO() {
        for name in ["vfio-pci", "mlx5_vfio_pci", "vfio", "xvfio", "nvme", "vfi", "", "e1000e", "VFIO"] {
            #expect(SimulatedKernel.isVFIODriver(name) == name.contains("vfio"), "\(name)")
        }
    }
}
