import Foundation
import Testing
import TestSupport
import VFIOCore

/// Opening, closing and failing ioctls on real files. No VFIO here: the nodes are regular files under a
/// temporary host root, which open like the real ones and answer every VFIO ioctl with `ENOTTY`.
struct VFIOFileDescriptorTests {
    let root: TemporaryDirectory
    var paths: HostPaths { root.hostPaths }

    init() throws {
        root = try TemporaryDirectory(prefix: "ioctl")
    }

    /// Creates `<root>/dev/<relative>` as an empty regular file.
    func makeNode(_ relative: String) throws {
        let path = paths.dev(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
    }

    /// How many of this process's fds point into the temporary root: exact even with other tests running.
    func openFDsUnderRoot() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { entry in
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)
            return target?.hasPrefix(root.path + "/") ?? false
        }.count
    }

    struct BodyFailed: Error {}

    @Test func missingContainerNamesOpenPathAndENOENT() {
        #expect(throws: VFIOError(operation: "open", errno: .noSuchFileOrDirectory, path: root.path + "/dev/vfio/vfio")) {
            _ = try VFIOContainer(paths: paths)
        }
        #expect(throws: VFIOError(operation: "open", errno: .noSuchFileOrDirectory, path: root.path + "/dev/vfio/12")) {
            _ = try VFIOGroup(12, paths: paths)
        }
        #expect(throws: VFIOError(operation: "open", errno: .noSuchFileOrDirectory, path: root.path + "/dev/vfio/devices/vfio3")) {
            _ = try VFIODevice(cdev: 3, paths: paths)
        }
        #expect(throws: VFIOError(operation: "open", errno: .noSuchFileOrDirectory, path: root.path + "/dev/iommu")) {
            _ = try IOMMUFD(paths: paths)
        }
    }

    @Test func opensReadWriteAndCloseOnExec() throws {
        try makeNode("vfio/vfio")
        let container = try VFIOContainer(paths: paths)
        let flags = fcntl(container.descriptor.rawValue, F_GETFD)
        #expect(flags >= 0 && flags & FD_CLOEXEC != 0)
        #expect(fcntl(container.descriptor.rawValue, F_GETFL) & O_ACCMODE == O_RDWR)
    }

    @Test func ioctlsOnANonVFIOFileNameTheIoctlAndENOTTY() throws {
        try makeNode("vfio/vfio")
        try makeNode("vfio/7")
        try makeNode("vfio/devices/vfio0")
        try makeNode("iommu")
        let container = try VFIOContainer(paths: paths)
        #expect(throws: VFIOError(operation: "VFIO_GET_API_VERSION", errno: .notTTY, path: paths.dev("vfio/vfio"))) {
            _ = try container.apiVersion()
        }
        let group = try VFIOGroup(7, paths: paths)
        #expect(throws: VFIOError(operation: "VFIO_GROUP_GET_STATUS", errno: .notTTY, path: paths.dev("vfio/7"))) {
            _ = try group.status()
        }
        let device = try VFIODevice(cdev: 0, paths: paths)
        // ENOTTY, not ENOSPC: the sizing loop gives up after one call.
        #expect(throws: VFIOError(operation: "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", errno: .notTTY, path: paths.dev("vfio/devices/vfio0"))) {
            _ = try device.hotResetInfo()
        }
        #expect(throws: VFIOError(operation: "VFIO_DEVICE_SET_IRQS", errno: .notTTY, path: paths.dev("vfio/devices/vfio0"))) {
            try device.setIRQEventfd(index: VFIOPCIIRQIndex.request, eventfd: 0)
        }
        let iommufd = try IOMMUFD(paths: paths)
        #expect(throws: VFIOError(operation: "VFIO_DEVICE_BIND_IOMMUFD", errno: .notTTY, path: paths.dev("vfio/devices/vfio0"))) {
            _ = try device.bindIOMMUFD(iommufd)
        }
        #expect(throws: VFIOError(operation: "IOMMU_IOAS_ALLOC", errno: .notTTY, path: paths.dev("iommu"))) {
            _ = try iommufd.allocIOAS()
        }
    }

    @Test func ownerClosesExactlyOnceOverManyCycles() throws {
        try makeNode("vfio/vfio")
        #expect(try openFDsUnderRoot() == 0)
        for cycle in 0..<500 {
            let descriptor = try VFIOFileDescriptor.open(paths.dev("vfio/vfio"))
            #expect(descriptor.rawValue >= 0)
            #expect(try openFDsUnderRoot() == 1)
            // Half closed explicitly, half by going out of scope.
            if cycle.isMultiple(of: 2) { descriptor.close() }
        }
        #expect(try openFDsUnderRoot() == 0)
    }

    @Test func scopedAPIsCloseWhenTheBodyThrows() throws {
        for id in 1...3 { try makeNode("vfio/\(id)") }
        try makeNode("vfio/vfio")
        for _ in 0..<100 {
            #expect(throws: BodyFailed.self) {
                try VFIOGroup.withOpenGroups([1, 2, 3], paths: paths) { fds in
                    #expect(fds.count == 3)
                    #expect(fds.allSatisfy { fcntl($0, F_GETFD) >= 0 })
                    #expect(try openFDsUnderRoot() == 3)
                    throw BodyFailed()
                }
            }
            // A later open failing closes the earlier ones.
            #expect(throws: VFIOError.self) {
                try VFIOGroup.withOpenGroups([1, 2, 99], paths: paths) { _ in Issue.record("body ran") }
            }
        }
        #expect(try openFDsUnderRoot() == 0)
    }

    @Test func scopedAPIsCloseWhenTheirIoctlFails() throws {
        try makeNode("vfio/vfio")
        try makeNode("vfio/7")
        try makeNode("vfio/devices/vfio0")
        try makeNode("iommu")
        let address = PCIAddress("0000:41:00.0")!
        for _ in 0..<50 {
            let container = try VFIOContainer(paths: paths)
            #expect(throws: VFIOError(operation: "VFIO_GROUP_SET_CONTAINER", errno: .notTTY, path: paths.dev("vfio/7"))) {
                try container.withGroup(7, paths: paths) { _ in Issue.record("body ran") }
            }
            let group = try VFIOGroup(7, paths: paths)
            #expect(throws: VFIOError(operation: "VFIO_GROUP_GET_DEVICE_FD", errno: .notTTY, path: paths.dev("vfio/7"))) {
                try group.withDevice(address) { _ in Issue.record("body ran") }
            }
            let iommufd = try IOMMUFD(paths: paths)
            #expect(throws: VFIOError.self) {
                try iommufd.withBoundDevice(cdev: 0, paths: paths) { _, _ in Issue.record("body ran") }
            }
            #expect(try openFDsUnderRoot() == 3)
        }
        #expect(try openFDsUnderRoot() == 0)
    }
}
