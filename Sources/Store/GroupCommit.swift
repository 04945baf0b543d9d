import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Hands the writer connection to one thread at a time, and commits the write transactions of threads
/// that arrive together in one SQLite transaction (group commit).
///
/// Each caller's body runs on its own thread, the first of a batch directly in the transaction and each
/// later one inside a `SAVEPOINT` of it: a body that throws rolls back its own changes and nobody else's. The caller that finds nobody else waiting to
/// write commits for everyone in the batch; the others wait for that `COMMIT` before they return, so a
/// transaction has returned only once it is durable, exactly as with one transaction per caller. A batch
/// holds at most one body per waiting thread (a member waits for the commit before it can write again),
/// so under load many bodies share one commit (and one write of the pages they touch) and an idle
/// database commits each at once.
///
/// A caller that needs the connection outside a transaction (`exclusive`) commits an open batch first.
/// Calls nest on the thread that holds the connection: a nested transaction is a savepoint.
final class GroupCommit: @unchecked Sendable {
    private let connection: Connection
    /// Guards every field below; the two conditions wait on it.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the connection becomes free.
    private let connectionFree = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast when a batch's commit finished.
    private let batchCommitted = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var busy = false
    private var owner: pthread_t?
    /// Transaction callers that asked for the connection and have not finished their body yet.
    private var announced = 0
    private var lastBatch: UInt64 = 0
    private var openBatch: UInt64?
    private var openBatchSize = 0
    private var committedBatch: UInt64 = 0
    /// Failed commits, with how many members still have to read the error.
    private var failures: [UInt64: (error: Error, readers: Int)] = [:]
    /// Members of the open batch waiting for its commit.
    private var waitingMembers = 0
    /// How many batches committed (or failed to); for tests and statistics.
    private var batchesEnded: UInt64 = 0

    /// A batch never grows past this many bodies, so one member's wait stays bounded.
    static let maximumBatchSize = 256

    /// Transaction control runs through `Connection.run`, i.e. as cached prepared statements: no SQL is
    /// parsed again for each member.
    init(connection: Connection) {
        self.connection = connection
        // Plain default attributes: a non-recursive mutex and process-private conditions on CLOCK_REALTIME,
        // initialised once here and destroyed in deinit, when no thread can be waiting any more.
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(connectionFree, nil)
        pthread_cond_init(batchCommitted, nil)
    }

    deinit {
        pthread_cond_destroy(batchCommitted)
        pthread_cond_destroy(connectionFree)
        pthread_mutex_destroy(mutex)
        batchCommitted.deallocate()
        connectionFree.deallocate()
        mutex.deallocate()
    }

