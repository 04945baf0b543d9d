import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Milestones of an operation, timed for the lab's lease timing (`lease-timing`): with
/// `VFIOD_TRACE_FILE=PATH` in its environment vfiod appends one line per milestone passed to `PATH`,
/// `OPERATION-ID PHASE UNIX-MICROSECONDS`, so that a client on the same machine can tell where the time
/// between its request and its answer went. Off by default, when a mark costs one comparison. A line
/// costs one `write(2)` to a file (no pipe, no reader to wake), so tracing barely slows what it times.
public enum Trace {
    /// The trace file, opened once for appending; -1 when tracing is off (or the file cannot be opened).
    private static let fd: Int32 = {
        guard let path = ProcessInfo.processInfo.environment["VFIOD_TRACE_FILE"], !path.isEmpty else { return -1 }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { Log.warning("VFIOD_TRACE_FILE \(path): cannot open it (errno \(errno)); no operation is traced") }
        return fd
    }()

    /// Whether milestones are written.
    public static var enabled: Bool { fd >= 0 }

    /// Appends `operation` passing `phase` at `time` (now when not given), when tracing is on.
    public static func mark(_ operation: String, _ phase: String, at time: Date? = nil) {
        guard fd >= 0 else { return }
        let microseconds = Int64(((time ?? Date()).timeIntervalSince1970 * 1e6).rounded())
        let line = Array("\(operation) \(phase) \(microseconds)\n".utf8)
        // One write(2) per line on an O_APPEND file: lines from several threads never interleave. A line
        // that cannot be written loses one timing, nothing else (the file is a diagnostic, not a record).
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
