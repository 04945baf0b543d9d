import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One file the holder socket passes to a lease's holder, in the order it is passed.
public struct HolderFile: Sendable, Hashable {
    /// What the descriptor is.
    public enum Kind: String, Sendable {
        /// `/dev/iommu`: the iommufd the holder binds the device cdevs to (`-object iommufd,fd=N`).
        case iommufd
        /// `/dev/vfio/devices/vfioX`: one endpoint's device cdev (`-device vfio-pci,fd=M,iommufd=…`).
        case device
        /// `/dev/vfio/<N>`: the group, on a kernel without device cdevs or iommufd.
        case group
        /// `/dev/vfio/vfio`: a fresh container to set the group's IOMMU on.
        case container
    }

    /// What the descriptor is.
    public let kind: Kind
    /// The endpoint, for `device`.
    public let address: PCIAddress?
    /// The path under the host root, as the holder would name it (`/dev/vfio/devices/vfio3`).
    public let devicePath: String
    /// The path this process opens (the host root's prefix included).
    public let path: String

    /// Creates a file record.
    public init(kind: Kind, address: PCIAddress?, devicePath: String, path: String) {
        self.kind = kind
        self.address = address
        self.devicePath = devicePath
        self.path = path
    }
}

extension HostKernel {
    /// What a holder of `group` whose endpoints are `endpoints` is given: where the kernel has iommufd
    /// (`dev/iommu`) and every endpoint has a device cdev node, `/dev/iommu` then each endpoint's cdev (in
    /// `endpoints`' order); otherwise the group `/dev/vfio/<group>` then a container `/dev/vfio/vfio`.
    public func holderFiles(group: Int, endpoints: [PCIAddress]) -> [HolderFile] {
        let cdevs = endpoints.map { vfioCdev(of: $0) }
        let iommu = paths.dev("iommu")
        if !endpoints.isEmpty, SysfsFiles.exists(iommu),
           cdevs.allSatisfy({ $0 != nil && SysfsFiles.exists(paths.dev("vfio/devices/\($0!)")) }) {
            return [HolderFile(kind: .iommufd, address: nil, devicePath: "/dev/iommu", path: iommu)]
                + zip(endpoints, cdevs).map { address, cdev in
                    HolderFile(kind: .device, address: address, devicePath: "/dev/vfio/devices/\(cdev!)",
                               path: paths.dev("vfio/devices/\(cdev!)"))
                }
        }
        return [HolderFile(kind: .group, address: nil, devicePath: "/dev/vfio/\(group)", path: paths.dev("vfio/\(group)")),
                HolderFile(kind: .container, address: nil, devicePath: "/dev/vfio/vfio", path: paths.dev("vfio/vfio"))]
    }
}

/// Descriptors opened for one holder, closed exactly once: by ``close()``, which ``HolderConnection``
/// calls right after sending them (the message carries the kernel's own references), or when dropped.
///
/// Opening blocks (a VFIO open takes the kernel's locks): call ``open(_:)`` on a dedicated thread.
public final class HolderDescriptors: Sendable {
    private let state: Mutex<[Int32]>

    private init(_ rawValues: [Int32]) { state = Mutex(rawValues) }

    /// The fds still open, in the order of the files given to ``open(_:)``; empty once closed.
    public var rawValues: [Int32] { state.withLock { $0 } }

    /// Opens every file `O_RDWR | O_CLOEXEC` (so none leaks into a child vfiod spawns), in order; when one
    /// fails, the ones already open are closed and the error names the failing file. `EINTR` is retried.
    public static func open(_ files: [HolderFile]) throws(VFIOError) -> HolderDescriptors {
        var opened: [Int32] = []
        for file in files {
            let fd = retryingEINTR { Glibc.open(file.path, O_RDWR | O_CLOEXEC) }
            guard fd >= 0 else {
                let error = VFIOError(operation: "open", errno: VFIOErrno(rawValue: errno), path: file.devicePath)
                for open in opened { Glibc.close(open) }
                throw error
            }
            opened.append(fd)
        }
        return HolderDescriptors(opened)
    }

    /// Closes every fd now; later calls do nothing.
    public func close() {
        state.withLock { fds in
            for fd in fds { Glibc.close(fd) }
            fds = []
        }
    }

    deinit { close() }
}