    /// Transaction callers that asked for the connection and have not finished their body (tests).
    var announcedCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return announced
    }

    /// How many batches have ended (tests).
    var endedBatchCount: UInt64 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return batchesEnded
    }

    /// Whether the calling thread holds the connection (inside a body).
    private var isHeldByCallingThread: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return busy && owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    /// Runs `body` with the connection and no transaction of vfiod's own (an open batch is committed
    /// first; its members learn the outcome as usual).
    func exclusive<T>(_ body: (Connection) throws -> T) throws -> T {
        if isHeldByCallingThread { return try body(connection) }
        pthread_mutex_lock(mutex)
        acquire()
        if openBatch != nil { commitOpenBatch() }
        pthread_mutex_unlock(mutex)
        defer {
            pthread_mutex_lock(mutex)
            release()
            pthread_mutex_unlock(mutex)
        }
        return try body(connection)
    }

    /// Runs `body` in a savepoint of the shared write transaction and returns once that transaction
    /// committed; rethrows `body`'s error (its changes undone) or the commit's.
    func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        if isHeldByCallingThread { return try savepoint(body) }
        pthread_mutex_lock(mutex)
        announced += 1
        acquire()
        if openBatch != nil && openBatchSize >= Self.maximumBatchSize { commitOpenBatch() }
        let opening = openBatch == nil
        if opening {
            lastBatch += 1
            openBatch = lastBatch
            openBatchSize = 0
        }
        let batch = openBatch!
        openBatchSize += 1
        pthread_mutex_unlock(mutex)

        var result: Result<T, Error>
        if opening, let error = Result(catching: { try connection.run("BEGIN IMMEDIATE") }).failure {
            result = .failure(error)
        } else if opening {
            // The first body of a batch needs no savepoint (nor SQLite its statement journal): when it
            // throws, nobody else's work is in the transaction yet, and the whole of it is rolled back.
            result = Result { try body(connection) }
            if case .failure = result, connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
        } else {
            result = Result { try savepoint(body) }
        }

        pthread_mutex_lock(mutex)
        announced -= 1
        // SQLite ends the whole transaction on some errors (SQLITE_FULL, IOERR): then nothing of the batch
        // survives and its members must hear so.
        let broken = !connection.isInTransaction
        if announced == 0 || broken || openBatchSize >= Self.maximumBatchSize {
            let commitError = commitOpenBatch(broken: broken ? result.failure : nil)
            release()
            pthread_mutex_unlock(mutex)
            if case .success = result, let commitError { throw commitError }
            return try result.get()
        }
        release()
        guard case .success = result else {
            pthread_mutex_unlock(mutex)
            return try result.get()
        }
        waitingMembers += 1
        while committedBatch < batch { pthread_cond_wait(batchCommitted, mutex) }
        let failure = readFailure(of: batch)
        pthread_mutex_unlock(mutex)
        if let failure { throw failure }
        return try result.get()
    }

    /// `body` in a savepoint: released when it returns, rolled back (and released) when it throws.
    private func savepoint<T>(_ body: (Connection) throws -> T) throws -> T {
        try connection.run("SAVEPOINT member")
        do {
            let value = try body(connection)
            try connection.run("RELEASE member")
            return value
        } catch {
            if connection.isInTransaction {
                _ = try? connection.run("ROLLBACK TO member")
                _ = try? connection.run("RELEASE member")
            }
            throw error
        }
    }

    /// Waits for the connection and takes it. Caller holds `mutex`.
    private func acquire() {
        while busy { pthread_cond_wait(connectionFree, mutex) }
        busy = true
        owner = pthread_self()
    }

    /// Gives the connection to the next waiting thread. Caller holds `mutex`.
    private func release() {
        busy = false
        owner = nil
        pthread_cond_signal(connectionFree)
    }

    /// Commits (or, when `broken`, rolls back) the open batch and tells its waiting members. Caller holds
    /// `mutex` and the connection; the commit itself runs with `mutex` dropped so others can announce.
    @discardableResult
    private func commitOpenBatch(broken: Error? = nil) -> Error? {
        guard let batch = openBatch else { return nil }
        let waiting = waitingMembers
        pthread_mutex_unlock(mutex)
        var failure = broken
        if failure == nil, connection.isInTransaction {
            failure = Result(catching: { try connection.run("COMMIT") }).failure
        }
        if failure != nil, connection.isInTransaction { _ = try? connection.run("ROLLBACK") }
        pthread_mutex_lock(mutex)
        if let failure, waiting > 0 { failures[batch] = (failure, waiting) }
        waitingMembers = 0
        openBatch = nil
        openBatchSize = 0
        committedBatch = batch
        batchesEnded += 1
        pthread_cond_broadcast(batchCommitted)
        return failure
    }

    /// The error a waiting member of `batch` reports, if its commit failed. Caller holds `mutex`.
    private func readFailure(of batch: UInt64) -> Error? {
        guard let entry = failures[batch] else { return nil }
        if entry.readers <= 1 { failures[batch] = nil } else { failures[batch] = (entry.error, entry.readers - 1) }
        return entry.error
    }
}

extension Result {
    /// The error, when this is a failure.
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
