import Workers
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs everything on the writer connection from one thread of its own, the committer, and commits the
/// write transactions that are waiting together in one SQLite transaction (group commit).
///
/// A caller hands its body to the committer and sleeps until it is done (a task is suspended instead, and
/// resumed from the committer: `transaction(_:completion:)`). The committer takes every
/// waiting request, runs the transaction bodies one after another inside one `BEGIN IMMEDIATE`, the
/// first directly and each later one inside a `SAVEPOINT` (a body that throws undoes its own changes and
/// nobody else's), commits once, and only then wakes the callers: a transaction has returned only once it
/// is durable, exactly as with one transaction per caller. Under load many bodies share one commit (and one
/// write of the pages they touch) and each caller costs one wake-up; alone, a transaction commits at once.
///
/// A caller that needs the connection outside a transaction (`exclusive`) runs on the committer too,
/// after the open batch committed. Calls made from inside a body run at once, on the committer: a nested
/// transaction is a savepoint. The committer exits after a second without work and starts again on the
/// next request.
final class GroupCommit: @unchecked Sendable {
    private let connection: Connection
    /// Guards `queue`, `committerRunning` and `batchesEnded`.
    private let lock = NSCondition()
    private var queue: [Request] = []
    private var committerRunning = false
    /// The committer thread (`pthread_t`, an integer on Linux) while it runs, else 0: calls from it are
    /// nested calls. Atomic, so that asking "am I the committer?" takes no lock the committer needs.
    private let committer = Atomic<UInt>(0)
    private var batchesEnded: UInt64 = 0
    /// Transactions run in the ended batches (guarded by `lock`).
    private var transactionsEnded: UInt64 = 0
    /// Called on the committer after each successful `COMMIT` with the audit rows it committed (guarded by `lock`).
    private var commitObserver: (@Sendable ([AuditRecord]) -> Void)?
    /// SQLITE_ABORT (4): the code reported to members of a batch SQLite rolled back by itself.
    static let abortCode: Int32 = 4
    /// A batch never grows past this many bodies, so one caller's wait stays bounded.
    static let maximumBatchSize = 256
    /// How long the committer waits for work before its thread exits.
    static let idleSeconds = 1.0
    /// The committer's nice value where the process may raise priority (root, `CAP_SYS_NICE`). Every
    /// write of every caller waits on this one thread: when it waits for a CPU behind the threads it
    /// just woke, all of them wait for it. (A thread started from the committer inherits the value: libdispatch
    /// may start a worker thread when the committer resumes a task, which then runs ahead of its peers.)
    static let committerNice: Int32 = -10

    /// Noted after every batch and exclusive call, before their callers wake: the WAL checkpointer sleeps on it.
    let commits = CommitSignal()

    /// Transaction control runs through `Connection.run`, i.e. as cached prepared statements. The
    /// connection keeps the audit rows each transaction appends (`Connection.appendedAudit`) for the
    /// commit observer.
    init(connection: Connection) {
        self.connection = connection
        connection.appendedAudit = []
    }

    /// How many batches have ended (tests).
    var endedBatchCount: UInt64 { lock.withLock { batchesEnded } }

    /// The batches (SQLite transactions, one `COMMIT` each) and the callers' transactions in them so far.
    var counts: CommitCounts { lock.withLock { CommitCounts(commits: batchesEnded, transactions: transactionsEnded) } }

    /// Sets the function called on the committer after each successful `COMMIT`, with the audit rows that
    /// commit stored (in seq order; none of a body that threw); it must not block.
    func observeCommits(_ observer: @escaping @Sendable ([AuditRecord]) -> Void) {
        lock.withLock { commitObserver = observer }
    }

    /// How many requests wait for the committer (tests).
    var queuedCount: Int { lock.withLock { queue.count } }

    /// Whether the calling thread is the committer (inside a body).
    private var isCommitterThread: Bool {
        committer.load(ordering: .acquiring) == UInt(pthread_self())
    }

