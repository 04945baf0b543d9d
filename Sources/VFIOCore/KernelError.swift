#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the `errno` it set.
public struct KernelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C call that failed (`open`, `readlink`, `socket` …).
    public let call: String
    /// The path or object it was called on; empty when there is none.
    public let path: String
    /// The `errno` value.
    public let errno: Int32

    /// Creates an error for `call` on `path` with `errno`.
    public init(call: String, path: String = "", errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// `open(/sys/…/vendor): No such file or directory (errno 2)`.
    public var description: String {
        let reason = String(cString: strerror(errno))
        let target = path.isEmpty ? "" : "(\(path))"
        return "\(call)\(target): \(reason) (errno \(errno))"
    }
}

/// Runs a system call until it stops failing with `EINTR`: the one place vfiod retries interrupted calls.
///
/// `body` returns the call's result; a negative result means failure with `errno` set (the C convention).
@inline(__always)
func retryingEINTR<Result: BinaryInteger>(_ body: () -> Result) -> Result {
    while true {
        let result = body()
        if result < 0 && errno == EINTR { continue }
        return result
    }
}
