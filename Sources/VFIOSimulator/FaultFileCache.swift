#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import VFIOCore

/// The fault file as last parsed, reused while one `stat(2)` shows the same ``FileVersion``, so the
/// simulator need not open, read and decode it at every unbind and probe.
///
/// Other processes (tests, `vfiod-scenarios`) rewrite the file at any time, by `rename(2)` or in place;
/// the cache must never hide such a change: a parse is reused only for the version it was read from,
/// and only when that version had settled (``FileVersion/isSettled(at:seconds:)``) when it was read.
final class FaultFileCache: Sendable {
    /// How long the file must have stood unchanged before a parse of it is reused.
    let settleSeconds: Int
    /// How many times the file was opened and parsed (tests check the cache was used).
    var parses: Int { parseCount.withLock { $0 } }
    private let parseCount = Mutex(0)
    private let entry = Mutex<(version: FileVersion, faults: SimulatorFaults)?>(nil)

    /// A cache reusing parses of files unchanged for `settleSeconds` (tests use 0).
    init(settleSeconds: Int = FileVersion.settleSeconds) {
        self.settleSeconds = settleSeconds
    }

    /// The faults in `file`: empty when it does not exist (or cannot be examined), `nil` when it exists
    /// but cannot be read or parsed.
    func read(_ file: String) -> SimulatorFaults? {
        guard let version = FileVersion.of(file) else { return SimulatorFaults() }
        if let cached = entry.withLock({ $0 }), cached.version == version { return cached.faults }
        return parse(file)
    }

    /// Opens, reads and parses `file`, remembering the parse when the version it read had settled.
    private func parse(_ file: String) -> SimulatorFaults? {
        let readAt = FileVersion.now()
        parseCount.withLock { $0 += 1 }
        let fd = retryingInterruptedCall { open(file, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, let bytes = Self.readAll(fd, limit: 1 << 20),
              let faults = SimulatorFaults.decode(bytes) else { return nil }
        let version = FileVersion(info)
        if version.isSettled(at: readAt, seconds: settleSeconds) {
            entry.withLock { $0 = (version, faults) }
        }
        return faults
    }

    /// Up to `limit` bytes from `fd`, to end of file; `nil` on a read error.
    private static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            // read(2) into the unfilled tail of our buffer.
            let got = bytes.withUnsafeMutableBytes { raw in
                retryingInterruptedCall { Glibc.read(fd, raw.baseAddress! + filled, limit - filled) }
            }
            if got < 0 { return nil }
            if got == 0 { break }
            filled += got
        }
        bytes.removeSubrange(filled...)
        return bytes
    }
}
