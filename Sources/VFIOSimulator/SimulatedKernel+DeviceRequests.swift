#if canImport(Glibc)
import Glibc
#endif
public import VFIOCore

/// Cooperative unbind, as vfio-pci does it (docs/ARCHITECTURE.md, "Kernel writes"): unbinding a device from vfio-pci while a process holds its
/// group file or its cdev blocks the writer. The cdev node is gone by then (`vfio_device_del` comes before
/// the wait) but the opener's fd stays valid and still holds the device. Right away and then every
/// ``requestInterval`` the kernel signals the opener's request eventfd; it logs
/// `vfio-pci <addr>: Relaying device request to user (#i)` only for every tenth request (`i % 10 == 0`),
/// as vfio-pci does. Here the log is `<root>/dev/kmsg` and the eventfd is every FIFO
/// `<root>/.vfiod-simulator/requests/<addr>.<pid>` (8 bytes, a counter of 1, per request), which
/// `vfio-opener --simulated` creates and reads. The unbind goes on once nobody holds the files.
extension SimulatedKernel {
    /// The kernel's interval between two relays of a device request.
    public static let defaultRequestInterval: Duration = .seconds(10)

    /// The interval between two relays of a device request during a cooperative unbind, from
    /// `<root>/.vfiod-simulator/settings.json` (key `requestIntervalSeconds`), ``defaultRequestInterval``
    /// when unset.
    public var requestInterval: Duration {
        guard let seconds = stateDirectory.readSettings().requestIntervalSeconds, seconds > 0 else {
            return Self.defaultRequestInterval
        }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// Sets ``requestInterval`` for this tree, in its settings file, so other processes opening the tree
    /// see it too (tests use e.g. 100 ms). Throws ``KernelError`` when the file cannot be written.
    public func setRequestInterval(_ interval: Duration) throws(KernelError) {
        var settings = stateDirectory.readSettings()
        let (seconds, attoseconds) = interval.components
        settings.requestIntervalSeconds = Double(seconds) + Double(attoseconds) / 1e18
        try stateDirectory.writeSettings(settings)
    }

    /// `<root>/.vfiod-simulator/requests`: where simulated openers create their request FIFOs,
    /// `<address>.<pid>`.
    public var requestFIFODirectory: String { stateDirectory.requestDirectory }

    /// The interval between two device requests (``requestInterval``).
    public var deviceRequestInterval: Duration { requestInterval }

    /// Holds the calling thread (no lock held) while some process holds `group`'s file or one of `cdevs`
    /// (the device's, whose nodes ``SimulatedTree/unregisterCdev(directory:entries:)`` has removed),
    /// relaying a device request at once and then every ``requestInterval`` after the first (a fixed
    /// cadence, as the kernel's 10 s waits make it); wakes when a watched file is closed.
    func relayDeviceRequestsWhileHeld(_ address: PCIAddress, group: Int?, cdevs: [String]) {
        let groups = group.map { [$0] } ?? []
        let files = groups.map { paths.dev("vfio/\($0)") } + cdevs.compactMap { tree.keptCdev($0) }
        guard !files.isEmpty, isHeld(groups: groups, cdevs: cdevs) else { return }
        // Watching starts before the loop's first check, so a close after that check ends the wait.
        let watcher = CloseWatcher(files: files)
        let log = SimulatedKernelLog(path: paths.dev("kmsg"))
        let interval = requestInterval
        let clock = ContinuousClock()
        let start = clock.now
        var relayed = 0
        while isHeld(groups: groups, cdevs: cdevs) {
            if clock.now >= start + interval * relayed {
                if relayed % 10 == 0 { log.append("vfio-pci \(address): Relaying device request to user (#\(relayed))") }
                signalRequestFIFOs(of: address)
                relayed += 1
            }
            watcher.wait(milliseconds: Self.milliseconds(start + interval * relayed - clock.now))
        }
    }

    /// Whether some process holds a group file or cdev: a reset in this process (`groupsInReset`; no need
    /// to read this process's own, large, fd table), or another process.
    private func isHeld(groups: [Int], cdevs: [String]) -> Bool {
        groupsInReset.withLock({ !$0.isDisjoint(with: groups) }) || !openers(groups: groups, cdevs: [], removedCdevs: cdevs).isEmpty
    }

    /// Whether nobody holds a group file or cdev, decided without scanning `/proc` (false when in doubt:
    /// ``isHeld(groups:cdevs:)`` decides then). Cheap enough to ask with the tree lock held.
    func surelyUnheld(groups: [Int], cdevs: [String]) -> Bool {
        guard groupsInReset.withLock({ $0.isDisjoint(with: groups) }) else { return false }
        let files = groups.map { paths.dev("vfio/\($0)") } + cdevs.map { paths.dev("vfio/devices/\($0)") }
        return files.allSatisfy { Self.isOpenNowhere($0) }
    }

    /// ``surelyUnheld(groups:cdevs:)`` with the device's cdev as ``SimulatedTree/cdev(among:)`` picks it
    /// from its `vfio-dev/` entries (the first `vfioN` by name whose node exists), found by the lease
    /// checks' own opens instead of a `stat(2)` of each candidate first.
    func surelyUnheld(groups: [Int], cdevAmong entries: SimulatedTree.Listing) -> Bool {
        guard groupsInReset.withLock({ $0.isDisjoint(with: groups) }) else { return false }
        let root = tree.rootDirectory.fd
        guard groups.allSatisfy({ Self.isOpenNowhere(tree.at("dev/vfio/\($0)"), from: root) }) else { return false }
        for name in entries.names.filter({ $0.hasPrefix("vfio") }).sorted() {
            if let unheld = Self.isOpenNowhereIfPresent(tree.at("dev/vfio/devices/" + name), from: root) { return unheld }
        }
        return true
    }

    /// Writes an 8-byte counter of 1 to every request FIFO of `address` that has a reader; a FIFO whose
    /// opener is gone (`ENXIO`) or full is skipped.
    func signalRequestFIFOs(of address: PCIAddress) {
        let prefix = address.description + "."
        let names = (try? SysfsFiles.listDirectory(requestFIFODirectory)) ?? []
        for name in names where name.hasPrefix(prefix) {
            let fd = retryingInterruptedCall { open(requestFIFODirectory + "/" + name, O_WRONLY | O_NONBLOCK | O_CLOEXEC) }
            guard fd >= 0 else { continue }
            var one: UInt64 = 1
            // write(2) of the 8-byte counter, as an eventfd is written; atomic (below PIPE_BUF).
            _ = withUnsafeBytes(of: &one) { raw in retryingInterruptedCall { write(fd, raw.baseAddress!, raw.count) } }
            _ = Glibc.close(fd)
        }
    }

    /// A duration in whole milliseconds for `poll`, at least 1 and at most `Int32.max`.
    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, total))
    }
}
