internal import CTLS
internal import Glibc
internal import Synchronization

/// A server's TLS state (`CTLS`): the key pair served now and the ones served before it, which stay in
/// memory until the server is gone (a handshake started before a reload may still use them; each is a
/// few KB). The daemon finds it through its listening socket, registered at start.
final class TLSListener: @unchecked Sendable {
    // `pointer` is only passed to CTLS, which guards it with its own lock.
    private let pointer: OpaquePointer
    let configuration: TLSConfiguration
    /// The client CAs' PEM text, for MHD_OPTION_HTTPS_MEM_TRUST; nil when clients are not asked.
    let trustPEM: String?
    private let served = Mutex("")

    /// Reads the client CAs and loads the key pair. Throws the one line that says what is wrong.
    init(_ configuration: TLSConfiguration) throws(HTTPServerError) {
        self.configuration = configuration
        if let path = configuration.clientCAPath {
            guard let data = Self.contents(of: path) else {
                throw HTTPServerError("cannot read the TLS client CA file \(path): \(String(cString: strerror(errno)))")
            }
            let text = String(decoding: data, as: UTF8.self)
            guard text.contains("-----BEGIN CERTIFICATE-----") else {
                throw HTTPServerError("the TLS client CA file \(path) holds no PEM certificate")
            }
            trustPEM = text
        } else {
            trustPEM = nil
        }
        guard let listener = vfiod_tls_listener_new(configuration.clientCAPath == nil ? 0 : 1) else {
            throw HTTPServerError("cannot set up TLS: out of memory")
        }
        pointer = listener
        _ = try load()
    }

    deinit { vfiod_tls_listener_free(pointer) }

    /// Loads the configured certificate and key again and serves them from the next handshake on.
    /// Returns "serial …, subject …, expires …"; on failure the key pair served until now stays.
    func load() throws(HTTPServerError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        // CTLS writes at most buffer.count bytes, NUL included, into the buffer.
        let result = vfiod_tls_listener_load(pointer, configuration.certificatePath, configuration.keyPath,
                                             &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard result == 0 else { throw HTTPServerError(text) }
        served.withLock { $0 = text }
        return text
    }

    /// What the key pair served now is: "serial …, subject …, expires …".
    var summary: String { served.withLock { $0 } }

    /// Lets handshakes on the listening socket `fd` find this listener.
    func register(_ fd: Int32) throws(HTTPServerError) {
        guard vfiod_tls_register(fd, pointer) == 0 else { throw HTTPServerError("cannot set up TLS: too many TLS listeners") }
    }

    /// Forgets the listening socket `fd` (after the daemon stopped).
    func unregister(_ fd: Int32) { vfiod_tls_unregister(fd, pointer) }

    /// MHD_OPTION_HTTPS_CERT_CALLBACK's value.
    static var certificateCallback: UnsafeMutableRawPointer? { vfiod_tls_certificate_callback() }

    /// A small file's bytes (a PEM bundle), nil when it cannot be read.
    private static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while bytes.count < 1 << 24 {
            // read writes at most chunk.count bytes into chunk.
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }

    /// The subject of the verified client certificate of `connection`'s TLS session, or nil.
    static func verifiedPeerSubject(of session: UnsafeMutableRawPointer?) -> String? {
        // CTLS returns a malloc'd NUL-terminated string (or NULL) that the caller frees.
        guard let session, let subject = vfiod_tls_verified_peer_subject(session) else { return nil }
        defer { free(subject) }
        return String(cString: subject)
    }
}
