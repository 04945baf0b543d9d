import Assignments
import Dispatch
import Foundation
import ServiceLog
import Store
import Synchronization

/// The audit history's upkeep, on a thread of its own (it blocks on files, the database and a socket):
///
/// - **Anchoring the head**: at start, every `headIntervalSeconds` and at shutdown it writes the head
///   (`seq`, `hash`) to the log as one `audit head seq=… hash=… time=… reason=…` line and, when a witness
///   URL is configured, POSTs it there as JSON, so that a history cut short is caught by comparing with a
///   head kept elsewhere.
/// - **Retention**: every `checkIntervalSeconds` it archives what the policy lets go (`AuditArchive`).
final class AuditMaintenance: Sendable {
    /// What to do and how often.
    struct Settings: Sendable {
        /// Seconds between two head lines (and witness POSTs).
        var headIntervalSeconds = 300.0
        /// Where to POST the head; nil for the log only.
        var witness: CallbackURL?
        /// The retention policy; nil keeps every row in the database.
        var retention: Retention?
    }

    /// Keep rows newer than `keepDays` and/or the newest `keepRows`; archive the rest to `directory`.
    struct Retention: Sendable {
        var keepDays: Double?
        var keepRows: Int64?
        var directory: String
        var checkIntervalSeconds = 3600.0
        /// Smaller than the command's segments: each segment's delete holds the one writer, so a live
        /// vfiod's leases wait at most for 5,000 rows to leave.
        var segmentRows = 5_000
    }

    private let database: Database
    private let settings: Settings
    private let stopSignal = DispatchSemaphore(value: 0)
    private let started = Mutex(false)
    private let finished = Mutex<(done: Bool, waiters: [@Sendable () -> Void])>((false, []))

    init(database: Database, settings: Settings) {
        self.database = database
        self.settings = settings
    }

    /// Starts the thread (once; later calls do nothing); it anchors the head at once.
    func start() {
        let already = started.withLock { started in
            defer { started = true }
            return started
        }
        guard !already else { return }
        let thread = Thread { [self] in run() }
        thread.name = "vfiod-audit"
        thread.start()
    }

    /// Stops the thread after its last head line (and POST); returns once that is done (at once when it
    /// never started).
    func stop() async {
        guard started.withLock({ $0 }) else { return }
        stopSignal.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { state in
                if !state.done { state.waiters.append { continuation.resume() } }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    private func run() {
        anchor(reason: "start")
        var nextHead = Date().addingTimeInterval(settings.headIntervalSeconds)
        var nextArchive = Date().addingTimeInterval(settings.retention == nil ? .infinity : 0)
        while true {
            let wake = min(nextHead, nextArchive).timeIntervalSinceNow
            let deadline = DispatchTime.now() + .milliseconds(Int(max(0, min(wake, 86_400)) * 1000))
            if stopSignal.wait(timeout: deadline) == .success { break }
            if nextArchive.timeIntervalSinceNow <= 0, let retention = settings.retention {
                archive(retention)
                nextArchive = Date().addingTimeInterval(retention.checkIntervalSeconds)
            }
            if nextHead.timeIntervalSinceNow <= 0 {
                anchor(reason: "interval")
                nextHead = Date().addingTimeInterval(settings.headIntervalSeconds)
            }
        }
        anchor(reason: "shutdown")
        let waiters = finished.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter() }
    }

    /// Logs the head and POSTs it to the witness.
    private func anchor(reason: String) {
        let head: (seq: Int64, hash: String)
        do { head = try AuditLog.head(in: database) } catch {
            Log.error("audit head: cannot read it: \(error)")
            return
        }
        let time = Timestamp.format(Date())
        Log.info("audit head seq=\(head.seq) hash=\(head.hash) time=\(time) reason=\(reason)")
        guard let witness = settings.witness else { return }
        let body = "{\"seq\":\(head.seq),\"hash\":\"\(head.hash)\",\"time\":\"\(time)\",\"reason\":\"\(reason)\"}"
        let answer = CallbackNotifier.post(Array(body.utf8), to: witness)
        if !answer.hasPrefix("2") { Log.warning("audit head: the witness answered \(answer)") }
    }

    /// Archives what `retention` lets go; logs what moved or why nothing did.
    private func archive(_ retention: Retention) {
        do {
            var cutoffs: [AuditArchive.Cutoff] = []
            if let days = retention.keepDays { cutoffs.append(.time(Date().addingTimeInterval(-days * 86_400))) }
            if let rows = retention.keepRows { cutoffs.append(.keepRows(rows)) }
            for cutoff in cutoffs {
                let result = try AuditArchive.archive(database, before: cutoff, to: retention.directory,
                                                      segmentRows: retention.segmentRows)
                if result.rows > 0 {
                    Log.info("audit archive: moved \(result.rows) rows to \(retention.directory); checkpoint seq \(result.checkpointSeq)")
                }
            }
        } catch {
            Log.warning("audit archive: \(error)")
        }
    }
}
