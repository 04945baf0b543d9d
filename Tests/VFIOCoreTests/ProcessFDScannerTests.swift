import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// Openers found in a fake `proc` tree whose fd links dangle (their targets are the kernel's paths, which
/// do not exist here), and LinuxKernel's VFIO reads of fake trees.
struct ProcessFDScannerTests {
    /// `proc/<pid>/fd/<n>` → `target` (a dangling link is fine), `cmdline`, `comm`.
    private static func addProcess(_ root: String, pid: Int, fds: [Int: String], cmdline: [UInt8]?, comm: String) throws {
        let directory = root + "/proc/\(pid)"
        try FileManager.default.createDirectory(atPath: directory + "/fd", withIntermediateDirectories: true)
        for (fd, target) in fds {
            try FileManager.default.createSymbolicLink(atPath: directory + "/fd/\(fd)", withDestinationPath: target)
        }
        if let cmdline { try Data(cmdline).write(to: URL(fileURLWithPath: directory + "/cmdline")) }
        try Data((comm + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/comm"))
    }

    private static func fakeProc() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory(prefix: "proc")
        try addProcess(root.path, pid: 100, fds: [0: "/dev/null", 5: "/dev/vfio/7", 6: "/dev/vfio/vfio", 7: "/dev/vfio/7"],
                       cmdline: Array("qemu-system-x86_64\0-name\0vm1\0".utf8), comm: "qemu-system-x86")
        try addProcess(root.path, pid: 200, fds: [3: "/dev/vfio/devices/vfio2", 4: "/dev/iommu"], cmdline: [], comm: "vfio-opener")
        try addProcess(root.path, pid: 300, fds: [3: "/dev/vfio/70", 4: "/dev/vfio/devices/vfio20", 5: "/tmp/dev/vfio/7"],
                       cmdline: Array("other\0".utf8), comm: "other")
        // Gone between listing and reading: an fd link but no cmdline or comm left.
        try FileManager.default.createDirectory(atPath: root.path + "/proc/400/fd", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/proc/400/fd/3", withDestinationPath: "/dev/vfio/7")
        // Not processes.
        try FileManager.default.createDirectory(atPath: root.path + "/proc/sys/kernel", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.path + "/proc/self", withDestinationPath: "100")
        return root
    }

    @Test func openersOfGroupsAndCdevsAreFoundByExactLinkTarget() throws {
        let root = try Self.fakeProc()
        let kernel = LinuxKernel(paths: root.hostPaths)
        let openers = kernel.openers(groups: [7], cdevs: ["vfio2"])
        #expect(openers == [
            VFIOOpener(pid: 100, commandLine: "qemu-system-x86_64 -name vm1", paths: ["/dev/vfio/7"]),
            VFIOOpener(pid: 200, commandLine: "vfio-opener", paths: ["/dev/vfio/devices/vfio2"]),
        ])
        #expect(kernel.openers(groups: [70], cdevs: []).map(\.pid) == [300])
        #expect(kernel.openers(groups: [8], cdevs: ["vfio3"]).isEmpty)
        #expect(kernel.openers(groups: [], cdevs: []).isEmpty)
    }

    /// On the iommufd kernel an unbind removes the cdev node before it waits for the openers, whose fd
    /// links then read `… (deleted)`: they still hold the device.
    @Test func anOpenerOfACdevWhoseNodeWasRemovedIsStillAnOpener() throws {
        let root = try TemporaryDirectory(prefix: "proc")
        try Self.addProcess(root.path, pid: 500, fds: [3: "/dev/vfio/devices/vfio0 (deleted)", 4: "/dev/iommu"],
                            cmdline: Array("vfio-opener\0--cdev\0/dev/vfio/devices/vfio0\0".utf8), comm: "vfio-opener")
        try Self.addProcess(root.path, pid: 600, fds: [3: "/dev/vfio/devices/vfio01 (deleted)", 4: "/dev/vfio/devices/vfio0 (deleted) "],
                            cmdline: Array("other\0".utf8), comm: "other")
        try Self.addProcess(root.path, pid: 700, fds: [3: "/dev/vfio/devices/vfio0"], cmdline: Array("vm2\0".utf8), comm: "vm2")
        let kernel = LinuxKernel(paths: root.hostPaths)
        let opener = VFIOOpener(pid: 500, commandLine: "vfio-opener --cdev /dev/vfio/devices/vfio0", paths: ["/dev/vfio/devices/vfio0"])
        let vm = VFIOOpener(pid: 700, commandLine: "vm2", paths: ["/dev/vfio/devices/vfio0"])
        #expect(kernel.openers(groups: [8], cdevs: ["vfio0"]) == [opener, vm])
        // A cdev no longer the device's: its number may be another device's node now, whose openers are not ours.
        #expect(kernel.openers(groups: [8], cdevs: [], removedCdevs: ["vfio0"]) == [opener])
    }

