import Foundation
import ServiceLog
import Store
import VFIOCore
import Workers

/// The cooperative release: the holder is told; a process that still has the devices open (an opener) is
/// given a grace period, asked by the kernel (the device request vfio-pci relays while the unbind waits),
/// and escalated against by policy — without ever blocking the API, the store or another group.
extension AssignmentService {
    /// Starts the release workflow of a committed `releasing` assignment in the background.
    func startCooperativeRelease(_ operation: GroupOperation, _ assignment: Assignment) {
        Task { await cooperativeRelease(operation, assignment) }
    }

    /// 1. callback; 2. grace (until no opener is left or `graceSeconds` passed); 3. the restore on a
    /// worker (its unbind may block while an opener remains; the kernel relays requests meanwhile);
    /// 4. after `timeoutSeconds`, escalation. Openers and relayed requests are kept in the operation.
    /// With no callback and no grace nothing waits for the openers: the first look (and the kernel log's
    /// baseline, when someone holds the devices) is made on the worker itself, right before the restore.
    func cooperativeRelease(_ operation: GroupOperation, _ assignment: Assignment) async {
        var watch = OpenerWatch(operation: operation, assignment: assignment, kernel: kernel)
        let policy = assignment.release
        var holding: Bool
        if policy.callbackURL == nil && policy.graceSeconds <= 0 {
            guard let seen = await offerLookingFirst(operation, assignment, watch) else { return }
            watch = seen
            holding = !watch.detail.presentOpeners.isEmpty
        } else {
            if let text = policy.callbackURL {
                watch.detail.callback = await callback(text, Self.callbackBody(assignment, operation))
                await save(watch)
            }
            // One look for openers; the kernel log is read only once someone holds the devices.
            holding = await observe(&watch)
            Trace.mark(operation.id, "openers-scanned")
            if holding { await markLogBaseline(&watch) }
            let graceEnd = now().addingTimeInterval(Double(policy.graceSeconds))
            while holding, now() < graceEnd {
                try? await Task.sleep(for: .milliseconds(200))
                holding = await observe(&watch)
            }
            guard await offer(operation, assignment) else { return }
        }
        let kernelStart = now()
        if !holding {
            // Nobody held the devices: the restore runs straight through. Watch only a restore that does
            // not finish soon (an opener that opened the group meanwhile keeps its unbind waiting).
            await waiters.wait(for: operation.id, seconds: 1)
            if await isFinished(operation.id) { return }
            await markLogBaseline(&watch)
        }
        var escalated = false
        while !(await isFinished(operation.id)) {
            await waiters.wait(for: operation.id, seconds: 0.5)
            let holding = await observe(&watch)
            if !escalated, holding, now().timeIntervalSince(kernelStart) >= Double(policy.timeoutSeconds) {
                // Not escalated until its record is saved: a failed save is tried again next round.
                escalated = await escalate(policy.escalation, &watch)
            }
        }
        // Again after the worker's own removal: a `wait` escalation decided just as the unbind returned
        // may have marked it stuck after that.
        stuck.remove(operation.id)
    }

    /// Offers the release with its first look for openers made on the worker just before it: the openers
    /// seen (and the kernel log's baseline, when there are some) are saved before the restore's first
    /// write, as a look made before queueing would have been. Returns what the look saw; `nil` when the
    /// pool is shutting down.
    private func offerLookingFirst(_ operation: GroupOperation, _ assignment: Assignment, _ watch: OpenerWatch) async -> OpenerWatch? {
        let look = FirstLook()
        let database = database
        let offered = await offer(operation, assignment) {
            var next = watch
            Trace.mark(operation.id, "scan-begin")
            next.refresh(at: Date())
            Trace.mark(operation.id, "scan-end")
            if !next.detail.presentOpeners.isEmpty {
                next.markLogBaseline()
                let detail = next.detail
                do {
                    // On the worker thread, which may block: the blocking write.
                    _ = try database.write { try OperationRecords.setDetailWhileUnfinished(operation.id, detail, in: $0) }
                } catch {
                    // Kept in memory: the watcher saves it with the next change, and the worker records the
                    // openers again with the operation's end.
                    Log.warning("release \(operation.id): openers seen not saved yet: \(error)")
                }
            }
            Trace.mark(operation.id, "openers-scanned")
            look.resolve(next)
        }
        guard offered else { return nil }
        return await look.value
    }

