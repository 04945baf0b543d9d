public import VFIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The VFIO half of the simulated kernel, by the kernel's rules. A reset really opens the fake
/// `dev/vfio/<N>` (group path) or `dev/vfio/devices/vfioX` (cdev path) files, `O_CLOEXEC`, and closes them
/// before it returns, so opener scans and cooperative unbinds see it as they would see vfiod.
extension SimulatedKernel {
    /// See ``VFIOKernel/reset(_:method:groups:)``. `ENODEV`: the target is not on vfio-pci. Per group:
    /// `EPERM` when not viable (a member on a driver other than vfio-pci, pci-stub or pcieport); `EBUSY`
    /// when another process holds its files or another reset in this process has it open. `.function`:
    /// `EINVAL` without a function reset (``ResetPlanner``), `EIO` under `resetFails`. `.hot`: `ENODEV` on
    /// a root bus; `EINVAL` when a function in the scope is not on vfio-pci or its group is not in
    /// `groups`; `ENOTTY` under `hotResetFails`. After success, `deadAfterReset` devices in the scope stop
    /// answering. The path is `.cdev` when the target has a cdev and `dev/iommu` exists.
    public func reset(_ address: PCIAddress, method: ResetMethod, groups: [Int]) throws(VFIOError) -> ResetOutcome {
        let call = cpu.begin()
        defer { cpu.end(call) }
        let devicePath = paths.pciDevice(address)
        guard driver(of: address) == "vfio-pci", let targetGroup = iommuGroup(of: address) else {
            throw VFIOError(operation: "open", errno: .noSuchDevice, path: devicePath)
        }
        let targetCdev = vfioCdev(of: address)
        let path: VFIOAccessPath = targetCdev != nil && tree.cdevSupported && SysfsFiles.exists(paths.dev("iommu")) ? .cdev : .group
        var ordered = [targetGroup]
        if path == .group || method == .hot { ordered += groups.filter { $0 != targetGroup } }
        var seen: Set<Int> = []
        ordered = ordered.filter { seen.insert($0).inserted }

        var session = SimulatedResetSession(kernel: self)
        defer { session.close() }
        for group in ordered {
            try session.open(group: group, path: path, target: group == targetGroup ? targetCdev : nil)
        }
        let faults = self.faults()
        guard let scan = try? scan() else { throw VFIOError(operation: "VFIO_DEVICE_GET_INFO", errno: .ioError, path: devicePath) }
        let touched: [PCIAddress]
        switch method {
        case .function:
            let plan = ResetPlanner.plan(address, method: .function, in: scan)
            guard plan.method != nil else { throw VFIOError(operation: "VFIO_DEVICE_RESET", errno: .invalidArgument, path: devicePath) }
            if faults.resetFails.contains(address) { throw VFIOError(operation: "VFIO_DEVICE_RESET", errno: .ioError, path: devicePath) }
            touched = [address]
        case .hot:
            let plan = ResetPlanner.plan(address, method: .hot, in: scan)
            guard plan.method != nil else {
                throw VFIOError(operation: "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", errno: .noSuchDevice, path: devicePath)
            }
            let opened = Set(ordered)
            for member in plan.scope {
                let facts = scan.devices.first { $0.address == member }
                guard facts?.driver == "vfio-pci", let group = facts?.iommuGroup, opened.contains(group) else {
                    throw VFIOError(operation: "VFIO_DEVICE_PCI_HOT_RESET", errno: .invalidArgument, path: devicePath)
                }
            }
            if plan.scope.contains(where: faults.hotResetFails.contains) {
                throw VFIOError(operation: "VFIO_DEVICE_PCI_HOT_RESET", errno: .notTTY, path: devicePath)
            }
            touched = plan.scope
        }
        for member in touched where faults.deadAfterReset.contains(member) { stateDirectory.markDead(member, true) }
        return ResetOutcome(method: method, path: path, kernelScope: method == .hot ? touched : [])
    }

    /// See ``VFIOKernel/configVendorID(of:)``: the tree's `config`, or `0xffff` while a `deadAfterReset`
    /// fault has made the device stop answering.
    public func configVendorID(of address: PCIAddress) -> UInt16? {
        let call = cpu.begin()
        defer { cpu.end(call) }
        if stateDirectory.isMarkedDead(address) {
            if faults().deadAfterReset.contains(address) { return 0xffff }
            stateDirectory.markDead(address, false)
        }
        return LinuxKernel.vendorID(configAt: paths.pciDevice(address) + "/config")
    }