    @Test func theRealProcShowsAFileUnlinkedWhileOpenAsStillHeld() throws {
        let root = try TemporaryDirectory(prefix: "proc")
        let file = root.path + "/vfio0"
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(unlink(file) == 0)
        let scanner = ProcessFDScanner(procDirectory: "/proc")
        #expect(scanner.openers(of: [ProcessFDScanner.removedNodeTarget(file): "/dev/vfio/devices/vfio0"]).map(\.pid) == [getpid()])
        #expect(scanner.openers(of: [file: "/dev/vfio/devices/vfio0"]).isEmpty)
    }

    /// A group node that opens (a character device here: /dev/null's numbers) is one nobody holds: the
    /// kernel would have answered `EBUSY` to a holder's second open. `proc` is then not read, although its
    /// fake links name the group; a node that is not a character device, or a cdev to ask about, reads it.
    @Test func aGroupNodeThatOpensIsHeldByNobodyWithoutAScan() throws {
        let root = try Self.fakeProc()
        try FileManager.default.createDirectory(atPath: root.path + "/dev/vfio", withIntermediateDirectories: true)
        try #require(mknod(root.path + "/dev/vfio/7", S_IFCHR | 0o600, dev_t(1 << 8 | 3)) == 0)
        try Data().write(to: URL(fileURLWithPath: root.path + "/dev/vfio/70"))
        let kernel = LinuxKernel(paths: root.hostPaths)
        #expect(GroupOpenProbe.isUnheld(root.path + "/dev/vfio/7"))
        #expect(!GroupOpenProbe.isUnheld(root.path + "/dev/vfio/70"))
        #expect(!GroupOpenProbe.isUnheld(root.path + "/dev/vfio/8"))
        #expect(kernel.openers(groups: [7], cdevs: []).isEmpty)
        #expect(kernel.openers(groups: [7], cdevs: ["vfio2"]).map(\.pid) == [100, 200])
        #expect(kernel.openers(groups: [7], cdevs: [], removedCdevs: ["vfio2"]).map(\.pid) == [100])
        #expect(kernel.openers(groups: [70], cdevs: []).map(\.pid) == [300])
        #expect(kernel.openers(groups: [7, 70], cdevs: []).map(\.pid) == [100, 300])
    }

    @Test func aMissingProcDirectoryHasNoOpeners() throws {
        let root = try TemporaryDirectory(prefix: "proc")
        #expect(ProcessFDScanner(procDirectory: root.path + "/proc").openers(of: ["/dev/vfio/7": "/dev/vfio/7"]).isEmpty)
    }

    @Test func theRealProcShowsThisProcessHoldingAFile() throws {
        let root = try TemporaryDirectory(prefix: "proc")
        let file = root.path + "/held"
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let openers = ProcessFDScanner(procDirectory: "/proc").openers(of: [file: "/dev/vfio/9"])
        close(fd)
        #expect(openers.map(\.pid) == [getpid()])
        #expect(openers.first?.paths == ["/dev/vfio/9"])
        #expect(openers.first?.commandLine.isEmpty == false)
        #expect(ProcessFDScanner(procDirectory: "/proc").openers(of: [file: "/dev/vfio/9"]).isEmpty)
    }

    @Test func theKernelLogOfAFakeTreeIsItsDevKmsgFile() throws {
        let tree = try FakeSysfs.make(HostSpec())
        let log = "6,1,100,-;vfio-pci 0000:01:00.0: enabling device\n SUBSYSTEM=pci\n6,2,200,-;other 0000:02:00.0\n" +
            "6,3,300,-;vfio-pci 0000:01:00.0: Relaying device request to user (#0)\n"
        try Data(log.utf8).write(to: URL(fileURLWithPath: tree.path + "/dev/kmsg"))
        let kernel = LinuxKernel(paths: tree.hostPaths)
        #expect(kernel.kernelLog(mentioning: PCIAddress("0000:01:00.0")!, after: nil).map(\.sequence) == [1, 3])
        #expect(kernel.kernelLog(mentioning: PCIAddress("0000:01:00.0")!, after: 1).map(\.text)
                == ["vfio-pci 0000:01:00.0: Relaying device request to user (#0)"])
        #expect(LinuxKernel(paths: HostPaths(root: tree.path + "/none")).kernelLog(mentioning: PCIAddress("0000:01:00.0")!, after: nil).isEmpty)
    }

    @Test func theVendorIDIsTheFirstTwoConfigBytesLittleEndian() throws {
        let gpu = FakeSysfs.device("0000:01:00.0", 0x10de, 0x2684, 0x030000, group: 2)
        let tree = try FakeSysfs.make(HostSpec(devices: [gpu]))
        let kernel = LinuxKernel(paths: tree.hostPaths)
        #expect(kernel.configVendorID(of: gpu.address) == 0x10de)
        try Data([0xff, 0xff, 0xff, 0xff]).write(to: URL(fileURLWithPath: tree.path + "/sys/bus/pci/devices/0000:01:00.0/config"))
        #expect(kernel.configVendorID(of: gpu.address) == 0xffff)
        try Data([0x86]).write(to: URL(fileURLWithPath: tree.path + "/sys/bus/pci/devices/0000:01:00.0/config"))
        #expect(kernel.configVendorID(of: gpu.address) == nil)
        #expect(kernel.configVendorID(of: PCIAddress("0000:09:00.0")!) == nil)
    }
}
