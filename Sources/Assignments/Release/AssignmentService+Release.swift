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
