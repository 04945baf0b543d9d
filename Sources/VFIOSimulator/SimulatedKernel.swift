#if canImport(Glibc)
import Glibc
#endif
public import VFIOCore
import Foundation
import Synchronization

/// A simulated host: a fake tree in the kernel's own layout, read with the same ``SysfsScanner`` as the
/// real kernel, that reacts to `driver_override`, `unbind`, `drivers_probe` and `bind` as the kernel does
/// (see `SimulatedKernel+Operations.swift` and `examples/topologies/README.md`).
///
/// The source is a topology file (JSON) or a directory holding a sysfs tree (an unpacked snapshot). By
/// default it is materialised in a private temporary directory that ``close()`` removes. In place, a
/// directory is used as it is and kept: another process (a restarted vfiod) opening it again sees the
/// exact kernel state the last one left. What the tree cannot show (native drivers, the next cdev number,
/// faults) lives in `<root>/.vfiod-simulator/`.
///
/// Safe to call from several threads at once: tree changes are serialised by a lock per IOMMU group
/// (``GroupLocks``), never held while an `unbindBlocks` fault holds a thread; the state (native drivers,
/// cdev numbering) by its own lock, taken inside a group's.
public final class SimulatedKernel: HostKernel {
    /// `simulated`.
    public let backend = "simulated"
    /// The tree's root.
    public let paths: HostPaths
    /// The builder that wrote the tree; ``SysfsTreeBuilder/setDriver(_:for:)`` moves driver links by hand,
    /// bypassing the kernel rules and the simulator's state (native drivers, cdev numbering): prefer the
    /// ``HostKernel`` operations.
    public let builder: SysfsTreeBuilder
    /// The host the tree was built from; `nil` for a directory source.
    public let host: HostSpec?
    /// Whether ``close()`` removes the tree (false in place).
    public let ownsTree: Bool
    let tree: SimulatedTree
    let stateDirectory: SimulatorStateDirectory
    /// The persistent state; its lock is taken inside a group's lock (``treeLocks``), never the other way.
    let state: Mutex<SimulatorState>
    /// The locks tree changes take: one per IOMMU group (striped).
    let treeLocks = GroupLocks()
    /// Where ``SimulatorState/nextCdev`` is saved at each bind to vfio-pci.
    let cdevCounter: CdevCounter
    let blocked = BlockedUnbinds()
    /// The spare files intent records are written into (``PendingChange``).
    let intentRecords: IntentRecordPool
    /// The IOMMU groups a reset in this process has open right now: a group opens once, so a concurrent
    /// reset of the same group gets `EBUSY`, as the kernel's second open of `/dev/vfio/<N>` does.
    let groupsInReset = Mutex<Set<Int>>([])
    /// The test hook that stops a tree change part-way (``interruptTreeChange(afterSteps:)``).
    let interruption = TreeInterruption()
    /// Who hears this kernel's uevents (``watchUevents(_:)``).
    let ueventWatch = Mutex(UeventWatch())
    /// The CPU this kernel's writes, resets and opener searches spend (``SimulatorCPU``).
    public let cpu = SimulatorCPU()
    private let scanner: SysfsScanner

    /// Opens `source`. With `inPlace` and a directory source, operates on that directory directly and never
    /// deletes it; otherwise materialises the source in a new temporary directory (`inPlace` is ignored for
    /// a topology file). A tree without simulator state gets it from the tree as found (native driver =
    /// current driver unless a VFIO one). Throws ``TopologyError`` for a bad topology file and
    /// ``KernelError`` for file-system failures.
    public convenience init(source: String, inPlace: Bool = false) throws {
        if inPlace && SysfsFiles.isDirectory(source) {
            let absolute = source.hasPrefix("/") ? source : FileManager.default.currentDirectoryPath + "/" + source
            try self.init(root: SysfsFiles.normalize(absolute), ownsTree: false, host: nil)
            return
        }
        let directory = try Self.makeTemporaryDirectory()
        let spec: HostSpec?
        do {
            if SysfsFiles.isDirectory(source) {
                try TreeCopy.copy(from: source, to: directory)
                spec = nil
            } else {
                spec = try Topology.load(path: source)
                try SysfsTreeBuilder(root: directory).build(spec!)
            }
        } catch {
            TreeCopy.remove(directory)
            throw error
        }
        try self.init(root: directory, ownsTree: true, host: spec)
    }

