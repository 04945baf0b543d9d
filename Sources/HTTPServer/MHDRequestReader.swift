internal import CMicroHTTPD
internal import Glibc

/// Reads request facts out of a libmicrohttpd connection.
enum MHDRequestReader {
    /// The request headers in arrival order.
    static func headers(of connection: OpaquePointer) -> [(name: String, value: String)] {
        var collected: [(name: String, value: String)] = []
        withUnsafeMutablePointer(to: &collected) { pointer in
            // The iterator runs synchronously inside MHD_get_connection_values_n, so the pointer to
            // `collected` is valid for every call.
            _ = MHD_get_connection_values_n(connection, .HEADER_KIND, collectHeader, UnsafeMutableRawPointer(pointer))
        }
        return collected
    }

    /// The peer's IP address as text, empty when libmicrohttpd does not know it.
    static func remoteAddress(of connection: OpaquePointer) -> String {
        // libmicrohttpd returns the sockaddr it got from accept(); it lives as long as the connection.
        guard let address = vfiod_mhd_client_address(connection) else { return "" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            // sa_family AF_INET: the storage is a sockaddr_in.
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var raw = ipv4.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            }
        case AF_INET6:
            // sa_family AF_INET6: the storage is a sockaddr_in6.
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                var raw = ipv6.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            }
        default:
            return ""
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// MHD_KeyValueIteratorN: appends one header to the array `cls` points to. libmicrohttpd passes the
/// key and value with their lengths; both stay valid for the call.
private func collectHeader(
    _ cls: UnsafeMutableRawPointer?, _ kind: MHD_ValueKind,
    _ key: UnsafePointer<CChar>?, _ keySize: Int,
    _ value: UnsafePointer<CChar>?, _ valueSize: Int
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let headers = cls.assumingMemoryBound(to: [(name: String, value: String)].self)
    let name = key.withMemoryRebound(to: UInt8.self, capacity: keySize) {
        String(decoding: UnsafeBufferPointer(start: $0, count: keySize), as: UTF8.self)
    }
    let text = value.map { value in
        value.withMemoryRebound(to: UInt8.self, capacity: valueSize) {
            String(decoding: UnsafeBufferPointer(start: $0, count: valueSize), as: UTF8.self)
        }
    } ?? ""
    headers.pointee.append((name: name, value: text))
    return .YES
}
