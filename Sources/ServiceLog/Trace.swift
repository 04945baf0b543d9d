import Foundation

/// Milestones of an operation, timed for the lab's lease timing (`lease-timing`): with
/// `VFIOD_TRACE=operations` in its environment vfiod writes one log line per milestone passed,
/// `vfiod: trace OPERATION-ID PHASE UNIX-SECONDS` (microseconds), so a client on the same machine can
/// tell where the time between its request and its answer went. Off by default, when a mark costs one
/// check of a flag.
public enum Trace {
    /// Whether milestones are written (read once, from the environment).
    public static let enabled = ProcessInfo.processInfo.environment["VFIOD_TRACE"] == "operations"

    /// Writes `operation` passing `phase` at `time` (now when not given), when tracing is on.
    public static func mark(_ operation: String, _ phase: String, at time: Date? = nil) {
        guard enabled else { return }
        let seconds = (time ?? Date()).timeIntervalSince1970
        Log.info("trace \(operation) \(phase) \(String(format: "%.6f", seconds))")
    }
}
