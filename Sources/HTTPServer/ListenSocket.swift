internal import Glibc

/// Opens the listening socket the server hands to libmicrohttpd (MHD_OPTION_LISTEN_SOCKET), so that a
/// failure can say exactly why (`address already in use`), which MHD_start_daemon cannot.
enum ListenSocket {
    /// A bound, listening, non-blocking TCP socket on `host`:`port` (an IPv4 or IPv6 literal).
    static func open(host: String, port: UInt16) throws(HTTPServerError) -> Int32 {
        let label = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var ipv4 = sockaddr_in()
        var ipv6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &ipv4.sin_addr) == 1 {
            family = AF_INET
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = port.bigEndian
        } else if inet_pton(AF_INET6, host, &ipv6.sin6_addr) == 1 {
            family = AF_INET6
            ipv6.sin6_family = sa_family_t(AF_INET6)
            ipv6.sin6_port = port.bigEndian
        } else {
            throw HTTPServerError("cannot listen on \(label): not an IPv4 or IPv6 address literal")
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("cannot listen on \(label)") }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if family == AF_INET {
            // bind reads a sockaddr_in of the given length.
            bound = withUnsafePointer(to: &ipv4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            // bind reads a sockaddr_in6 of the given length.
            bound = withUnsafePointer(to: &ipv6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard bound == 0, listen(fd, SOMAXCONN) == 0 else {
            let error = failure("cannot listen on \(label)")
            close(fd)
            throw error
        }
        return fd
    }

    /// An error for the current errno, e.g. `…: address already in use`.
    private static func failure(_ prefix: String) -> HTTPServerError {
        let code = errno
        let reason = String(cString: strerror(code))
        return HTTPServerError("\(prefix): \(reason.prefix(1).lowercased() + reason.dropFirst())", errno: code)
    }

    /// Puts an unconnected socket in place of the listening socket `fd` (same fd number, close-on-exec):
    /// the listening socket's last reference goes, epoll forgets it by itself, and the kernel refuses new
    /// connections to the port at once.
    static func replaceWithStandIn(_ fd: Int32) {
        let standIn = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard standIn >= 0 else { return }
        if dup2(standIn, fd) >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        close(standIn)
    }
}
