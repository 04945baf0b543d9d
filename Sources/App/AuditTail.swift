import API
import EventStream
import Foundation
import ServiceLog
import Store
import Workers

/// Turns the audit history into the event stream's durable events, in seq order, on a thread of its own.
/// After each commit the database's commit observer hands it the rows that commit stored (``deliver(_:)``:
/// the committer appends them to a queue and signals; it never waits for the tail, the hub or a reader).
/// Rows it was not handed — committed by another process (`vfiod token revoke`) or outside a write
/// transaction, or dropped when the queue overflowed — it reads back from the database: a handed row
/// whose seq is not the next one reads the gap first, and a signal with nothing handed reads every row
/// after the last one published.
final class AuditTail: @unchecked Sendable {
    private let database: Database
    private let hub: EventHub
    /// Guards `signalled`, `handed`, `stopping` and `running`.
    private let condition = NSCondition()
    private var signalled = true
    /// Committed rows handed over and not yet taken by the tail's thread, in seq order.
    private var handed: [AuditRecord] = []
    private var stopping = false
    private var running = false
    /// The last seq published; only the tail's thread touches it.
    private var published: Int64
    /// Rows read per query.
    static let page = 512
    /// The most rows kept waiting in memory: past it the queue is dropped and the rows are read back.
    static let handedLimit = 65_536

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

    /// Something committed, storing `rows` (in seq order; none when it is not known which): publish them,
    /// and whatever came before them unpublished. Never blocks for long (an append under a lock).
    func deliver(_ rows: [AuditRecord]) {
        condition.lock()
        if handed.count + rows.count > Self.handedLimit {
            // The tail is far behind: the database keeps the rows, and the next pass reads them back.
            handed.removeAll()
        } else {
            handed.append(contentsOf: rows)
        }
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
        while let rows = waitForWork() {
            do {
                if rows.isEmpty { try publishNewRows() } else { try publish(rows) }
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

    /// Waits until signalled and takes the rows handed over meanwhile; `nil` once stopping.
    private func waitForWork() -> [AuditRecord]? {
        condition.lock()
        defer { condition.unlock() }
        while !signalled && !stopping { condition.wait() }
        signalled = false
        if stopping { return nil }
        defer { handed = [] }
        return handed
    }

    /// Publishes the handed `rows` after the rows before them that were not handed (read back). Rows
    /// already published (read back before they were handed) are left out.
    private func publish(_ rows: [AuditRecord]) throws {
        guard let first = rows.first(where: { $0.seq > published }) else { return }
        // Read back what came between (another process's rows), up to the first handed one.
        while published < first.seq - 1 {
            let missing = try AuditLog.list(AuditQuery(afterSeq: published, limit: Self.page), in: database)
                .filter { $0.seq < first.seq }
            guard let last = missing.last else { break }
            hub.publish(missing.flatMap(EventDrafts.audit))
            published = last.seq
        }
        let fresh = rows.drop { $0.seq <= published }
        guard let last = fresh.last else { return }
        hub.publish(fresh.flatMap(EventDrafts.audit))
        published = last.seq
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
