import Foundation
import Inventory
import Store
import VFIOCore
import Workers
import Synchronization

/// Lends IOMMU groups: accepts assignments, runs binds and releases on the worker pool through the
/// journal, renews, expires, and answers reads. The HTTP layer calls it; it knows nothing of HTTP.
///
/// Writes from tasks go to the database's committer (`Database.write`, which suspends the task), other
/// SQLite calls run on `storeExecutor` (one dedicated thread) and kernel writes on `workers` (keyed by
/// group, so one group's operations never overlap): nothing here blocks Swift's cooperative pool.
public final class AssignmentService: Sendable {
    let database: Database
    let kernel: any HostKernel
    let inventory: InventoryService
    let workers: WorkerPool
    let storeExecutor: DedicatedExecutor
    let live = LiveAssignments()
    let quarantines = Quarantines()
    let stuck = OperationIDSet()
    let releasesStarted = OperationIDSet()
    /// Opener scans, kernel-log reads and callbacks: file and socket I/O kept off the cooperative pool.
    let observer = DedicatedExecutor(name: "observer", queueLimit: 1024, stuckAfterSeconds: 30)
    let waiters = OperationWaiters()
    /// `--cdi-dir`'s spec files, once ``writeCDISpecs(to:)`` set it.
    let cdi = Mutex<CDISpecDirectory?>(nil)
    /// Where holders fetch their descriptors (named in the QEMU attach spec); set by the app.
    public let holderSocketPath = Mutex<String?>(nil)
    /// Operations waiting for the database to take writes again.
    let paused = PausedOperations()
    /// Operations a worker runs now (shown `running` before that state commits).
    let running = RunningOperations()
    /// The longest a reader waits for a finished operation's publish (it takes milliseconds; the bound
    /// keeps a reader from hanging on a publish stuck in a sysfs read).
    static let publishWaitSeconds = 5.0
    let now: @Sendable () -> Date
    let maxTTLSeconds: Int
    /// The hosts a `callbackUrl` may name: checked when an assignment is made and again before calling.
    public let callbackHosts: CallbackHosts
    /// Told of each journaled step once its outcome committed (the event stream's `operation.step`).
    let stepObserver: @Sendable ([FinishedStep]) -> Void
    /// Where an operation's last steps go to be published with the inventory's change (`nil`: to `stepObserver`).
    let heldSteps: HeldSteps?

    /// Creates the service. Call `recover()` before serving. `onSteps` is called on the worker thread
    /// after each transaction that finished steps; it must not block. `heldSteps`, when given, takes an
    /// operation's last steps instead, released once the inventory published what the operation did.
    public init(database: Database, kernel: any HostKernel, inventory: InventoryService, workers: WorkerPool,
                storeExecutor: DedicatedExecutor, maxTTLSeconds: Int = 30 * 24 * 3600, callbackHosts: CallbackHosts = .loopback,
                now: @escaping @Sendable () -> Date = { Date() },
                onSteps: @escaping @Sendable ([FinishedStep]) -> Void = { _ in }, heldSteps: HeldSteps? = nil) {
        self.callbackHosts = callbackHosts
        self.stepObserver = onSteps
        self.heldSteps = heldSteps
        self.database = database
        self.kernel = kernel
        self.inventory = inventory
        self.workers = workers
        self.storeExecutor = storeExecutor
        self.maxTTLSeconds = maxTTLSeconds
        self.now = now
    }

    /// Device marks for the inventory builder: live assignments, overridden by quarantines.
    public var assignmentMarks: [PCIAddress: AssignmentMark] {
        live.marks.merging(quarantines.marks) { _, quarantine in quarantine }
    }

    /// The tenant of each live assignment, by id: what the API needs to show an operator that a device is
    /// taken without saying by whom. An assignment's tenant never changes; one that ended is absent.
    public var liveAssignmentTenants: [String: String] { live.tenants }

    /// The releases stuck now (openers kept the devices past the timeout under `wait`): operation ids.
    public var stuckReleases: [String] { stuck.all }

