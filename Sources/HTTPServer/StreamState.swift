internal import CMicroHTTPD

/// A libmicrohttpd connection pointer that may cross threads: the functions called on it from other
/// threads (`MHD_resume_connection`) are thread-safe, and `StreamState` only calls them while the
/// connection is suspended, when libmicrohttpd cannot close it.
struct StreamConnection: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The mutable part of a `ResponseStream`, always under its lock: the queue, the end, and where the
/// connection stands.
///
/// Suspension protocol: the content reader (libmicrohttpd's thread) finds the queue empty, marks the
/// link `.suspended` and calls `MHD_suspend_connection`, both under the lock; whoever queues bytes
/// next (`wake`) marks it `.active` and calls `MHD_resume_connection`, also under the lock. So each
/// suspension is resumed exactly once, and never after libmicrohttpd could have closed the connection
/// (it keeps a suspended connection open). libmicrohttpd never calls back into the stream while
/// holding the mutex those two functions take, so the lock order (stream, then libmicrohttpd's) holds.
struct StreamState {
    /// Where the stream's connection is.
    enum Link {
        /// The response is not queued on a connection yet (or never will be).
        case waiting
        /// libmicrohttpd is sending (or about to ask the reader for bytes).
        case active(StreamConnection)
        /// The reader suspended the connection; the next `wake` resumes it.
        case suspended(StreamConnection)
        /// The connection is finished with the stream.
        case gone
    }

    /// Queued bytes start at `readOffset` of `buffer`.
    private var buffer: [UInt8] = []
    private var readOffset = 0
    /// Bytes queued and not yet handed to libmicrohttpd.
    private(set) var queuedBytes = 0
    /// Bytes handed to libmicrohttpd so far (for the access log).
    private(set) var taken = 0
    /// `finish` was called (or the server is ending the stream): no more sends; end when drained.
    var finishing = false
    /// The client is gone: the reader fails the response so libmicrohttpd closes the connection.
    var aborting = false
    /// The reason the server chose when it ended the stream itself (shutdown).
    var serverReason: StreamEndReason?
    /// Set once the stream has ended.
    var ended: StreamEndReason?
    /// The `onEnd` handler, until it runs.
    var handler: (@Sendable (StreamEndReason) -> Void)?
    var link = Link.waiting
    /// When bytes were last queued (monotonic µs), for heartbeats.
    private(set) var lastQueued: Int64
    /// When libmicrohttpd last took bytes, or bytes began to wait in an empty queue (monotonic µs): a
    /// queue not emptied for long means a client that does not read.
    private(set) var lastProgress: Int64

    /// The most buffer capacity a drained queue keeps, in bytes.
    static let keptCapacity = 4096
    /// The most bytes handed to libmicrohttpd per call of the content reader: libmicrohttpd writes them
    /// into the connection's memory pool, whose pages stay resident once touched, so a lagging reader
    /// touches this much of it rather than the whole free pool.
    static let takeLimit = 16 * 1024

    init(now: Int64) {
        lastQueued = now
        lastProgress = now
    }

    mutating func append(_ bytes: [UInt8], now: Int64) {
        if readOffset > 0 && readOffset >= buffer.count / 2 {
            buffer.removeFirst(readOffset)
            readOffset = 0
        }
        if queuedBytes == 0 { lastProgress = now }
        buffer.append(contentsOf: bytes)
        queuedBytes += bytes.count
        lastQueued = now
    }

    /// Copies up to `max` queued bytes to `destination` and forgets them; returns how many.
    mutating func take(into destination: UnsafeMutableRawPointer, max: Int, now: Int64) -> Int {
        let count = min(max, queuedBytes, Self.takeLimit)
        guard count > 0 else { return 0 }
        lastProgress = now
        buffer.withUnsafeBytes { raw in
            // `raw` covers the whole buffer and readOffset + count <= buffer.count; the caller vouches
            // that `destination` has room for `max` >= count bytes.
            destination.copyMemory(from: raw.baseAddress! + readOffset, byteCount: count)
        }
        readOffset += count
        queuedBytes -= count
        taken += count
        if queuedBytes == 0 {
            // A drained queue keeps a small buffer for the next frames; a large one (a reader that lagged)
            // goes back to the allocator, so an idle stream holds little.
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.keptCapacity)
            readOffset = 0
        }
        return count
    }

    mutating func dropQueue() {
        buffer = []
        readOffset = 0
        queuedBytes = 0
    }

    /// Resumes the connection if the reader suspended it. Called under the stream's lock.
    mutating func wake() {
        guard case .suspended(let connection) = link else { return }
        link = .active(connection)
        // The link was `.suspended`: the reader suspended this connection under this lock and nobody
        // has resumed it since, so libmicrohttpd still holds it open and expects this one resume.
        MHD_resume_connection(connection.pointer)
    }

    /// The reader found nothing to send: suspends the connection (on libmicrohttpd's thread, inside the
    /// content reader, where the manual allows it). Called under the stream's lock.
    mutating func suspend() {
        guard case .active(let connection) = link else { return }
        link = .suspended(connection)
        // Called from the content reader callback on the connection's own libmicrohttpd thread, on a
        // daemon started with MHD_ALLOW_SUSPEND_RESUME; the connection is not suspended (link was `.active`).
        MHD_suspend_connection(connection.pointer)
    }
}
