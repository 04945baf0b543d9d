#if canImport(Glibc)
import Glibc
#endif
public import VFIOCore

/// The kernel's reactions to the four sysfs writes a bind and a restore are made of. Errors are
/// ``KernelError`` with call `write` and the path the real write would have used, with the `errno` the
/// kernel gives: `ENOENT` (no such driver: the attribute file does not exist), `ENODEV` (no such device,
/// not bound to that driver, or no match), `EBUSY` (already bound; or an `unbindBusy` fault), `EINVAL`
/// (a driver name that is not a plain name).
extension SimulatedKernel {
    /// Writes `driver_override`: `<name>\n`, or `(null)\n` when cleared, as the kernel shows it. The
    /// binding does not change.
    public func setDriverOverride(_ address: PCIAddress, to driver: String?) throws(KernelError) {
        let call = cpu.begin()
        defer { cpu.end(call) }
        let path = paths.pciDevice(address) + "/driver_override"
        if let driver { try requirePlainName(driver, path) }
        try lockedDevice(path, address) { _, entry in
            guard let entry, try tree.writeOverride(driver, inDirectory: entry) else { throw Self.failure(path, ENOENT) }
        }
    }

    /// Unbinds the device from `driver`: `ENODEV` unless bound to it; then the `unbindBusy` (`EBUSY`) and
    /// `unbindBlocks` (hold the calling thread, and only it, until released) faults; then, leaving vfio-pci,
    /// the cooperative unbind (held while a process holds the device's VFIO files, relaying device requests:
    /// `SimulatedKernel+DeviceRequests.swift`), which first removes the device's cdev as the kernel's
    /// `vfio_device_del` does, before it waits (fds open on it stay valid); then the `driver` link and the
    /// driver's `<address>` link go, and leaving vfio-pci also `vfio-dev/vfioN` and, with the last group
    /// member on vfio-pci, `dev/vfio/<group>`. The whole change is one ``TreeIntent``: a process killed in
    /// the middle leaves it to be completed by the next one opening the tree.
    public func unbind(_ address: PCIAddress, from driver: String) throws(KernelError) {
        let call = cpu.begin()
        defer { cpu.end(call) }
        let path = paths.sys("bus/pci/drivers/\(driver)/unbind")
        try requirePlainName(driver, path)
        guard tree.driverExists(driver) else { throw Self.failure(path, ENOENT) }
        let (started, resolved) = try startUnbind(address, from: driver, path)
        guard let waiting = started else {
            sendUevent("unbind", address, driver: driver, directory: resolved)
            return
        }
        if waiting.faults.unbindBlocks.contains(address) {
            stateDirectory.markBlocked(address, true)
            // An unparseable file keeps the thread held: only a readable file without the fault releases it.
            blocked.hold(address) { stateDirectory.readFaults()?.unbindBlocks.contains(address) ?? true }
            stateDirectory.markBlocked(address, false)
        }
        if let facts = waiting.facts {
            relayDeviceRequestsWhileHeld(address, group: facts.group, cdevs: facts.vfioDevEntries.names)
        }
        let directory = try locked(path, address) { _ in
            defer { waiting.change.finish() }
            guard let directory = tree.directory(of: address), tree.queries.driver(of: address) == driver else {
                throw Self.failure(path, ENODEV)
            }
            do {
                try tree.detach(address, directory: directory, driver: driver, facts: waiting.facts)
            } catch {
                waiting.change.abandon()
                throw error
            }
            return directory
        }
        sendUevent("unbind", address, driver: driver, directory: directory)
    }

    /// An unbind that waits (a fault, or an opener of the device's VFIO files), begun: its recorded change,
    /// and the device's VFIO facts read before the cdev went.
    private struct WaitingUnbind {
        let faults: SimulatorFaults
        let change: PendingChange
        let facts: SimulatedTree.VFIOFacts?
    }

