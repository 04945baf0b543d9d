internal import Glibc

/// A response read by `HTTPTestClient`.
public struct TestResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The headers in order, as sent.
    public var headers: [(name: String, value: String)]
    /// The body (de-chunked when the server used chunked encoding).
    public var body: [UInt8]

    /// The first header called `name`, compared without regard to ASCII case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why an `HTTPTestClient` call failed.
public enum HTTPTestClientError: Error, Sendable, Equatable {
    /// connect() failed with this errno (ECONNREFUSED: nobody listens).
    case connectFailed(errno: Int32)
    /// send() or recv() failed with this errno (EAGAIN: the receive timeout passed).
    case ioFailed(errno: Int32)
    /// The server closed the connection before a whole response arrived.
    case closedByPeer
    /// The response could not be parsed.
    case malformedResponse(String)
}

/// A minimal blocking HTTP/1.1 client over POSIX sockets, for tests and benchmarks.
///
/// One TCP connection, kept alive between requests and reopened when the server closed it. Not
/// thread-safe: use one client per thread. Every call blocks: from async code run it on a dedicated
/// thread (`runOnDedicatedThread`), never on Swift's cooperative pool.
public final class HTTPTestClient {
    /// The server's address literal.
    public let host: String
    /// The server's port.
    public let port: UInt16
    /// Seconds a receive may wait before failing with `ioFailed(EAGAIN)`: a guard against hangs.
    public let receiveTimeoutSeconds: Int
    var fd: Int32 = -1
    var buffer = SocketReader()

    /// A client for `host`:`port`; it connects on first use.
    public init(host: String = "127.0.0.1", port: UInt16, receiveTimeoutSeconds: Int = 30) {
        self.host = host
        self.port = port
        self.receiveTimeoutSeconds = receiveTimeoutSeconds
    }

    deinit { close() }

    /// How many TCP connections this client has opened (1 after any number of kept-alive requests).
    public private(set) var connectionsOpened = 0

    /// True while a connection is open.
    public var isConnected: Bool { fd >= 0 }

    /// Opens the connection now (requests do it on demand).
    public func connect() throws(HTTPTestClientError) {
        if fd >= 0 { return }
        fd = try SocketReader.connect(host: host, port: port, timeoutSeconds: receiveTimeoutSeconds)
        connectionsOpened += 1
        buffer = SocketReader()
    }

    /// Closes the connection.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Sends one request and reads its response. Adds `Host` and, with a body, `Content-Length`.
    public func request(method: String = "GET", path: String, headers: [(String, String)] = [],
                        body: [UInt8] = []) throws(HTTPTestClientError) -> TestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendRaw(Array(head.utf8) + body)
        return try readResponse(requestMethod: method)
    }

    /// Sends bytes exactly as given (malformed requests, partial bodies, chunked uploads).
    public func sendRaw(_ bytes: [UInt8]) throws(HTTPTestClientError) {
        try connect()
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close()
                throw .ioFailed(errno: code)
            }
            sent += result
        }
    }

    /// Reads one response. `requestMethod` matters for `HEAD` (no body follows).
    /// Closes the connection when the server said `Connection: close`.
    public func readResponse(requestMethod: String = "GET") throws(HTTPTestClientError) -> TestResponse {
        guard fd >= 0 else { throw .closedByPeer }
        do {
            let response = try buffer.readResponse(fd: fd, headRequest: requestMethod == "HEAD")
            if response.header("Connection")?.lowercased() == "close" { close() }
            return response
        } catch {
            close()
            throw error
        }
    }

    /// Shuts down the sending side (the server sees the end of the request stream); reading goes on.
    public func shutdownSending() {
        if fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// True when a response (or the end of the connection) can be read within `milliseconds`; for
    /// pacing a client that sends slowly while watching for an early answer.
    public func waitReadable(milliseconds: Int32) -> Bool {
        guard fd >= 0 else { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Reads until the server closes the connection; returns what arrived (for checking that a server
    /// drops a connection, or for unparsed replies).
    public func readUntilClosed() throws(HTTPTestClientError) -> [UInt8] {
        guard fd >= 0 else { return [] }
        defer { close() }
        return try buffer.readToEnd(fd: fd)
    }
}
