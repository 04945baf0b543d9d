public import VFIOCore
import Foundation

/// The refresh thread: what it owes (full scans asked for, functions uevents reported, checks asked for),
/// and its timers (a driver check every `interval`, a full scan every `fullScanInterval`). It sleeps until
/// one of them is due or somebody hands it work: an idle host costs one check per interval.
extension InventoryService {
    /// What the refresh thread took to do in one round.
    private struct Work {
        var target: UInt64
        var scanRequested: Bool
        var republish: Bool
        var reported: [PCIAddress]
        var checkWaiters: [@Sendable (InventorySnapshot) -> Void]
        var settleWaiters: [@Sendable () -> Void]
    }

    /// Hands a kernel uevent to the refresh thread and returns at once (the uevent reader must not wait on
    /// sysfs). `bind`, `unbind` and `change` of a known function re-read that function alone, unless it is
    /// inside a bind or release (vfiod's own writes: the operation re-reads it when it ends); anything
    /// else (`add`, `remove`, an unknown function, `nil` for events the kernel dropped) asks for a full scan.
    public func kernelReported(_ event: UeventMessage?) {
        guard let event, let address = event.address, ["bind", "unbind", "change"].contains(event.action) else {
            return requestRefresh()
        }
        guard !Self.isMoving(address, assignmentMarks()) else { return }
        state.withLock { $0.reported.append(address) }
        signal()
    }

    /// Whether `address` is inside a bind or release, whose operation re-reads it when it ends.
    private static func isMoving(_ address: PCIAddress, _ marks: [PCIAddress: AssignmentMark]) -> Bool {
        marks[address]?.state == .binding || marks[address]?.state == .releasing
    }