    /// Under the lock: the checks, then either the whole unbind (the common case — no blocking fault,
    /// nobody holding the device's VFIO files — reading the device's facts once; `nil`) or its start (the
    /// change recorded and, leaving vfio-pci, the cdev removed) for the caller to wait without the lock;
    /// with the device's directory.
    private func startUnbind(_ address: PCIAddress, from driver: String, _ path: String) throws(KernelError)
        -> (WaitingUnbind?, String) {
        try lockedDevice(path, address) { group, entry in
            let bound = entry.map(tree.driver(inDirectory:)) ?? tree.queries.driver(of: address)
            guard bound == driver else { throw Self.failure(path, ENODEV) }
            let faults = stateDirectory.readFaults() ?? SimulatorFaults()
            if faults.unbindBusy.contains(address) { throw Self.failure(path, EBUSY) }
            // A directory: its `driver` link was just read through it.
            guard let directory = entry else { throw Self.failure(path, ENODEV) }
            var facts: SimulatedTree.VFIOFacts?
            var held = false
            if driver == "vfio-pci" {
                let read = tree.vfioFacts(address, directory: directory, group: .some(group))
                held = !surelyUnheld(groups: read.group.map { [$0] } ?? [], cdevAmong: read.vfioDevEntries)
                facts = read
            }
            let change = try beginChange(TreeIntent(kind: .detach, address: address, driver: driver, group: facts?.group,
                                                    vfioDevEntries: facts?.vfioDevEntries.names ?? []))
            do {
                guard faults.unbindBlocks.contains(address) || held else {
                    try tree.detach(address, directory: directory, driver: driver, facts: facts)
                    change.finish()
                    return (nil, directory)
                }
                if let facts { try tree.unregisterCdev(directory: directory, entries: facts.vfioDevEntries) }
            } catch {
                change.abandon()
                throw error
            }
            return (WaitingUnbind(faults: faults, change: change, facts: facts), directory)
        }
    }

    /// `drivers_probe`: nothing when the device is bound (or a `probeLeavesDriverless` fault is set); with
    /// `driver_override` set, binds that driver when it is loaded (`sys/bus/pci/drivers/<name>` exists)
    /// and else leaves the device unbound; without one, binds the device's native driver (none: unbound).
    /// vfio-pci refuses a device without an IOMMU group or a bridge: it stays unbound. `ENODEV` for a
    /// device that does not exist.
    public func probe(_ address: PCIAddress) throws(KernelError) {
        let call = cpu.begin()
        defer { cpu.end(call) }
        let path = paths.sys("bus/pci/drivers_probe")
        try lockedDevice(path, address) { group, entry in
            guard let directory = entry, tree.isDirectory(relative: tree.relative(directory)) else { throw Self.failure(path, ENODEV) }
            guard tree.driver(inDirectory: directory) == nil else { return }
            if stateDirectory.readFaults()?.probeLeavesDriverless.contains(address) == true { return }
            let candidate: String
            let driverExists: Bool
            if let override = tree.driverOverride(inDirectory: directory) {
                guard SysfsFiles.isPlainDriverName(override), tree.driverExists(override) else { return }
                candidate = override
                driverExists = true
            } else {
                guard let native = nativeDriver(of: address) else { return }
                candidate = native
                driverExists = false
            }
            if candidate == "vfio-pci", tree.vfioRefuses(address, directory: directory, group: group) { return }
            try attach(address, directory: directory, driver: candidate, driverExists: driverExists, group: .some(group))
        }
    }

    /// `bind`: `ENOENT` when the driver is not loaded, `ENODEV` when the device does not exist or its
    /// `driver_override` names another driver (the kernel's match fails) or vfio-pci refuses it (no
    /// group, a bridge), `EBUSY` when it is bound already. Id tables are not modelled: without an override
    /// any loaded driver matches.
    public func bind(_ address: PCIAddress, to driver: String) throws(KernelError) {
        let call = cpu.begin()
        defer { cpu.end(call) }
        let path = paths.sys("bus/pci/drivers/\(driver)/bind")
        try requirePlainName(driver, path)
        guard tree.driverExists(driver) else { throw Self.failure(path, ENOENT) }
        try lockedDevice(path, address) { group, entry in
            guard let directory = entry, tree.isDirectory(relative: tree.relative(directory)) else { throw Self.failure(path, ENODEV) }
            if let override = tree.driverOverride(inDirectory: directory), override != driver {
                throw Self.failure(path, ENODEV)
            }
            guard tree.driver(inDirectory: directory) == nil else { throw Self.failure(path, EBUSY) }
            if driver == "vfio-pci", tree.vfioRefuses(address, directory: directory, group: group) {
                throw Self.failure(path, ENODEV)
            }
            try attach(address, directory: directory, driver: driver, group: .some(group))
        }
    }

