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
        try Self.expectFailure(cdev: false, iommufd: false, method: method, groups: [2],
                               operation: "VFIO_GROUP_GET_STATUS", errno: .notTTY, node: "dev/vfio/2")
    }

    @Test func aMissingGroupNodeFailsTheOpenAfterTheContainer() throws {
        try Self.expectFailure(cdev: false, iommufd: false, method: .hot, groups: [9, 2],
                               operation: "open", errno: .noSuchFileOrDirectory, node: "dev/vfio/9")
    }

    @Test(arguments: [ResetMethod.function, .hot])
    func withACdevAndIommuTheCdevPathIsTakenAndEveryFileIsClosed(_ method: ResetMethod) throws {
        let tree = try Self.expectFailure(cdev: true, iommufd: true, method: method, groups: [2],
                                          operation: "IOMMU_IOAS_ALLOC", errno: .notTTY, node: "dev/iommu")
        #expect(LinuxKernel(paths: tree.hostPaths).vfioCdev(of: Self.nic.address) == "vfio0")
    }

    /// Resets the nic on a tree with or without the cdev and `/dev/iommu`: the first call to fail names the
    /// path taken; no fd outlives the reset.
    @discardableResult
    static func expectFailure(cdev: Bool, iommufd: Bool, method: ResetMethod, groups: [Int], operation: String,
                              errno: VFIOErrno, node: String) throws -> TemporaryDirectory {
        let tree = try FakeSysfs.make(HostSpec(cdev: cdev, iommufd: iommufd, devices: [port, nic]))
        let error = #expect(throws: VFIOError.self) {
            try LinuxKernel(paths: tree.hostPaths).reset(nic.address, method: method, groups: groups)
        }
        #expect(error?.operation == operation)
        #expect(error?.errno == errno)
        #expect(error?.path == tree.path + "/" + node)
        #expect(openFiles(below: tree.path).isEmpty)
        return tree
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
