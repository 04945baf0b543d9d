internal import CMicroHTTPD
internal import Glibc

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

    /// Queued byte arrays, shared with the sender (queueing one costs a reference, not a copy): the
    /// queue is `chunks[head...]`, its first `readOffset` bytes already taken.
    private var chunks: [[UInt8]] = []
    private var head = 0
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
    /// The most bytes written into libmicrohttpd's write buffer since its pages were last released
    /// (`WriteBufferPages`); at first unknown: the library itself has written there. The reader writes
    /// at most `takeLimit`, so only that first time is ever past `WriteBufferPages.keptBytes`.
    private var written = Int.max

    /// The most bytes handed to libmicrohttpd per call of the content reader: libmicrohttpd writes them
    /// into the connection's memory pool, whose pages stay resident once touched, so a lagging reader
    /// touches this much of it rather than the whole free pool.
    static let takeLimit = 16 * 1024

    init(now: Int64) {
        lastQueued = now
        lastProgress = now
    }

    mutating func append(_ bytes: [UInt8], now: Int64) {
        if queuedBytes == 0 { lastProgress = now }
        chunks.append(bytes)
        queuedBytes += bytes.count
        lastQueued = now
    }

    /// Copies up to `max` queued bytes to `destination` and forgets them; returns how many.
    mutating func take(into destination: UnsafeMutableRawPointer, max: Int, now: Int64) -> Int {
        let count = min(max, queuedBytes, Self.takeLimit)
        guard count > 0 else { return 0 }
        lastProgress = now
        var copied = 0
        while copied < count {
            let part = min(count - copied, chunks[head].count - readOffset)
            chunks[head].withUnsafeBytes { raw in
                // `raw` covers the whole chunk and readOffset + part <= its count; the caller vouches that
                // `destination` has room for `max` >= count bytes.
                (destination + copied).copyMemory(from: raw.baseAddress! + readOffset, byteCount: part)
            }
            copied += part
            readOffset += part
            if readOffset == chunks[head].count {
                head += 1
                readOffset = 0
            }
        }
        queuedBytes -= count
        taken += count
        written = Swift.max(written, count)
        if queuedBytes == 0 {
            // A drained queue lets go of the chunks (the sender's bytes); it keeps its small array.
            chunks.removeAll(keepingCapacity: chunks.capacity <= 64)
            head = 0
        } else if head >= 64 && head * 2 >= chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        return count
    }

    mutating func dropQueue() {
        chunks = []
        head = 0
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

    /// The reader found nothing to send in `destination` (`max` bytes lent by libmicrohttpd): gives back
    /// the pages written past what the reader itself writes (`WriteBufferPages`) and suspends the connection (on
    /// libmicrohttpd's thread, inside the content reader, where the manual allows it). Called under the
    /// stream's lock.
    mutating func suspend(lending destination: UnsafeMutableRawPointer, max: Int) {
        if written > WriteBufferPages.keptBytes {
            WriteBufferPages.release(destination, count: max)
            written = 0
        }
        guard case .active(let connection) = link else { return }
        link = .suspended(connection)
        // Called from the content reader callback on the connection's own libmicrohttpd thread, on a
        // daemon started with MHD_ALLOW_SUSPEND_RESUME; the connection is not suspended (link was `.active`).
        MHD_suspend_connection(connection.pointer)
    }
}

/// The pages of libmicrohttpd's write buffer that a stream gives back to the kernel.
///
/// A connection's memory pool is one anonymous mapping (libmicrohttpd maps pools over 32 KiB) whose
/// pages stay resident once touched. Before the first content read, libmicrohttpd has already zeroed the
/// unused half of the read buffer it shrinks when the request is in (about 32 KiB of a 64 KiB pool), and
/// that space is where the write buffer lies: an open stream would otherwise hold ~37 KiB resident while
/// it sends a few KiB at a time. When the stream first suspends, the pages of the content reader's
/// destination past the most one read writes (`keptBytes`) are released; the stream's own writes never
/// reach them, so this happens once per stream.
enum WriteBufferPages {
    /// The destination's first bytes that stay resident: the most one read of the content reader writes
    /// (`StreamState.takeLimit`), so a busy stream never releases and faults the same pages again.
    static let keptBytes = StreamState.takeLimit
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Releases the whole pages of `destination ..< destination + count` past its first `keptBytes`.
    /// The caller vouches that libmicrohttpd lent it those bytes to write (the content reader's `buffer`
    /// and `max`) and that nothing in them is still to be sent (the reader returns 0 and suspends).
    static func release(_ destination: UnsafeMutableRawPointer, count: Int) {
        let start = Int(bitPattern: destination) + keptBytes
        let end = Int(bitPattern: destination) + count
        let first = (start + pageSize - 1) / pageSize * pageSize
        let last = end / pageSize * pageSize
        guard last > first, let pages = UnsafeMutableRawPointer(bitPattern: first) else { return }
        // The range is whole pages inside the buffer libmicrohttpd lent the content reader, which lies in
        // private anonymous memory (its pool's mapping, or malloc's for a pool of 32 KiB or less).
        // MADV_DONTNEED drops them; the kernel maps zero pages back on the next write, so to the library
        // this is the same as the reader having written zeros there, which it may. A failure (EINVAL,
        // EAGAIN) leaves the pages as they were.
        _ = madvise(pages, last - first, MADV_DONTNEED)
    }
}