    /// Runs a driver check now (on the refresh thread, as its timer does) and returns the snapshot after it.
    public func check() async -> InventorySnapshot {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state -> InventorySnapshot? in
                if state.stopping, let snapshot = state.snapshot { return snapshot }
                state.checkWaiters.append { continuation.resume(returning: $0) }
                return nil
            }
            if let stopped { continuation.resume(returning: stopped) } else { signal() }
        }
    }

    /// Returns once every function reported by a uevent before this call has been re-read (and published
    /// when it changed).
    public func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = state.withLock { state -> Bool in
                if state.stopping { return true }
                state.settleWaiters.append { continuation.resume() }
                return false
            }
            if stopped { continuation.resume() } else { signal() }
        }
    }

    /// The first snapshot newer than `generation` (at once when the current one is); the last one when the
    /// service stops first.
    public func snapshot(after generation: UInt64) async -> InventorySnapshot {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> InventorySnapshot? in
                if let snapshot = state.snapshot, snapshot.generation > generation || state.stopping { return snapshot }
                state.snapshotWaiters.append((generation, { continuation.resume(returning: $0) }))
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Full scans, driver checks and re-read functions so far.
    public var activity: InventoryActivity { state.withLock { $0.activity } }

    func signal() {
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    func enqueueRefresh(_ resume: @escaping @Sendable (InventorySnapshot) -> Void) {
        let stopped = state.withLock { state -> InventorySnapshot? in
            if state.stopping, let snapshot = state.snapshot { return snapshot }
            state.requested += 1
            state.waiters.append((state.requested, resume))
            return nil
        }
        if let stopped { resume(stopped) } else { signal() }
    }

    func refreshLoop() {
        var nextCheck = Date(timeIntervalSinceNow: interval)
        var nextFullScan = Date(timeIntervalSinceNow: fullScanInterval)
        while true {
            wakeup.lock()
            while !state.withLock({ $0.hasWork }) {
                if !wakeup.wait(until: min(nextCheck, nextFullScan)) { break }
            }
            wakeup.unlock()
            guard let work = takeWork() else { return wakeEveryone() }
            let now = Date()
            var checked = false
            var scanned = work.scanRequested || now >= nextFullScan
            if !scanned, !work.checkWaiters.isEmpty || now >= nextCheck {
                checked = true
                // Counted before what it finds is published: whoever sees the publish sees the count.
                state.withLock { $0.activity.driverChecks += 1 }
                if let changed = driverCheck() {
                    reread(work.reported + changed, publishing: work.republish)
                } else {
                    scanned = true  // functions came or went: only a full scan reads them
                }
            } else if !scanned {
                reread(work.reported, publishing: work.republish)
            }
            if scanned {
                runFullScan(upTo: work.target)
                nextFullScan = Date(timeIntervalSinceNow: fullScanInterval)
            }
            if checked || scanned { nextCheck = Date(timeIntervalSinceNow: interval) }
            let snapshot = state.withLock { $0.snapshot }
            if let snapshot { for resume in work.checkWaiters { resume(snapshot) } }
            for resume in work.settleWaiters { resume() }
        }
    }

    /// Takes everything owed to the refresh thread; `nil` when it is stopping.
    private func takeWork() -> Work? {
        state.withLock { state in
            guard !state.stopping else { return nil }
            defer {
                state.republishRequested = false
                state.reported = []
                state.checkWaiters = []
                state.settleWaiters = []
            }
            return Work(target: state.requested, scanRequested: state.requested != state.completed,
                        republish: state.republishRequested, reported: state.reported,
                        checkWaiters: state.checkWaiters, settleWaiters: state.settleWaiters)
        }
    }

    /// The functions whose driver differs from the published scan's, or `nil` when functions came or went.
    private func driverCheck() -> [PCIAddress]? {
        // A copy of the published scan (copy-on-write: a patch meanwhile copies its own).
        guard let scan = publishLock.withLock({ published.scan }) else { return [] }
        return kernel.driverCheck(against: scan)
    }

    /// Re-reads `addresses` into the published scan and publishes when a fact changed (or `publishing`:
    /// lease marks changed). Functions inside a bind or release are left to their operation, which
    /// re-reads them when it ends; a function the scan does not know asks for a full scan.
    private func reread(_ addresses: [PCIAddress], publishing: Bool) {
        let marks = addresses.isEmpty ? [:] : assignmentMarks()
        let wanted = Set(addresses).filter { !Self.isMoving($0, marks) }
        guard !wanted.isEmpty || publishing else { return }
        publishLock.lock()
        defer { publishLock.unlock() }
        // The refresh thread starts after the first scan is published: there is a scan to re-read into.
        guard var scan = published.scan else { return }
        let unknown = wanted.contains { address in !scan.devices.contains { $0.address == address } }
        // Taken out while re-read, so the scan is updated in place rather than copied.
        published.scan = nil
        let changed = kernel.rescan(Array(wanted), updating: &scan)
        published.scan = scan
        state.withLock { $0.activity.devicesReread += UInt64(wanted.count) }
        if !changed.isEmpty || publishing { publish(scan, fullScan: false, changedFacts: changed) }
        if unknown { requestRefresh() }
    }

    /// A full scan, and the ``refresh()`` callers it answers (those who asked up to `target`).
    private func runFullScan(upTo target: UInt64) {
        let result = Result { try fullScan() }
        let ready = state.withLock { state -> [@Sendable (InventorySnapshot) -> Void] in
            state.completed = max(state.completed, target)
            if case .failure(let error) = result { state.lastError = "\(error)" } else { state.lastError = nil }
            let done = state.waiters.filter { $0.target <= target }.map(\.resume)
            state.waiters.removeAll { $0.target <= target }
            return done
        }
        let snapshot = current
        for resume in ready { resume(snapshot) }
    }

    /// Wakes whoever still waits at shutdown: they get the last snapshot rather than hang.
    private func wakeEveryone() {
        let (waiting, checks, settles, snapshots, last) = state.withLock { state in
            defer {
                state.waiters.removeAll()
                state.checkWaiters.removeAll()
                state.settleWaiters.removeAll()
                state.snapshotWaiters.removeAll()
            }
            return (state.waiters.map(\.resume), state.checkWaiters, state.settleWaiters, state.snapshotWaiters.map(\.resume),
                    state.snapshot)
        }
        for resume in settles { resume() }
        if let last { for resume in waiting + checks + snapshots { resume(last) } }
    }
}
