import Workers
public import VFIOCore
import Foundation
import Synchronization

/// Keeps the current inventory snapshot: built at start, patched by operations for the few devices they
/// changed, re-read device by device as kernel uevents report changes, checked cheaply on an interval
/// (which functions exist and their drivers: ``SysfsScanner/driverCheck(against:)``), and rebuilt by a
/// full scan rarely (on its own, longer interval, when functions came or went, and on request). Scans
/// run on the service's own thread so a slow sysfs never stalls Swift's cooperative pool; with nothing
/// to do that thread sleeps until the next check.
///
/// Every snapshot is built and published under one lock, in generation order. A full scan that ran
/// while operations patched devices re-reads those devices before it is published, so it never
/// brings back a driver an operation already changed.
public final class InventoryService: Sendable {
    struct State {
        var snapshot: InventorySnapshot?
        var requested: UInt64 = 0
        var completed: UInt64 = 0
        var waiters: [(target: UInt64, resume: @Sendable (InventorySnapshot) -> Void)] = []
        var stopping = false
        var republishRequested = false
        var lastError: String?
        /// Functions uevents reported changed, not yet re-read.
        var reported: [PCIAddress] = []
        /// Callers of ``check()`` waiting for the next driver check.
        var checkWaiters: [@Sendable (InventorySnapshot) -> Void] = []
        /// Callers of ``settle()`` waiting for the reported functions to be re-read.
        var settleWaiters: [@Sendable () -> Void] = []
        /// Callers of ``snapshot(after:)`` waiting for a newer generation.
        var snapshotWaiters: [(after: UInt64, resume: @Sendable (InventorySnapshot) -> Void)] = []
        var activity = InventoryActivity()

        /// Whether the refresh thread has something to do before its next timed check.
        var hasWork: Bool {
            stopping || requested != completed || republishRequested || !reported.isEmpty || !checkWaiters.isEmpty
                || !settleWaiters.isEmpty
        }
    }

    /// What only the publisher touches (under `publishLock`).
    final class Published: @unchecked Sendable {
        var scan: HostScan?
        var takenAt = Date()
        var duration = 0.0
        var patchSerial: UInt64 = 0
        var patches: [(serial: UInt64, addresses: [PCIAddress])] = []
    }

    let kernel: any HostKernel
    private let builder: InventoryBuilder
    /// Seconds between driver checks.
    let interval: Double
    /// Seconds between full scans.
    let fullScanInterval: Double
    private let onRefresh: @Sendable (InventorySnapshot, _ fullScan: Bool) -> Void
    let assignmentMarks: @Sendable () -> [PCIAddress: AssignmentMark]
    let state = Mutex(State())
    let wakeup = NSCondition()
    let publishLock = NSLock()
    let published = Published()
    private let patches = PatchQueue()

    /// Operations waiting for their devices to be published; guarded by its own condition.
    private final class PatchQueue: @unchecked Sendable {
        let condition = NSCondition()
        func lock() { condition.lock() }
        func unlock() { condition.unlock() }
        func wait() { condition.wait() }
        func broadcast() { condition.broadcast() }
        var pending: [PCIAddress] = []
        var enqueued: UInt64 = 0
        var publishedUpTo: UInt64 = 0
        var publishing = false
    }

    /// Creates the service: a driver check every `intervalSeconds`, a full scan every
    /// `fullScanIntervalSeconds` (at least `intervalSeconds`). `onRefresh` is called, in generation order,
    /// after every new snapshot, with whether it came from a full scan.
    public init(kernel: any HostKernel, builder: InventoryBuilder, intervalSeconds: Double,
                fullScanIntervalSeconds: Double = 3600,
                assignmentMarks: @escaping @Sendable () -> [PCIAddress: AssignmentMark] = { [:] },
                onRefresh: @escaping @Sendable (InventorySnapshot, _ fullScan: Bool) -> Void = { _, _ in }) {
        self.kernel = kernel
        self.assignmentMarks = assignmentMarks
        self.builder = builder
        self.interval = intervalSeconds
        self.fullScanInterval = max(intervalSeconds, fullScanIntervalSeconds)
        self.onRefresh = onRefresh
    }

    /// Builds the first snapshot on the calling thread (a start failure must be reported before
    /// serving), then starts the refresh thread.
    public func start() throws {
        _ = try fullScan()
        try DedicatedThread.start(name: "vfiod-inventory") { [self] in refreshLoop() }
    }

    /// The current snapshot. Call only after `start()` succeeded.
    public var current: InventorySnapshot { state.withLock { $0.snapshot! } }

    /// The current snapshot, or `nil` before `start()` built the first one (recovery runs before it).
    public var currentIfStarted: InventorySnapshot? { state.withLock { $0.snapshot } }

