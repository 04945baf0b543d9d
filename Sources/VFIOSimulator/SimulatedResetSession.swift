#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// The VFIO files one simulated reset holds open, and the groups it has claimed in its process; `close()`
/// gives them all back. Used by one thread.
struct SimulatedResetSession: ~Copyable {
    let kernel: SimulatedKernel
    private var descriptors: [Int32] = []
    private var claimed: [Int] = []

    init(kernel: SimulatedKernel) {
        self.kernel = kernel
    }

    /// Opens `group` as the kernel would: `EPERM` when not viable (what `VFIO_GROUP_SET_CONTAINER` says),
    /// `EBUSY` when a reset in this process has it or another process holds its group file or a member's
    /// cdev. Then opens `dev/vfio/<group>` (group path) or, on the cdev path, `targetCdev` (the target's
    /// group) or the first member cdev (another group in the scope; none: nothing is opened).
    mutating func open(group: Int, path: VFIOAccessPath, target targetCdev: String?) throws(VFIOError) {
        let groupFile = kernel.paths.dev("vfio/\(group)")
        guard kernel.groupIsViable(group) else {
            throw VFIOError(operation: "VFIO_GROUP_SET_CONTAINER", errno: .notPermitted, path: groupFile)
        }
        let inserted = kernel.groupsInReset.withLock { $0.insert(group).inserted }
        guard inserted else { throw VFIOError(operation: "open", errno: .busy, path: groupFile) }
        claimed.append(group)
        let cdevs = kernel.memberCdevs(group)
        guard kernel.openers(groups: [group], cdevs: cdevs).isEmpty else {
            throw VFIOError(operation: "open", errno: .busy, path: groupFile)
        }
        let file: String
        switch path {
        case .group: file = groupFile
        case .cdev:
            guard let cdev = targetCdev ?? cdevs.first else { return }
            file = kernel.paths.dev("vfio/devices/\(cdev)")
        }
        let fd = retryingOpen(file)
        guard fd >= 0 else { throw VFIOError(operation: "open", errno: VFIOErrno(rawValue: errno), path: file) }
        descriptors.append(fd)
    }

    /// Closes every file (last opened first) and gives the claimed groups back.
    mutating func close() {
        for fd in descriptors.reversed() { _ = Glibc.close(fd) }
        descriptors = []
        let groups = claimed
        kernel.groupsInReset.withLock { $0.subtract(groups) }
        claimed = []
    }

    /// `open(file, O_RDWR | O_CLOEXEC)`, retried on `EINTR`.
    private func retryingOpen(_ file: String) -> Int32 {
        retryingInterruptedCall { Glibc.open(file, O_RDWR | O_CLOEXEC) }
    }
}
