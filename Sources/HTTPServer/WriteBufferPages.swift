internal import Glibc

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
