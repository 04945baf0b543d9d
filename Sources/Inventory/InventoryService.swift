public import VFIOCore
import Foundation
import Synchronization

/// Keeps the current inventory snapshot: built at start, rebuilt on an interval and on request
/// (kernel uevents, tests), always on its own thread so a slow sysfs never stalls Swift's cooperative pool.
public final class InventoryService: Sendable {
    private struct State {
        var snapshot: InventorySnapshot?
        var lastScan: (scan: HostScan, takenAt: Date, duration: Double)?
        var republishRequested = false
        var requested: UInt64 = 0
        var completed: UInt64 = 0
        var waiters: [(target: UInt64, resume: @Sendable (InventorySnapshot) -> Void)] = []
        var stopping = false
        var lastError: String?
        var failures: UInt64 = 0
    }

    private let kernel: any HostKernel
    private let builder: InventoryBuilder
    private let interval: Double
    private let onRefresh: @Sendable (InventorySnapshot) -> Void
    private let leaseMarks: @Sendable () -> [PCIAddress: LeaseMark]
    private let state = Mutex(State())
    private let wakeup = NSCondition()

    /// Creates the service; `onRefresh` is called on the refresh thread after every new snapshot.
    public init(kernel: any HostKernel, builder: InventoryBuilder, intervalSeconds: Double,
                leaseMarks: @escaping @Sendable () -> [PCIAddress: LeaseMark] = { [:] },
                onRefresh: @escaping @Sendable (InventorySnapshot) -> Void = { _ in }) {
        self.kernel = kernel
        self.leaseMarks = leaseMarks
        self.builder = builder
        self.interval = intervalSeconds
        self.onRefresh = onRefresh
    }

    /// Builds the first snapshot on the calling thread (a start failure must be reported before
    /// serving), then starts the refresh thread.
    public func start() throws {
        let first = try scan(generation: 1)
        state.withLock { $0.snapshot = first }
        onRefresh(first)
        let thread = Thread { [self] in self.refreshLoop() }
        thread.name = "vfiod-inventory"
        thread.start()
    }

    /// The current snapshot. Call only after `start()` succeeded.
    public var current: InventorySnapshot {
        state.withLock { $0.snapshot! }
    }

    /// The last refresh error, if the most recent refresh failed (the previous snapshot stays).
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Asks for a refresh soon; returns at once. Requests that arrive during a scan coalesce into one more.
    public func requestRefresh() {
        state.withLock { $0.requested += 1 }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    /// Rebuilds the snapshot from the last scan with the current lease marks, without rescanning:
    /// lease state changes reach the API at once, kernel changes with the next scan.
    public func republish() {
        state.withLock { $0.republishRequested = true }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    /// Refreshes and returns a snapshot whose scan started after this call.
    public func refresh() async -> InventorySnapshot {
        await withCheckedContinuation { continuation in
            enqueueRefresh { continuation.resume(returning: $0) }
        }
    }

    /// Refreshes and blocks the calling thread until a snapshot whose scan started after this call is
    /// published. For worker threads (never the cooperative pool): an operation is reported finished
    /// only once the inventory shows what it did.
    public func refreshAndWait() {
        // Before `start()` (recovery) and after `stop()` nobody reads snapshots: nothing to wait for.
        guard state.withLock({ $0.snapshot != nil && !$0.stopping }) else { return }
        let done = DispatchSemaphore(value: 0)
        enqueueRefresh { _ in done.signal() }
        done.wait()
    }

    private func enqueueRefresh(_ resume: @escaping @Sendable (InventorySnapshot) -> Void) {
        let stopped = state.withLock { state -> InventorySnapshot? in
            if state.stopping, let snapshot = state.snapshot { return snapshot }
            state.requested += 1
            state.waiters.append((state.requested, resume))
            return nil
        }
        if let stopped { resume(stopped); return }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    /// Ends the refresh thread after its current scan.
    public func stop() {
        state.withLock { $0.stopping = true }
        wakeup.lock()
        wakeup.signal()
        wakeup.unlock()
    }

    private func refreshLoop() {
        var deadline = Date(timeIntervalSinceNow: interval)
        while true {
            wakeup.lock()
            while state.withLock({ !$0.stopping && $0.requested == $0.completed && !$0.republishRequested }) {
                if !wakeup.wait(until: deadline) { break }
            }
            wakeup.unlock()
            if let republished = republishIfOnlyThatWasAsked() {
                onRefresh(republished)
                continue
            }
            let (stopping, target, generation) = state.withLock { state in
                (state.stopping, state.requested, (state.snapshot?.generation ?? 0) + 1)
            }
            if stopping {
                // Wake whoever still waits: they get the last snapshot rather than hang.
                let waiting = state.withLock { state in
                    defer { state.waiters.removeAll() }
                    return state.waiters.map(\.resume)
                }
                if let last = state.withLock({ $0.snapshot }) { for resume in waiting { resume(last) } }
                return
            }
            let result = Result { try scan(generation: generation) }
            deadline = Date(timeIntervalSinceNow: interval)
            let ready: [@Sendable (InventorySnapshot) -> Void] = state.withLock { state in
                state.completed = target
                switch result {
                case .success(let snapshot):
                    state.snapshot = snapshot
                    state.lastError = nil
                case .failure(let error):
                    state.lastError = "\(error)"
                    state.failures += 1
                }
                let done = state.waiters.filter { $0.target <= target }.map(\.resume)
                state.waiters.removeAll { $0.target <= target }
                return done
            }
            let snapshot = current
            if case .success = result { onRefresh(snapshot) }
            for resume in ready { resume(snapshot) }
        }
    }

    private func scan(generation: UInt64) throws -> InventorySnapshot {
        let started = Date()
        let clock = ContinuousClock.now
        let scan = try kernel.scan()
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        state.withLock { $0.lastScan = (scan, started, seconds); $0.republishRequested = false }
        return builder.build(scan: scan, backend: kernel.backend, generation: generation, takenAt: started,
                             scanDuration: seconds, leases: leaseMarks())
    }

    /// When only a republish is pending (no scan requested), rebuilds from the last scan.
    private func republishIfOnlyThatWasAsked() -> InventorySnapshot? {
        let job = state.withLock { state -> (HostScan, Date, Double, UInt64)? in
            guard state.republishRequested, state.requested == state.completed, !state.stopping,
                  let last = state.lastScan else { return nil }
            state.republishRequested = false
            return (last.scan, last.takenAt, last.duration, (state.snapshot?.generation ?? 0) + 1)
        }
        guard let (scan, takenAt, duration, generation) = job else { return nil }
        let snapshot = builder.build(scan: scan, backend: kernel.backend, generation: generation, takenAt: takenAt,
                                     scanDuration: duration, leases: leaseMarks())
        state.withLock { $0.snapshot = snapshot }
        return snapshot
    }
}
