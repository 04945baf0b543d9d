import Foundation
internal import CVFIO
import Synchronization
import Workers
#if canImport(Glibc)
import Glibc
#endif

/// The holder socket's listener: a Unix stream socket (mode 0666: who may fetch what is decided per
/// request, from `SO_PEERCRED`) served by one dedicated thread that polls every connection, never by
/// Swift's cooperative pool. Each connection may send one line; the thread hands it, with the peer's
/// credentials, to `handler` and stops watching the connection. A line over ``Limits/lineBytes``, or no
/// whole line within ``Limits/silenceSeconds`` of connecting, is handed over as a refusal instead. A slow
/// client costs one entry in the poll set, never a thread.
///
/// It knows nothing of what the lines mean: that is the handler's (which must not block: it runs on the
/// poll thread).
public final class HolderSocket: Sendable {
    /// What a connection is handed over for.
    public enum Event: Sendable {
        /// A line (without its newline).
        case line([UInt8])
        /// More than ``Limits/lineBytes`` without a newline.
        case lineTooLong
        /// No whole line within ``Limits/silenceSeconds``.
        case silent
        /// ``Limits/connections`` are open already.
        case tooManyConnections
    }

    /// The bounds that keep one client from costing others.
    public struct Limits: Sendable {
        /// The longest request line, newline included.
        public var lineBytes = 4096
        /// How long a connection may take to send its line.
        public var silenceSeconds = 5.0
        /// Connections being read at once; more are answered `tooManyConnections` at once.
        public var connections = 1024
        /// The defaults.
        public init() {}
    }

    /// The socket's path.
    public let path: String
    private let limits: Limits
    private let handler: @Sendable (HolderConnection, Event) -> Void
    private let state = Mutex<(listen: Int32, wake: Int32)>((-1, -1))

    /// A listener for `path`; nothing happens until ``start()``.
    public init(path: String, limits: Limits = Limits(), handler: @escaping @Sendable (HolderConnection, Event) -> Void) {
        self.path = path
        self.limits = limits
        self.handler = handler
    }

    /// Binds and listens (replacing a stale socket file nobody listens on; refusing one somebody does, or
    /// a path that is not a socket), makes the file mode 0666, and starts the poll thread.
    public func start() throws(HolderSocketError) {
        let listening = try UnixListener.bind(path: path)
        var pipe: [Int32] = [-1, -1]
        // pipe2(2) writes the two new fds into `pipe` (two Int32s) during the call.
        guard cvfio_pipe_nonblocking(&pipe) == 0 else {
            let error = HolderSocketError(call: "pipe2", path: path, errno: errno)
            Glibc.close(listening)
            throw error
        }
        state.withLock { $0 = (listening, pipe[1]) }
        let loop = HolderPollLoop(listen: listening, wake: pipe[0], limits: limits, handler: handler)
        do {
            try DedicatedThread.start(name: "vfiod-holder") { loop.run() }
        } catch {
            state.withLock { $0 = (-1, -1) }
            unlink(path)
            for fd in [listening, pipe[0], pipe[1]] { Glibc.close(fd) }
            throw HolderSocketError(call: "pthread_create", path: path, errno: error.errno)
        }
    }

    /// Removes the socket file and stops the thread, which closes the listener and every connection it
    /// was still reading (answers already handed to the broker are the broker's).
    public func stop() {
        state.withLock { fds in
            guard fds.listen >= 0 else { return }
            unlink(path)
            var byte: UInt8 = 1
            // write(2) copies the one byte during the call; the loop wakes on its end of the pipe.
            _ = write(fds.wake, &byte, 1)
            Glibc.close(fds.wake)
            fds = (-1, -1)
        }
    }
}

/// Why the holder socket could not be served: the call, the path and the errno, as one line.
public struct HolderSocketError: Error, Sendable, CustomStringConvertible {
    /// The failing call (`bind`, `listen` …), or `in-use`, `not-a-socket`.
    public let call: String
    /// The socket's path.
    public let path: String
    /// The errno (0 for `in-use`, `not-a-socket`).
    public let errno: Int32

    /// The one line `vfiod` prints.
    public var description: String {
        switch call {
        case "in-use": "holder socket \(path): another process listens on it"
        case "not-a-socket": "holder socket \(path): the path exists and is not a socket"
        case "path-too-long": "holder socket \(path): the file name is longer than a Unix socket address allows"
        default: "holder socket \(path): \(call): \(String(cString: strerror(errno)))"
        }
    }
}