    /// Runs `body` with the connection and no transaction of vfiod's own (an open batch is committed
    /// first).
    func exclusive<T>(_ body: (Connection) throws -> T) throws -> T {
        if isCommitterThread { return try body(connection) }
        return try submit(isTransaction: false, body)
    }

    /// Runs `body` in the shared write transaction and returns once that transaction committed; rethrows
    /// `body`'s error (its changes undone) or the commit's.
    func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        if isCommitterThread { return try savepoint(body) }
        return try submit(isTransaction: true, body)
    }

    /// Runs `body` in the shared write transaction without holding up the calling thread: `completion`
    /// gets its result once the transaction committed (or the body's or the commit's error), on the
    /// committer, so it must only hand the result on.
    func transaction<T>(_ body: @escaping (Connection) throws -> T, completion: @escaping (Result<T, Error>) -> Void) {
        if isCommitterThread {
            return completion(Result { try savepoint(body) })
        }
        let outcome = Outcome<T>()
        enqueue(Request(isTransaction: true, body, into: outcome) { request in
            completion(outcome.settled(by: request))
        })
    }

    /// Hands `body` to the committer and waits for it (and, for a transaction, for its commit).
    private func submit<T>(isTransaction: Bool, _ body: (Connection) throws -> T) throws -> T {
        // The committer runs `body` while this thread sleeps in `wait()`, so the closure never outlives
        // this call: escaping it for the hand-over is safe. `outcome` is written only by the committer
        // before `finish()` and read here after `wait()` (the semaphore orders the two).
        let outcome = Outcome<T>()
        let request = withoutActuallyEscaping(body) { escapable -> Request in
            let request = Request(isTransaction: isTransaction, escapable, into: outcome)
            enqueue(request)
            request.wait()
            return request
        }
        return try outcome.settled(by: request).get()
    }

    private func enqueue(_ request: Request) {
        lock.lock()
        queue.append(request)
        if committerRunning {
            lock.signal()
        } else {
            committerRunning = true
            do {
                try DedicatedThread.start(name: "vfiod-commit") { [self] in
                    Self.raisePriority()
                    commitLoop()
                }
            } catch {
                // Without a committer no write would ever end: nothing can go on.
                preconditionFailure("\(error)")
            }
        }
        lock.unlock()
    }

    /// Gives the calling thread (the committer) `committerNice`; without the privilege it keeps the
    /// process's. On Linux the nice value is per thread: `who` 0 is the calling thread alone.
    private static func raisePriority() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, committerNice)
    }

    /// The committer: takes waiting requests in order, batching consecutive transactions.
    private func commitLoop() {
        committer.store(UInt(pthread_self()), ordering: .releasing)
        while let first = next(waitingUpTo: Self.idleSeconds) {
            guard first.isTransaction else {
                _ = first.run(connection)
                // Rows an exclusive body appended in a transaction of its own are not handed on: the
                // observer's reader finds them in the database (a gap in seq).
                connection.appendedAudit = []
                commits.note()
                first.finish()
                continue
            }
            runBatch(startingWith: first)
        }
    }

    /// The next request, waiting up to `seconds` for one; `nil` (and the committer stopped) when none came.
    private func next(waitingUpTo seconds: Double) -> Request? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while queue.isEmpty {
            if !lock.wait(until: deadline) && queue.isEmpty {
                committerRunning = false
                committer.store(0, ordering: .releasing)
                return nil
            }
        }
        return queue.removeFirst()
    }

    /// The next request if it is a transaction already waiting (it joins the open batch).
    private func nextTransactionWaiting() -> Request? {
        lock.withLock {
            guard let first = queue.first, first.isTransaction else { return nil }
            return queue.removeFirst()
        }
    }

    /// Runs `first` and every transaction waiting behind it in one SQLite transaction, commits, then
    /// wakes their callers.
    private func runBatch(startingWith first: Request) {
        var members: [(request: Request, succeeded: Bool)] = []
        var failure: Error?
        do {
            try connection.run("BEGIN IMMEDIATE")
        } catch {
            // Without a transaction the body cannot run: it fails with BEGIN's error.
            first.refuse(error)
            first.finish()
            return
        }
        // Nobody else writes until COMMIT: the audit head one body appended is the next one's.
        connection.keepsAuditHead = true
        // The first body needs no savepoint (nor SQLite its statement journal): when it throws, nobody
        // else's work is in the transaction yet, and the whole of it is rolled back and begun again.
        let succeeded = first.run(connection)
        members.append((first, succeeded))
        if !succeeded {
            if connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
            connection.appendedAudit = []
            connection.auditHead = nil
            do { try connection.run("BEGIN IMMEDIATE") } catch { failure = error }
        }
        while failure == nil, members.count < Self.maximumBatchSize, let request = nextTransactionWaiting() {
            let succeeded = runInSavepoint(request)
            members.append((request, succeeded))
            // SQLite ends the whole transaction on some errors (SQLITE_FULL, IOERR): nothing of the
            // batch survives, and every member must hear so.
            if !connection.isInTransaction {
                failure = DatabaseError(operation: .execute, code: Self.abortCode,
                                        message: "the group's transaction was rolled back by SQLite", path: connection.path)
            }
        }
        if failure == nil, connection.isInTransaction {
            do { try connection.run("COMMIT") } catch { failure = error }
        }
        if failure != nil, connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
        let committedAudit = failure == nil ? connection.appendedAudit ?? [] : []
        connection.appendedAudit = []
        connection.keepsAuditHead = false
        connection.auditHead = nil
        let observer = lock.withLock {
            batchesEnded += 1
            transactionsEnded += UInt64(members.count)
            return commitObserver
        }
        // Before the callers wake: a caller that wrote finds the checkpointer already told.
        commits.note()
        if failure == nil, members.contains(where: \.succeeded) { observer?(committedAudit) }
        for member in members {
            if member.succeeded, let failure { member.request.commitError = failure }
            member.request.finish()
        }
    }

    /// Runs a request's body in a savepoint: released when it succeeds, rolled back when it throws.
    private func runInSavepoint(_ request: Request) -> Bool {
        /// The body threw: its outcome is already recorded in the caller's frame.
        struct BodyFailed: Error {}
        var ran = false
        do {
            try savepoint { connection in
                ran = true
                if !request.run(connection) { throw BodyFailed() }
            }
            return true
        } catch is BodyFailed {
            return false
        } catch where ran {
            // `RELEASE` failed: the member's changes were rolled back; its caller hears why.
            request.commitError = error
            return true
        } catch {
            // `SAVEPOINT` failed: the body never ran.
            request.refuse(error)
            return false
        }
    }

    /// `body` in a savepoint on the committer (a nested transaction): released when it returns, rolled
    /// back (and released) when it throws.
    private func savepoint<T>(_ body: (Connection) throws -> T) throws -> T {
        try connection.run("SAVEPOINT member")
        let auditMark = connection.appendedAudit?.count ?? 0
        do {
            let value = try body(connection)
            try connection.run("RELEASE member")
            return value
        } catch {
            if connection.isInTransaction {
                _ = try? connection.run("ROLLBACK TO member")
                _ = try? connection.run("RELEASE member")
            }
            // The rows the savepoint appended are undone (all of them when the whole transaction ended),
            // and with them the head they left.
            connection.auditHead = nil
            if let count = connection.appendedAudit?.count, count > auditMark {
                connection.appendedAudit?.removeSubrange(auditMark...)
            }
            throw error
        }
    }
}

/// What the writer has committed so far: SQLite commits, and the callers' write transactions they carried.
public struct CommitCounts: Sendable, Equatable {
    /// SQLite transactions (one `COMMIT` each; a failed one included).
    public let commits: UInt64
    /// Callers' write transactions run inside them.
    public let transactions: UInt64
}
