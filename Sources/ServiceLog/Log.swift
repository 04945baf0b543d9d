import Foundation

/// The service's one log: a line per message on standard error (systemd's journal keeps it), with the
/// level after the program's name: `vfiod: warning: …`. Every layer writes through it, so a failure that
/// is not an API answer still reaches the operator.
public enum Log {
    /// Something an operator should look at, which vfiod handled or will retry.
    public static func warning(_ message: String) {
        write("warning: " + message)
    }

    /// Something vfiod could not do and did not recover from by itself.
    public static func error(_ message: String) {
        write("error: " + message)
    }

    /// A service event worth a line (start, stop, recovery).
    public static func info(_ message: String) {
        write(message)
    }

    private static func write(_ line: String) {
        // One write(2) per line, so lines from threads do not interleave.
        FileHandle.standardError.write(Data("vfiod: \(line)\n".utf8))
    }
}
