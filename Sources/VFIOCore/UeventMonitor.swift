import Workers
#if canImport(Glibc)
import Glibc
#endif
import Foundation
internal import CVFIO

/// Listens to kernel uevents (NETLINK_KOBJECT_UEVENT, multicast group 1) and reports PCI ones, and
/// `nil` when the kernel dropped some (`ENOBUFS`: the socket's buffer overflowed in a burst).
///
/// The socket is read on a dedicated `Thread`, never on Swift's cooperative pool: `poll` blocks. `stop()`
/// wakes the thread through a pipe and waits for it to finish, so no callback runs after `stop()` returns.
public final class UeventMonitor: @unchecked Sendable {
    // @unchecked: `state` is guarded by `lock`; the thread only reads the fds it was started with.
    private let handler: @Sendable (UeventMessage?) -> Void
    private let lock = NSLock()
    private var state: (socket: Int32, wakeRead: Int32, wakeWrite: Int32, done: DispatchSemaphore)?

    /// Creates a monitor that calls `handler` (on its own thread) for each PCI uevent, and with `nil`
    /// when events were lost.
    public init(handler: @escaping @Sendable (UeventMessage?) -> Void) {
        self.handler = handler
    }

    deinit { stop() }

    /// Whether the reading thread is running.
    public var isRunning: Bool { lock.withLock { state != nil } }

    /// Opens the netlink socket and starts the thread. Throws ``KernelError`` when the socket cannot be
    /// opened or bound (no permission, a container without the netlink family).
    public func start() throws {
        try lock.withLock {
            guard state == nil else { return }
            let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), CVFIO_NETLINK_KOBJECT_UEVENT)
            guard fd >= 0 else { throw KernelError(call: "socket", path: "NETLINK_KOBJECT_UEVENT", errno: errno) }
            var address = sockaddr_nl()
            address.nl_family = __kernel_sa_family_t(AF_NETLINK)
            address.nl_pid = 0  // let the kernel pick a unique port id
            address.nl_groups = 1  // the kernel's uevent broadcast group
            // bind(2) takes a generic sockaddr pointer; sockaddr_nl is the netlink layout the kernel expects.
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
            guard bound == 0 else {
                let code = errno
                close(fd)
                throw KernelError(call: "bind", path: "NETLINK_KOBJECT_UEVENT", errno: code)
            }
            var pipeEnds: [Int32] = [0, 0]
            guard pipe(&pipeEnds) == 0 else {
                let code = errno
                close(fd)
                throw KernelError(call: "pipe", errno: code)
            }
            _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
            let done = DispatchSemaphore(value: 0)
            state = (fd, pipeEnds[0], pipeEnds[1], done)
            let handler = self.handler
            let wakeRead = pipeEnds[0]
            do throws(ThreadStartError) {
                try DedicatedThread.start(name: "vfiod-uevent") {
                    Self.run(socket: fd, wake: wakeRead, handler: handler)
                    done.signal()
                }
            } catch {
                state = nil
                close(fd)
                close(pipeEnds[0])
                close(pipeEnds[1])
                throw KernelError(call: "pthread_create", errno: error.errno)
            }
        }
    }

    /// Wakes the thread, waits for it to end and closes the socket. Safe to call more than once.
    public func stop() {
        guard let current = lock.withLock({ () -> (socket: Int32, wakeRead: Int32, wakeWrite: Int32, done: DispatchSemaphore)? in
            defer { state = nil }
            return state
        }) else { return }
        var byte: UInt8 = 1
        _ = retryingEINTR { write(current.wakeWrite, &byte, 1) }
        current.done.wait()
        close(current.socket)
        close(current.wakeRead)
        close(current.wakeWrite)
    }

    /// The thread body: poll the socket and the wake pipe until the pipe becomes readable.
    private static func run(socket fd: Int32, wake: Int32, handler: @Sendable (UeventMessage?) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            // poll(2) on two descriptors we own; -1 waits without a timeout.
            let ready = retryingEINTR { poll(&fds, 2, -1) }
            if ready < 0 || fds[1].revents != 0 { return }
            guard fds[0].revents & Int16(POLLIN) != 0 else {
                if fds[0].revents != 0 { return }  // POLLERR/POLLHUP on the socket: give up
                continue
            }
            // recv(2) one datagram into our buffer; MSG_DONTWAIT so a spurious wake-up cannot block.
            let got = buffer.withUnsafeMutableBytes { raw in
                retryingEINTR { recv(fd, raw.baseAddress!, raw.count, Int32(MSG_DONTWAIT)) }
            }
            if got < 0 && errno == ENOBUFS {
                handler(nil)  // the kernel dropped events for this socket: whatever they said is unknown
                continue
            }
            if got <= 0 { continue }
            if let message = UeventMessage(Array(buffer[0..<got])), message.subsystem == "pci" {
                handler(message)
            }
        }
    }
}