    /// See ``VFIOKernel/openers(groups:cdevs:removedCdevs:)``: the processes of this machine (the real
    /// `/proc`) holding the fake files `<root>/dev/vfio/<N>` or `<root>/dev/vfio/devices/<cdev>`, reported as
    /// paths under the root (`/dev/vfio/7`). Real opener processes (`vfio-opener --simulated`) thus show
    /// up; this process is not one (its resets hold the files only within a call). A cdev whose node an
    /// unbind under way has removed is found as the kernel's is: its openers' links read
    /// `<root>/dev/vfio/devices/<cdev> (deleted)`, and the inode the unbind kept tells whether anyone has
    /// it open.
    public func openers(groups: [Int], cdevs: [String], removedCdevs: [String]) -> [VFIOOpener] {
        let call = cpu.begin()
        defer { cpu.end(call) }
        // Relative to the root, opened from its directory fd.
        let files = groups.map { "dev/vfio/\($0)" }
            + (cdevs + removedCdevs).map { tree.keptCdevRelative($0) ?? "dev/vfio/devices/\($0)" }
        if files.allSatisfy({ Self.isOpenNowhere(tree.at($0), from: tree.rootDirectory.fd) }) { return [] }
        var roots = [paths.root]
        if let resolved = realpath(paths.root, nil) {
            roots.append(String(cString: resolved))
            free(resolved)
        }
        var targets: [String: String] = [:]
        for root in roots {
            for group in groups { targets[root + "/dev/vfio/\(group)"] = "/dev/vfio/\(group)" }
            for cdev in cdevs + removedCdevs {
                targets[ProcessFDScanner.removedNodeTarget(root + "/dev/vfio/devices/\(cdev)")] = "/dev/vfio/devices/\(cdev)"
            }
            for cdev in cdevs { targets[root + "/dev/vfio/devices/\(cdev)"] = "/dev/vfio/devices/\(cdev)" }
        }
        return ProcessFDScanner(procDirectory: "/proc").openers(of: targets, excluding: getpid())
    }

    /// Whether no process has `path` open (or it does not exist), in O(1) rather than a `/proc` scan: the
    /// kernel grants a write lease (`F_SETLEASE` `F_WRLCK`, root has `CAP_LEASE`) only on a regular file
    /// nobody else has open. The fake group and cdev files are regular files; the real ones are not, which
    /// is why ``LinuxKernel`` scans. Any doubt (no lease support, a lease held) answers false: then scan.
    /// `directoryFD`: where a relative `path` starts (`openat(2)`).
    static func isOpenNowhere(_ path: String, from directoryFD: Int32 = AT_FDCWD) -> Bool {
        _ = leaseBreaksIgnored
        let fd = openat(directoryFD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return errno == ENOENT }
        // fcntl(2) F_SETLEASE takes the lease type as its int argument. The lease belongs to this open
        // file and goes with its last close, right below (the fd is O_CLOEXEC: a child being spawned
        // shares it at most until its exec), so no F_UNLCK call is needed.
        let granted = fcntl(fd, setLease, F_WRLCK) == 0
        Glibc.close(fd)
        return granted
    }

    /// ``isOpenNowhere(_:)`` of a file that exists; `nil` when the path leads to nothing (`ENOENT`,
    /// `ENOTDIR`: where `stat(2)` would fail too).
    static func isOpenNowhereIfPresent(_ path: String, from directoryFD: Int32 = AT_FDCWD) -> Bool? {
        _ = leaseBreaksIgnored
        let fd = openat(directoryFD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return errno == ENOENT || errno == ENOTDIR ? nil : false }
        // fcntl(2) F_SETLEASE as in isOpenNowhere: the lease goes with the close right below.
        let granted = fcntl(fd, setLease, F_WRLCK) == 0
        Glibc.close(fd)
        return granted
    }

    /// The kernel tells a lease holder that another process is opening the file with SIGIO (a lease sets
    /// the process as the file's owner), and SIGIO's default action ends the process. The lease above lives
    /// between two lines, yet an open landing there (an opener starting, a test's child) killed the process
    /// that asked. vfiod uses SIGIO for nothing else: it is ignored, once, before the first lease.
    static let leaseBreaksIgnored: Void = {
        _ = signal(SIGIO, SIG_IGN)
    }()

    /// `F_SETLEASE` (`F_LINUX_SPECIFIC_BASE + 0` in `<linux/fcntl.h>`), which Glibc exports only under
    /// `_GNU_SOURCE`.
    private static let setLease: Int32 = 1024

    /// See ``VFIOKernel/kernelLog(mentioning:after:)``: `<root>/dev/kmsg`, a regular file the simulator
    /// appends to.
    public func kernelLog(mentioning address: PCIAddress, after: UInt64?) -> [KernelLogRecord] {
        let call = cpu.begin()
        defer { cpu.end(call) }
        return KernelLogReader.records(at: paths.dev("kmsg"), containing: address.description, after: after)
    }

    /// The cdev names of every member of `group` (the files an opener of the group's devices may have open).
    func memberCdevs(_ group: Int) -> [String] {
        groupMembers(group).compactMap { vfioCdev(of: $0) }
    }

    /// Whether every member of `group` is unbound or on a driver that lets userspace own DMA.
    func groupIsViable(_ group: Int) -> Bool {
        groupMembers(group).allSatisfy { member in
            guard let driver = driver(of: member) else { return true }
            return driver == "vfio-pci" || driver == "pci-stub" || driver == "pcieport"
        }
    }
}
