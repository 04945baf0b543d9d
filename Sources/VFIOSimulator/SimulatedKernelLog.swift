#if canImport(Glibc)
import Glibc
#endif
import VFIOCore

/// The simulated kernel log: `<root>/dev/kmsg` as a regular file of records in the `/dev/kmsg` format
/// (`6,<seq>,<usec>,-;text`), appended to under an exclusive `flock` so that several processes sharing a
/// tree number their records in one sequence. Read back with ``KernelLogReader``.
struct SimulatedKernelLog: Sendable {
    /// `<root>/dev/kmsg`.
    let path: String

    /// Appends one informational record (priority 6) with the next sequence number and the monotonic clock
    /// in microseconds. Failures are ignored: the log is informational, as the kernel's is.
    func append(_ text: String) {
        _ = mkdir(String(path.prefix(upTo: path.lastIndex(of: "/")!)), 0o755)
        let fd = retryingInterruptedCall { open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { return }
        defer { _ = close(fd) }
        // Serialises appenders across processes; released by close.
        guard retryingInterruptedCall({ flock(fd, LOCK_EX) }) == 0 else { return }
        let existing = (try? SysfsFiles.readBytes(path, limit: 64 << 20)) ?? []
        let sequence = KernelLogReader.parseRecords(existing).last.map { $0.sequence + 1 } ?? 0
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        let line = Array("6,\(sequence),\(microseconds),-;\(text)\n".utf8)
        var written = 0
        while written < line.count {
            // write(2) the rest of the line; O_APPEND puts it at the end of the file.
            let count = line.withUnsafeBytes { raw in
                retryingInterruptedCall { write(fd, raw.baseAddress! + written, raw.count - written) }
            }
            if count <= 0 { return }
            written += count
        }
    }
}