    /// Binds with the group's lock held: a cdev number for vfio-pci when the host has cdevs (the next
    /// number saved in ``CdevCounter`` before the tree changes, so a crash never reuses one), the native
    /// driver remembered for a non-VFIO driver (the state file rewritten when it changes).
    func attach(_ address: PCIAddress, directory: String, driver: String, driverExists: Bool = false,
                group: Int?? = nil) throws {
        let numbered = driver == "vfio-pci" && tree.cdevSupported
        let cdev = try state.withLock { state throws -> Int? in
            if !Self.isVFIODriver(driver), state.nativeDrivers[address.description] != driver {
                state.nativeDrivers[address.description] = driver
                try stateDirectory.writeState(state)
            }
            guard numbered else { return nil }
            state.nextCdev += 1
            try cdevCounter.save(state.nextCdev)
            return state.nextCdev - 1
        }
        let change = try beginChange(TreeIntent(kind: .attach, address: address, driver: driver, cdev: cdev))
        do {
            try tree.attach(address, directory: directory, driver: driver, cdev: cdev, driverExists: driverExists, group: group)
        } catch {
            change.abandon()
            throw error
        }
        change.finish()
        sendUevent("bind", address, driver: driver, directory: directory)
    }

    /// Runs `body` with the lock of `address`'s IOMMU group held (``GroupLocks``), given that group as read
    /// from the `iommu_group` link (`nil`: none); a file-system error that is not a ``KernelError`` becomes
    /// one (`EIO` on `path`).
    func locked<Result>(_ path: String, _ address: PCIAddress, _ body: (Int?) throws -> Result) throws(KernelError) -> Result {
        let group = tree.queries.iommuGroup(of: address)
        do {
            return try treeLocks.withLock(group: group) { try body(group) }
        } catch let error as KernelError {
            throw error
        } catch {
            throw Self.failure(path, EIO)
        }
    }

    /// ``locked(_:_:_:)`` for a change of one device: where its bus entry leads (``SimulatedTree/unverifiedDirectory(of:)``;
    /// `nil`: outside the root) is read once, before the lock (the simulator never moves a bus entry), and
    /// the group through it; `body` gets both.
    func lockedDevice<Result>(_ path: String, _ address: PCIAddress,
                              _ body: (Int?, String?) throws -> Result) throws(KernelError) -> Result {
        let entry = tree.unverifiedDirectory(of: address)
        let group = tree.iommuGroup(of: address, entry: entry)
        do {
            return try treeLocks.withLock(group: group) { try body(group, entry) }
        } catch let error as KernelError {
            throw error
        } catch {
            throw Self.failure(path, EIO)
        }
    }

    /// Runs `body` with every group's lock and the state's held (a change of the whole tree); errors as
    /// ``locked(_:_:_:)``.
    func lockedTree<Result>(_ path: String, _ body: (inout SimulatorState) throws -> Result) throws(KernelError) -> Result {
        do {
            return try treeLocks.withAllLocks { try state.withLock { state in try body(&state) } }
        } catch let error as KernelError {
            throw error
        } catch {
            throw Self.failure(path, EIO)
        }
    }

    /// A failed write of `path`.
    static func failure(_ path: String, _ code: Int32) -> KernelError {
        KernelError(call: "write", path: path, errno: code)
    }

    /// `EINVAL` for a driver name that is not a plain file name.
    private func requirePlainName(_ driver: String, _ path: String) throws(KernelError) {
        guard SysfsFiles.isPlainDriverName(driver) else { throw Self.failure(path, EINVAL) }
    }
}
