import API
import EventStream
import Foundation
import ServiceLog
import Store
import Workers

/// Turns the audit history into the event stream's durable events: after each commit (the database's
/// commit observer signals it) a thread of its own reads the rows after the last one it published and
/// hands their events to the hub, in seq order. The committer only sets a flag and signals: it never
/// waits for the tail, the hub or a reader.
final class AuditTail: @unchecked Sendable {
    private let database: Database
    private let hub: EventHub
    /// Guards `signalled`, `stopping` and `running`.
    private let condition = NSCondition()
    private var signalled = true
    private var stopping = false
    private var running = false
    /// The last seq published; only the tail's thread touches it.
    private var published: Int64
    /// Rows read per query.
    static let page = 512

    /// A tail that publishes the rows after `seq`.
    init(database: Database, hub: EventHub, after seq: Int64) {
        self.database = database
        self.hub = hub
        self.published = seq
    }

    /// Starts the tail's thread.
    func start() throws(ThreadStartError) {
        condition.withLock { running = true }
        do {
            try DedicatedThread.start(name: "vfiod-events") { [self] in loop() }
        } catch {
            condition.withLock { running = false }
            throw error
        }
    }

    /// Something committed: read the new rows. Never blocks for long (a flag under a lock).
    func signal() {
        condition.lock()
        signalled = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread and waits for it (it finishes the rows in hand first).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while waitForWork() {
            do {
                try publishNewRows()
            } catch {
                // The rows stay in the database: the next commit (or the retry a second from now) reads them.
                Log.warning("event stream: cannot read the audit history: \(error)")
                condition.withLock { signalled = true }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        condition.withLock {
            running = false
            condition.broadcast()
        }
    }

    /// Waits until signalled; `false` once stopping.
    private func waitForWork() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !signalled && !stopping { condition.wait() }
        signalled = false
        return !stopping
    }

    private func publishNewRows() throws {
        while true {
            let rows = try AuditLog.list(AuditQuery(afterSeq: published, limit: Self.page), in: database)
            guard let last = rows.last else { return }
            hub.publish(rows.flatMap(EventDrafts.audit))
            published = last.seq
            if rows.count < Self.page { return }
        }
    }
}