    /// Runs `body` on the store's one thread, so async callers never block the cooperative pool on SQLite.
    public func store<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let database = database
        return try await storeExecutor.run(label: "sqlite") { try body(database) }
    }

    // MARK: Reads

    /// One assignment, if the caller may see it.
    /// `head`, when given, gets the audit seq the read saw.
    public func assignment(_ id: String, caller: Caller, head: AuditHeadCapture? = nil) async throws -> Assignment {
        guard Identifier.isWellFormed(id, prefix: "asg") else { throw AssignmentError.notFound(id) }
        let found = try await store { database in
            try database.read { connection in
                try head?.capture(in: connection)
                return try AssignmentRecords.get(id, in: connection)
            }
        }
        guard let found, caller.sees(found) else { throw AssignmentError.notFound(id) }
        return found
    }

    /// A page of assignments after `afterID`, in id (creation) order, limited to the caller's tenant.
    /// `head`, when given, gets the audit seq the read saw.
    public func assignments(_ filter: AssignmentFilter, after afterID: String?, limit: Int, caller: Caller,
                            head: AuditHeadCapture? = nil) async throws -> [Assignment] {
        try await store { database in
            try database.read { connection in
                try head?.capture(in: connection)
                return try AssignmentRecords.list(filter, tenant: caller.tenant, after: afterID, limit: limit, in: connection)
            }
        }
    }

    /// One operation, if the caller may see its assignment.
    /// `head`, when given, gets the audit seq the read saw.
    public func operation(_ id: String, caller: Caller, head: AuditHeadCapture? = nil) async throws -> GroupOperation {
        guard Identifier.isWellFormed(id, prefix: "op") else { throw AssignmentError.notFound(id) }
        // An operation whose end committed shows as finished only once what it did is published (a worker
        // does that at once, without waiting on anything but the inventory).
        if waiters.isPublishing(id) { await waiters.wait(for: id, seconds: Self.publishWaitSeconds) }
        let found = try await store { database in
            try database.read { connection -> (GroupOperation, tenant: String)? in
                try head?.capture(in: connection)
                guard let operation = try OperationRecords.get(id, in: connection),
                      let tenant = try AssignmentRecords.tenant(of: operation.assignmentID, in: connection) else { return nil }
                return (operation, tenant)
            }
        }
        guard let (found, tenant) = found, caller.sees(tenant: tenant) else { throw AssignmentError.notFound(id) }
        var operation = running.shown(found)
        operation.pausedReason = paused.reason(id)
        return operation
    }

    /// The operation once it finished, or as it stands after `seconds` (long-poll).
    /// A first glance reads only the state and the tenant: the whole operation is read once, at the end
    /// (at once for one that finished lately, and without the glance for one queued or running here).
    public func operation(_ id: String, caller: Caller, waitSeconds: Double, head: AuditHeadCapture? = nil) async throws -> GroupOperation {
        guard waitSeconds > 0, Identifier.isWellFormed(id, prefix: "op"), !waiters.hasFinished(id) else {
            return try await operation(id, caller: caller, head: head)
        }
        // Queued or running here: unfinished, and its tenant known, without the glance.
        if let tenant = waiters.queuedTenant(id) {
            guard caller.sees(tenant: tenant) else { throw AssignmentError.notFound(id) }
            await waiters.wait(for: id, seconds: waitSeconds)
            return try await operation(id, caller: caller, head: head)
        }
        let glance = try await store { database in
            try database.read { try OperationRecords.glance(id, in: $0) }
        }
        guard let glance, caller.sees(tenant: glance.tenant) else { throw AssignmentError.notFound(id) }
        if !glance.isFinished { await waiters.wait(for: id, seconds: waitSeconds) }
        return try await operation(id, caller: caller, head: head)
    }

    /// The operations of an assignment, oldest first.
    public func operations(ofAssignment id: String) async throws -> [GroupOperation] {
        try await store { database in
            try database.read { try OperationRecords.of(assignment: id, in: $0) }
        }.map(running.shown)
    }
}
