import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `LinuxKernel.reset` against fake trees: the VFIO nodes are empty regular files, which open but answer
/// every ioctl with `ENOTTY`, so the first ioctl that fails shows which path was taken. No fd may outlive
/// the call, on any path.
struct LinuxKernelResetTests {
    private static let port = FakeSysfs.device("0000:00:1c.0", 0x8086, 0xa110, 0x060400, driver: "pcieport", group: 1)
    private static let nic = FakeSysfs.device("0000:01:00.0", 0x8086, 0x1533, 0x020000, driver: "vfio-pci", group: 2,
                                              parent: "0000:00:1c.0")

    /// The fds of this process whose link target lies in `root` (other tests' fds are elsewhere).
    static func openFiles(below root: String) -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            .filter { $0.hasPrefix(root + "/") }
    }

    @Test(arguments: [ResetMethod.function, .hot])
    func withoutACdevTheGroupPathIsTakenAndEveryFileIsClosed(_ method: ResetMethod) throws {
        let tree = try FakeSysfs.make(HostSpec(cdev: false, iommufd: false, devices: [Self.port, Self.nic]))
        let kernel = LinuxKernel(paths: tree.hostPaths)
        let error = #expect(throws: VFIOError.self) { try kernel.reset(Self.nic.address, method: method, groups: [2]) }
        #expect(error?.operation == "VFIO_GROUP_GET_STATUS")
        #expect(error?.errno == .notTTY)
        #expect(error?.path == tree.path + "/dev/vfio/2")
        #expect(Self.openFiles(below: tree.path).isEmpty)
    }

    @Test func aMissingGroupNodeFailsTheOpenAfterTheContainer() throws {
        let tree = try FakeSysfs.make(HostSpec(cdev: false, iommufd: false, devices: [Self.port, Self.nic]))
        let kernel = LinuxKernel(paths: tree.hostPaths)
        let error = #expect(throws: VFIOError.self) { try kernel.reset(Self.nic.address, method: .hot, groups: [9, 2]) }
        #expect(error?.operation == "open")
        #expect(error?.errno == .noSuchFileOrDirectory)
        #expect(error?.path == tree.path + "/dev/vfio/9")
        #expect(Self.openFiles(below: tree.path).isEmpty)
    }

    @Test(arguments: [ResetMethod.function, .hot])
    func withACdevAndIommuTheCdevPathIsTakenAndEveryFileIsClosed(_ method: ResetMethod) throws {
        let tree = try FakeSysfs.make(HostSpec(cdev: true, iommufd: true, devices: [Self.port, Self.nic]))
        let kernel = LinuxKernel(paths: tree.hostPaths)
        #expect(kernel.vfioCdev(of: Self.nic.address) == "vfio0")
        let error = #expect(throws: VFIOError.self) { try kernel.reset(Self.nic.address, method: method, groups: [2]) }
        #expect(error?.operation == "IOMMU_IOAS_ALLOC")
        #expect(error?.errno == .notTTY)
        #expect(error?.path == tree.path + "/dev/iommu")
        #expect(Self.openFiles(below: tree.path).isEmpty)
    }

    @Test func aCdevWithoutDevIommuFallsBackToTheGroupPath() throws {
        let tree = try FakeSysfs.make(HostSpec(cdev: true, iommufd: false, devices: [Self.port, Self.nic]))
        let error = #expect(throws: VFIOError.self) {
            try LinuxKernel(paths: tree.hostPaths).reset(Self.nic.address, method: .function, groups: [2])
        }
        #expect(error?.operation == "VFIO_GROUP_GET_STATUS")
        #expect(Self.openFiles(below: tree.path).isEmpty)
    }

    @Test func aDeviceWithoutAGroupIsNoSuchDevice() throws {
        let tree = try FakeSysfs.make(HostSpec(iommu: false, cdev: false, iommufd: false, devices: [Self.port, Self.nic]))
        let error = #expect(throws: VFIOError.self) {
            try LinuxKernel(paths: tree.hostPaths).reset(Self.nic.address, method: .function, groups: [])
        }
        #expect(error?.errno == .noSuchDevice)
    }
}