    /// The last refresh error, if the most recent full scan failed (the previous snapshot stays).
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Asks for a full scan soon; returns at once. Requests during a scan coalesce into one more.
    public func requestRefresh() {
        state.withLock { $0.requested += 1 }
        signal()
    }

    /// Rebuilds the snapshot from the last scan with the current lease marks, without reading sysfs.
    public func republish() {
        state.withLock { $0.republishRequested = true }
        signal()
    }

    /// Scans the whole host and returns a snapshot whose scan started after this call.
    public func refresh() async -> InventorySnapshot {
        await withCheckedContinuation { continuation in
            enqueueRefresh { continuation.resume(returning: $0) }
        }
    }

    /// Re-reads `addresses` (and `/dev/vfio`) on the calling thread and publishes the result before
    /// returning: an operation is reported finished only once the inventory shows what it did. Blocks on
    /// sysfs: worker threads only. Before the first scan is published there is nothing to patch: the scan
    /// re-reads `addresses` before it publishes.
    ///
    /// Concurrent callers share builds: whoever finds no build running takes every pending address
    /// into one rescan and one snapshot, and everyone whose addresses it covered returns with it.
    public func refreshDevices(_ addresses: [PCIAddress]) {
        patches.lock()
        patches.enqueued += 1
        let ticket = patches.enqueued
        patches.pending.append(contentsOf: addresses)
        while patches.publishedUpTo < ticket {
            if patches.publishing {
                patches.wait()
                continue
            }
            patches.publishing = true
            let batch = patches.pending
            let upTo = patches.enqueued
            patches.pending = []
            patches.unlock()
            publishPatch(batch)
            patches.lock()
            patches.publishing = false
            patches.publishedUpTo = upTo
            patches.broadcast()
        }
        patches.unlock()
    }

    private func publishPatch(_ addresses: [PCIAddress]) {
        publishLock.lock()
        defer { publishLock.unlock() }
        // Recorded even before the first scan is published: a scan running now (the start-up scan, while
        // recovery's resumed operations change drivers) re-reads these devices before it publishes.
        published.patchSerial += 1
        published.patches.append((published.patchSerial, addresses))
        guard var scan = published.scan else { return }
        // Taken out while re-read, so the scan is updated in place rather than copied.
        published.scan = nil
        let changed = kernel.rescan(addresses, updating: &scan)
        published.scan = scan
        publish(scan, fullScan: false, changedFacts: changed)
    }

    /// Ends the refresh thread after its current scan.
    public func stop() {
        state.withLock { $0.stopping = true }
        signal()
    }

    /// Scans everything (outside the publish lock), re-reads what operations patched meanwhile, publishes.
    func fullScan() throws -> InventorySnapshot {
        let serialAtStart = publishLock.withLock { published.patchSerial }
        let started = Date()
        let clock = ContinuousClock.now
        var scan = try kernel.scan()
        let elapsed = ContinuousClock.now - clock
        publishLock.lock()
        defer { publishLock.unlock() }
        let patchedSince = published.patches.filter { $0.serial > serialAtStart }.flatMap(\.addresses)
        _ = kernel.rescan(patchedSince, updating: &scan)
        published.patches.removeAll { $0.serial <= published.patchSerial }
        published.scan = scan
        published.takenAt = started
        published.duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return publish(scan, fullScan: true, changedFacts: [])
    }

    /// Builds a snapshot from `scan` (the one just published) and the lease marks and hands it out. Caller holds
    /// `publishLock`, so snapshots leave in generation order.
    ///
    /// After a full scan everything is built again. Otherwise the published scan is the previous
    /// snapshot's with only `changedFacts` re-read, and the snapshot is derived from the previous one:
    /// only the devices those facts, changed lease marks or `/dev/vfio` nodes touch are built again.
    @discardableResult
    func publish(_ scan: HostScan, fullScan: Bool, changedFacts: [PCIAddress]) -> InventorySnapshot {
        let previous = state.withLock { $0.snapshot }
        let generation = (previous?.generation ?? 0) + 1
        let snapshot = if !fullScan, let previous {
            builder.build(scan: scan, backend: kernel.backend, generation: generation, takenAt: published.takenAt,
                          scanDuration: published.duration, assignments: assignmentMarks(), previous: previous,
                          changedFacts: changedFacts)
        } else {
            builder.build(scan: scan, backend: kernel.backend, generation: generation, takenAt: published.takenAt,
                          scanDuration: published.duration, assignments: assignmentMarks())
        }
        let waiting = state.withLock { state in
            state.snapshot = snapshot
            if fullScan { state.activity.fullScans += 1 }
            let ready = state.snapshotWaiters.filter { $0.after < snapshot.generation }.map(\.resume)
            state.snapshotWaiters.removeAll { $0.after < snapshot.generation }
            return ready
        }
        onRefresh(snapshot, fullScan)
        for resume in waiting { resume(snapshot) }
        return snapshot
    }
}