    /// Materialises `host` in a new temporary directory that ``close()`` removes. Throws ``KernelError``
    /// or ``TopologyError`` (a parent that is not in `host`).
    public convenience init(host: HostSpec) throws {
        let directory = try Self.makeTemporaryDirectory()
        do {
            try SysfsTreeBuilder(root: directory).build(host)
        } catch {
            TreeCopy.remove(directory)
            throw error
        }
        try self.init(root: directory, ownsTree: true, host: host)
    }

    private init(root: String, ownsTree: Bool, host: HostSpec?) throws {
        paths = HostPaths(root: SysfsFiles.normalize(root))
        builder = SysfsTreeBuilder(root: paths.root)
        self.host = host
        self.ownsTree = ownsTree
        tree = SimulatedTree(root: paths.root, interruption: interruption)
        stateDirectory = SimulatorStateDirectory(root: paths.root)
        cdevCounter = CdevCounter(directory: stateDirectory.path)
        intentRecords = IntentRecordPool(directory: stateDirectory.spareDirectory)
        scanner = SysfsScanner(paths: paths)
        do {
            var loaded = try Self.loadOrCreateState(tree: tree, directory: stateDirectory)
            if let saved = cdevCounter.read() { loaded.nextCdev = saved }
            state = Mutex(loaded)
            try completeLeftBehindChanges()
            stateDirectory.openRequestDirectory()
        } catch {
            if ownsTree { TreeCopy.remove(root) }
            throw error
        }
        stateDirectory.clearBlockedMarkers()
        IntentRecordPool.removeUnheld(in: stateDirectory.spareDirectory)
    }

    /// Reads the tree. Blocking file I/O; not serialised with concurrent binds (neither is the kernel's).
    public func scan() throws -> HostScan {
        try scanner.scan()
    }

    /// Removes the tree when it is a private copy; an in-place tree is left as it is.
    public func close() {
        if ownsTree { TreeCopy.remove(paths.root) }
    }

    /// The bound driver, from the `driver` link.
    public func driver(of address: PCIAddress) -> String? { tree.queries.driver(of: address) }
    /// `driver_override`; `nil` when `(null)`.
    public func driverOverride(of address: PCIAddress) -> String? { tree.queries.driverOverride(of: address) }
    /// The group of the function's `iommu_group` link.
    public func iommuGroup(of address: PCIAddress) -> Int? { tree.queries.iommuGroup(of: address) }
    /// Every function in the group.
    public func groupMembers(_ group: Int) -> [PCIAddress] { tree.groupMembers(group) }
    /// `dev/vfio/<group>` exists.
    public func groupDeviceExists(_ group: Int) -> Bool { tree.queries.groupDeviceExists(group) }
    /// The VFIO device cdev name from `vfio-dev/`.
    public func vfioCdev(of address: PCIAddress) -> String? { tree.queries.vfioCdev(of: address) }
    /// `proc/sys/kernel/random/boot_id`.
    public func bootID() -> String? { tree.queries.bootID() }

    /// The driver `drivers_probe` binds when no override is set; `nil` for none.
    public func nativeDriver(of address: PCIAddress) -> String? {
        state.withLock { $0.nativeDrivers[address.description] }
    }

    /// The saved state, or a new one from the tree as found (saved at once).
    private static func loadOrCreateState(tree: SimulatedTree, directory: SimulatorStateDirectory) throws -> SimulatorState {
        if let saved = directory.readState() { return saved }
        var natives: [String: String] = [:]
        for address in tree.allDevices() {
            if let driver = tree.queries.driver(of: address), !isVFIODriver(driver) { natives[address.description] = driver }
        }
        let state = SimulatorState(nativeDrivers: natives, nextCdev: tree.highestCdevNumber() + 1)
        try directory.writeState(state)
        return state
    }

    /// vfio-pci and its variant drivers (`mlx5_vfio_pci` …): never a device's native driver.
    static func isVFIODriver(_ name: String) -> Bool {
        // `name.contains("vfio")` on the bytes (Foundation's substring search cost more than the rest of
        // the check); driver names are plain ASCII names.
        let bytes = name.utf8
        var start = bytes.startIndex
        while start != bytes.endIndex {
            if bytes[start...].starts(with: "vfio".utf8) { return true }
            start = bytes.index(after: start)
        }
        return false
    }

    /// `mkdtemp` under `$TMPDIR` (or `/tmp`).
    private static func makeTemporaryDirectory() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/vfiod-sim-XXXXXX").utf8CString)
        // mkdtemp(3) rewrites the XXXXXX in our NUL-terminated buffer.
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw KernelError(call: "mkdtemp", path: base, errno: errno)
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
