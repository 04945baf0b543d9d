internal import CCurl
import Foundation

/// HTTP through libcurl's easy interface: http and https, one call at a time, blocking its thread
/// (the client runs on a thread of its own). A stream's bytes are handed to a reader as they arrive.
struct CurlTransport: Sendable {
    /// CA certificates for https (`--cacert`), or nil for the system's.
    let caCertificates: String?

    /// Initialises libcurl once per process, before any thread uses it (curl_global_init is not thread-safe).
    static func initialise() {
        _ = ccurl_global_init()
    }

    /// Sends `call` and returns the response. With `reader`, a 2xx response's body is handed to it chunk by
    /// chunk instead of being kept; it returns false to end the transfer (which is then not an error).
    /// `tick`, called about once a second while a stream is open, also ends it by returning false.
    func perform(_ call: HTTPCall, reader: ((ArraySlice<UInt8>) -> Bool)? = nil,
                 tick: (() -> Bool)? = nil) throws(ClientError) -> HTTPReply {
        guard let handle = curl_easy_init() else { throw .unreachable("libcurl could not start a transfer") }
        defer { curl_easy_cleanup(handle) }
        let context = TransferContext(handle: handle, reader: reader, tick: tick)
        // libcurl keeps the header list's pointer until the transfer ends: freed after curl_easy_perform.
        var list: UnsafeMutablePointer<curl_slist>?
        for line in call.headers + ["Expect:"] { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        configure(handle, call, list: list)
        let code = withExtendedLifetime(context) { () -> CURLcode in
            // The context outlives the transfer (withExtendedLifetime): the callbacks' user data stays valid.
            let user = Unmanaged.passUnretained(context).toOpaque()
            _ = ccurl_set_pointer(handle, CURLOPT_WRITEDATA, user)
            _ = ccurl_set_pointer(handle, CURLOPT_HEADERDATA, user)
            _ = ccurl_set_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWrite)
            _ = ccurl_set_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeader)
            if tick != nil {
                _ = ccurl_set_pointer(handle, CURLOPT_XFERINFODATA, user)
                _ = ccurl_set_progress_callback(handle, curlProgress)
                _ = ccurl_set_long(handle, CURLOPT_NOPROGRESS, 0)
            }
            return curl_easy_perform(handle)
        }
        let stopped = context.stoppedByReader && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK)
        if code != CURLE_OK && !stopped {
            if context.status > 0 && reader != nil && context.streaming {
                // The stream broke after it began: the reader decides whether to resume.
                throw .unreachable("stream ended: " + String(cString: curl_easy_strerror(code)))
            }
            throw .unreachable(call.url + ": " + String(cString: curl_easy_strerror(code)))
        }
        return HTTPReply(status: context.status, headers: context.headers, body: context.body)
    }

    private func configure(_ handle: UnsafeMutableRawPointer, _ call: HTTPCall, list: UnsafeMutablePointer<curl_slist>?) {
        _ = ccurl_set_string(handle, CURLOPT_URL, call.url)
        _ = ccurl_set_string(handle, CURLOPT_CUSTOMREQUEST, call.method)
        _ = ccurl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_set_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
        _ = ccurl_set_string(handle, CURLOPT_USERAGENT, "vfiod-cli")
        if let timeout = call.timeoutSeconds {
            _ = ccurl_set_long(handle, CURLOPT_TIMEOUT, timeout)
        } else {
            // A stream sends a heartbeat every 15 s: a minute of silence is a dead connection.
            _ = ccurl_set_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = ccurl_set_long(handle, CURLOPT_LOW_SPEED_TIME, 60)
        }
        if let caCertificates { _ = ccurl_set_string(handle, CURLOPT_CAINFO, caCertificates) }
        // The slist stays alive until after curl_easy_perform (freed by the caller's defer).
        _ = ccurl_set_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        if call.method == "HEAD" { _ = ccurl_set_long(handle, CURLOPT_NOBODY, 1) }
        if let body = call.body {
            _ = ccurl_set_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            // CURLOPT_COPYPOSTFIELDS copies the bytes during the call, so the array need not outlive it.
            if body.isEmpty {
                _ = ccurl_set_string(handle, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                var bytes = body
                bytes.withUnsafeMutableBytes { buffer in _ = ccurl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, buffer.baseAddress) }
            }
        }
    }
}

/// What one transfer has received so far; reached from libcurl's callbacks through their user pointer.
private final class TransferContext {
    let handle: UnsafeMutableRawPointer
    let reader: ((ArraySlice<UInt8>) -> Bool)?
    let tick: (() -> Bool)?
    var status = 0
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var streaming = false
    var stoppedByReader = false

    init(handle: UnsafeMutableRawPointer, reader: ((ArraySlice<UInt8>) -> Bool)?, tick: (() -> Bool)?) {
        self.handle = handle
        self.reader = reader
        self.tick = tick
    }

    /// Returns false to abort the transfer; ticks only once a stream's body began.
    func progress() -> Bool {
        guard streaming, let tick else { return true }
        if tick() { return true }
        stoppedByReader = true
        return false
    }

    func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new response begins (after a 100 Continue, say): only the final one's fields count.
            headers.removeAll()
            status = trimmed.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        } else if let colon = trimmed.firstIndex(of: ":") {
            headers.append((String(trimmed[..<colon]), trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
    }

    /// Returns false to abort the transfer.
    func data(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let reader, (200..<300).contains(status) else {
            body.append(contentsOf: bytes)
            return true
        }
        streaming = true
        if reader(bytes) { return true }
        stoppedByReader = true
        return false
    }
}

// libcurl's write callback: `data` points at `size * count` bytes valid only during the call; `user` is the
// TransferContext passed as CURLOPT_WRITEDATA. Returning fewer bytes than given aborts the transfer.
private let curlWrite: ccurl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    return context.data(Array(bytes)[...]) ? length : 0
}

// libcurl's header callback: one header line (with its CRLF) per call, valid only during the call; `user`
// is the TransferContext passed as CURLOPT_HEADERDATA.
private let curlHeader: ccurl_data_callback = { data, size, count, user in
    guard let data, let user else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(user).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    context.header(String(decoding: bytes, as: UTF8.self))
    return length
}

// libcurl's progress callback (CURLOPT_XFERINFOFUNCTION), about once a second and after each chunk; `user`
// is the TransferContext passed as CURLOPT_XFERINFODATA. Non-zero aborts the transfer.
private let curlProgress: ccurl_progress_callback = { user, _, _, _, _ in
    guard let user else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(user).takeUnretainedValue()
    return context.progress() ? 0 : 1
}
