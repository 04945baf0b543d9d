internal import CMicroHTTPD

/// Turns an `HTTPResponse` into a libmicrohttpd response without copying the body.
enum MHDResponseFactory {
    /// Keeps a body's storage alive until libmicrohttpd has sent it.
    private final class BodyBox {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    /// A response with the handler's headers plus `X-Request-Id`, `Server`, a default `Content-Type`,
    /// and `Connection: close` when `closing`. Nil if libmicrohttpd cannot allocate it.
    static func make(_ response: HTTPResponse, requestID: String, closing: Bool) -> OpaquePointer? {
        let body = response.body
        let created: OpaquePointer?
        if let stream = response.stream {
            created = makeStream(stream)
        } else if body.isEmpty {
            created = MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT)
        } else {
            let box = Unmanaged.passRetained(BodyBox(body))
            // A native Swift array (always the case on Linux) keeps its elements in one heap object
            // that never moves; the box holds a reference to that object and nobody can mutate it
            // (the array is a `let`, and a writer elsewhere copies on write). So the base address
            // stays valid and unchanged until `releaseBody` drops the box, which libmicrohttpd calls
            // once it no longer needs the buffer. libmicrohttpd only reads through the pointer.
            let base = box.takeUnretainedValue().bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
            created = MHD_create_response_from_buffer_with_free_callback_cls(body.count, base, releaseBody, box.toOpaque())
            if created == nil { box.release() }
        }
        guard let created else { return nil }
        var hasContentType = false
        for (name, value) in response.headers {
            if asciiCaseInsensitiveEquals(name, "Content-Type") { hasContentType = true }
            // libmicrohttpd copies both strings; it refuses names it manages (Content-Length…).
            _ = MHD_add_response_header(created, name, value)
        }
        if !hasContentType {
            _ = MHD_add_response_header(created, "Content-Type", body.isEmpty && response.stream == nil
                                        ? "text/plain; charset=utf-8" : "application/octet-stream")
        }
        _ = MHD_add_response_header(created, "X-Request-Id", requestID)
        _ = MHD_add_response_header(created, "Server", "vfiod")
        if closing { _ = MHD_add_response_header(created, "Connection", "close") }
        return created
    }

    /// A response of unknown size (chunked on HTTP/1.1, close-delimited on 1.0) whose content reader is
    /// `streamRead`; the stream is retained until libmicrohttpd calls `releaseStream`.
    private static func makeStream(_ stream: ResponseStream) -> OpaquePointer? {
        let retained = Unmanaged.passRetained(stream)
        // UInt64.max is MHD_SIZE_UNKNOWN. libmicrohttpd passes `retained` to streamRead on every call and
        // to releaseStream once, when the response is destroyed; it never dereferences it itself.
        let created = MHD_create_response_from_callback(UInt64.max, 4096, streamRead, retained.toOpaque(),
                                                        releaseStream)
        if created == nil { retained.release() }
        return created
    }

    /// MHD_ContentReaderFreeCallback: libmicrohttpd is done with the buffer; `cls` is the retained box.
    private static let releaseBody: @convention(c) (UnsafeMutableRawPointer?) -> Void = { cls in
        guard let cls else { return }
        Unmanaged<BodyBox>.fromOpaque(cls).release()
    }
}