    /// Hands the release to the worker pool (`first` runs on the worker just before it). A full queue only
    /// delays a release (it is recorded): it is offered again every second until a worker takes it. Returns
    /// false when the pool is shutting down: recovery runs the release on the next start.
    private func offer(_ operation: GroupOperation, _ assignment: Assignment, first: (@Sendable () -> Void)? = nil) async -> Bool {
        var tries = 0
        while true {
            do {
                try submit(operation, for: assignment, first: first)
                Trace.mark(operation.id, "queued")
                return true
            } catch WorkerPoolError.shuttingDown {
                Log.info("release \(operation.id) not started: vfiod is stopping; it runs on the next start")
                return false
            } catch {
                tries += 1
                if tries == 1 || tries.isMultiple(of: 60) {
                    Log.warning("release \(operation.id) waits for a worker (\(error)); offered again every second")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Marks where the kernel log ends now (once per release).
    private func markLogBaseline(_ watch: inout OpenerWatch) async {
        guard watch.detail.logBaseline == nil else { return }
        let start = watch
        watch = (try? await observer.run(label: "kmsg") { var next = start; next.markLogBaseline(); return next }) ?? watch
        await save(watch)
    }

    /// The openers and relayed requests as the release ends, on top of what the watcher saved: written
    /// with the operation's end, in its transaction. Runs on the worker thread.
    func finalObservation(_ operation: GroupOperation, _ assignment: Assignment) -> OperationDetail {
        let saved = (try? database.read { try OperationRecords.detail(operation.id, in: $0) }) ?? operation.detail
        // Nobody was seen holding the devices and the restore went straight through: nothing to add.
        guard !saved.openers.isEmpty || saved.logBaseline != nil else { return saved }
        var watch = OpenerWatch(operation: operation, assignment: assignment, kernel: kernel)
        watch.detail = saved
        watch.refresh(at: now(), sinceStart: true)
        if watch.detail.presentOpeners.isEmpty { watch.detail.stuckSince = nil }
        return watch.detail
    }

    /// Reads the openers and the kernel's relayed requests into `watch` (saved when they changed).
    /// Returns whether any opener is left.
    private func observe(_ watch: inout OpenerWatch) async -> Bool {
        let snapshot = watch
        guard let updated = try? await observer.run(label: "openers", { () -> OpenerWatch in
            var next = snapshot
            Trace.mark(snapshot.operation.id, "scan-begin")
            next.refresh(at: Date())
            Trace.mark(snapshot.operation.id, "scan-end")
            return next
        }) else { return false }
        let changed = updated.detail != watch.detail
        watch = updated
        if changed { await save(watch) }
        return !watch.detail.presentOpeners.isEmpty
    }

    /// Escalates by policy. The record is saved (and audited) before any signal goes out: an opener that
    /// dies at once lets the unbind return, and the worker's last word on the operation must include it.
    /// When the record cannot be saved no signal is sent (a signal is never sent unrecorded): returns false.
    private func escalate(_ escalation: Escalation, _ watch: inout OpenerWatch) async -> Bool {
        let pids = watch.detail.presentOpeners.map(\.pid)
        let at = now()
        watch.detail.escalation = OperationDetail.EscalationRecord(policy: escalation.rawValue, signal: escalation.signalName,
                                                                   pids: escalation.signal == nil ? [] : pids, at: at)
        if escalation.signal == nil {
            watch.detail.stuckSince = at
            stuck.insert(watch.operation.id)
        }
        let operation = watch.operation, assignment = watch.assignment, detail = watch.detail
        let action = escalation == .wait ? "release.stuck" : "release.escalated"
        let text = escalation == .wait
            ? "openers \(pids.map(String.init).joined(separator: ", ")) kept the devices past \(assignment.release.timeoutSeconds) s; waiting"
            : "\(escalation.signalName!) sent to openers \(pids.map(String.init).joined(separator: ", "))"
        let stillRunning: Bool
        do {
            stillRunning = try await database.write { connection in
                // The worker may have finished the release meanwhile (the opener let go): then nobody is signalled.
                guard try OperationRecords.setDetailWhileUnfinished(operation.id, detail, in: connection) else { return false }
                try Audit.append(action: action, actor: "system", requestID: operation.requestID, assignment: assignment,
                                 device: nil, before: nil, after: ["policy": escalation.rawValue],
                                 detail: "release \(operation.id): \(text)", error: nil, at: at, in: connection)
                return true
            }
        } catch {
            Log.warning("release \(operation.id): escalation not recorded, so not carried out yet (tried again): \(error)")
            if escalation.signal == nil { stuck.remove(operation.id) }
            watch.detail.escalation = nil
            watch.detail.stuckSince = nil
            return false
        }
        guard stillRunning else {
            stuck.remove(operation.id)
            return true
        }
        if let signal = escalation.signal {
            for pid in pids where pid > 1 && pid != getpid() { kill(pid, signal) }
        }
        return true
    }

    /// Saves what the watcher saw while the operation runs; once it finished, its own last word stands.
    private func save(_ watch: OpenerWatch) async {
        let id = watch.operation.id, detail = watch.detail
        do {
            try await database.write { try OperationRecords.setDetailWhileUnfinished(id, detail, in: $0) }
        } catch {
            // What the watcher saw is kept in memory and saved with the next change, and the worker records
            // the openers again with the operation's end.
            Log.warning("release \(id): openers seen not saved yet: \(error)")
        }
    }

    private func isFinished(_ id: String) async -> Bool {
        if waiters.hasFinished(id) { return true }
        do {
            return try await store { database in
                try database.read { try OperationRecords.isFinished(id, in: $0) }
            }
        } catch {
            // Keep watching: a release whose end cannot be read is not taken for finished.
            Log.warning("release \(id): cannot read whether it finished: \(error)")
            return false
        }
    }

    static func callbackBody(_ assignment: Assignment, _ operation: GroupOperation) -> [UInt8] {
        let object: [String: Any] = [
            "event": "assignment.releasing", "assignment": assignment.id, "operation": operation.id,
            "state": "releasing", "reason": assignment.releaseReason ?? "requested", "group": assignment.groupID,
            "holder": ["id": assignment.holder.id, "tenant": assignment.holder.tenant],
            "releaseGraceSeconds": assignment.release.graceSeconds,
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: .sortedKeys)).map(Array.init) ?? []
    }
}

/// What the release of one assignment has seen of its openers so far.
struct OpenerWatch: Sendable {
    let operation: GroupOperation
    let assignment: Assignment
    let kernel: any HostKernel
    var detail: OperationDetail
    private var lastSequence: [String: UInt64] = [:]
    /// Every cdev of the endpoints seen during this release: the kernel removes a cdev's node and its
    /// `vfio-dev/` entry as soon as the unbind starts, while its openers still hold it. Those that are no
    /// longer an endpoint's are followed only through removed-node links (their number may be reused).
    private var knownCdevs: Set<String> = []
    /// The last time an opener was seen holding on (for the requests the kernel made but did not log).
    private var heldUntil: Date?

    init(operation: GroupOperation, assignment: Assignment, kernel: any HostKernel) {
        self.operation = operation
        self.assignment = assignment
        self.kernel = kernel
        self.detail = operation.detail
    }

    /// Records the kernel log's current end for each endpoint: relays before it are not this release's.
    mutating func markLogBaseline() {
        var baseline: [String: UInt64] = [:]
        for device in assignment.endpoints {
            guard let address = PCIAddress(device.address) else { continue }
            if let last = kernel.kernelLog(mentioning: address, after: nil).map(\.sequence).max() { baseline[device.address] = last }
        }
        detail.logBaseline = baseline
        lastSequence = baseline
    }

    /// Scans the openers of the group's files and the kernel log (blocking reads); `sinceStart` reads
    /// the log from its beginning (relays already recorded are not repeated).
    mutating func refresh(at time: Date, sinceStart: Bool = false) {
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        let cdevs = endpoints.compactMap { kernel.vfioCdev(of: $0) }
        knownCdevs.formUnion(cdevs)
        // Also those an opener was seen with (after a restart, or when the unbind began before the first look).
        let cdevPrefix = "/dev/vfio/devices/"
        knownCdevs.formUnion(detail.openers.flatMap(\.paths).filter { $0.hasPrefix(cdevPrefix) }.map { String($0.dropFirst(cdevPrefix.count)) })
        let removed = knownCdevs.subtracting(cdevs).sorted()
        let openers = kernel.openers(groups: [assignment.groupID], cdevs: cdevs, removedCdevs: removed)
        if !openers.isEmpty { heldUntil = time }
        let present = Set(openers.map(\.pid))
        for index in detail.openers.indices where detail.openers[index].goneAt == nil && !present.contains(detail.openers[index].pid) {
            detail.openers[index].goneAt = time
        }
        for opener in openers where !detail.openers.contains(where: { $0.pid == opener.pid && $0.goneAt == nil }) {
            detail.openers.append(.init(pid: opener.pid, commandLine: opener.commandLine, paths: opener.paths, since: time))
        }
        guard let baseline = detail.logBaseline else { return }
        for address in endpoints {
            let key = address.description
            let after = sinceStart ? baseline[key] : (lastSequence[key] ?? baseline[key])
            for record in kernel.kernelLog(mentioning: address, after: after)
            where record.text.contains("Relaying device request") {
                if !detail.requestsRelayed.contains(where: { $0.sequence == record.sequence }) {
                    detail.requestsRelayed.append(.init(sequence: record.sequence, text: record.text, seenAt: time))
                }
                lastSequence[key] = max(lastSequence[key] ?? 0, record.sequence)
            }
        }
        countRequests(endpoints)
    }

    /// Sets `detail.requestCount` from the relayed requests seen and how long an opener held on; never
    /// lowers it (a later look, after the openers left, knows less of the cadence).
    private mutating func countRequests(_ endpoints: [PCIAddress]) {
        let perDevice = endpoints.map { address in
            detail.requestsRelayed.filter { $0.text.contains(address.description) }.compactMap { request in
                DeviceRequestCount.requestNumber(in: request.text).map {
                    (number: $0, seenAt: request.seenAt?.timeIntervalSince1970 ?? .infinity)
                }
            }
        }
        // The unbinds run one device at a time: a device's wait is over once the next one's requests show.
        let starts = perDevice.map { $0.map(\.seenAt).min() }
        var total = 0, logged = 0
        for (index, sightings) in perDevice.enumerated() where !sightings.isEmpty {
            let start = starts[index] ?? .infinity
            let next = starts.compactMap { $0 }.filter { $0 > start }.min()
            let end = [heldUntil?.timeIntervalSince1970, next].compactMap { $0 }.min()
            let count = DeviceRequestCount(sightings: sightings, heldUntil: end, interval: kernel.deviceRequestInterval)
            total += count.total
            logged += count.logged
        }
        guard total > 0 else { return }
        let saved = detail.requestCount
        detail.requestCount = .init(total: max(total, saved?.total ?? 0), logged: max(logged, saved?.logged ?? 0))
    }
}
