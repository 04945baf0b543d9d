internal import CMicroHTTPD
internal import Glibc

// libmicrohttpd's callbacks. Each is a plain global function (a closure stored elsewhere crashed when a
// libmicrohttpd thread called it); `cls` is the `ServerCore`, retained by `HTTPServer` for the life of
// the daemon, and `req_cls` the `RequestState`, retained from `uriLogged` to `requestCompleted`.

/// MHD_OPTION_URI_LOG_CALLBACK: called once per request with the raw target (`/path?query`, before any
/// unescaping). Its result becomes the request's `req_cls`.
func uriLogged(_ cls: UnsafeMutableRawPointer?, _ uri: UnsafePointer<CChar>?,
               _ connection: OpaquePointer?) -> UnsafeMutableRawPointer? {
    guard let cls, let connection else { return nil }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    // `uri` is a NUL-terminated string in the connection's read buffer, valid for this call.
    let raw: [UInt8] = uri.map { Array(UnsafeRawBufferPointer(start: $0, count: strlen($0))) } ?? []
    // The socket context is the entry `connectionNotified` retained at the start; the connection holds
    // it until its "closed" notification, which comes after this request's completion.
    let entry = vfiod_mhd_socket_context(connection).map {
        Unmanaged<ConnectionEntry>.fromOpaque($0).takeUnretainedValue()
    }
    entry?.requestBegan(now: monotonicMicroseconds())
    let state = RequestState(connection: connection, rawTarget: raw, entry: entry)
    core.tracking.requestBegan()
    return Unmanaged.passRetained(state).toOpaque()
}

/// MHD_AccessHandlerCallback: called on the headers, on each body chunk, on the end of the body, and
/// once more after the connection is resumed.
func accessHandler(
    _ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ url: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?, _ version: UnsafePointer<CChar>?,
    _ uploadData: UnsafePointer<CChar>?, _ uploadDataSize: UnsafeMutablePointer<Int>?,
    _ reqCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let uploadDataSize, let stored = reqCls?.pointee else { return .NO }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    // `req_cls` holds the RequestState retained by `uriLogged`; borrowing it here is balanced by the
    // release in `requestCompleted`.
    let state = Unmanaged<RequestState>.fromOpaque(stored).takeUnretainedValue()
    let methodText = method.map { String(cString: $0) } ?? ""
    let versionText = version.map { String(cString: $0) } ?? ""
    return core.access(state, method: methodText, version: versionText, uploadData: uploadData,
                       uploadDataSize: uploadDataSize) ? .YES : .NO
}

/// MHD_NotifyConnectionCallback: a connection was accepted (admit it, keep its entry retained in the
/// socket context) or is being closed (forget it and release the entry, before libmicrohttpd closes
/// the socket).
func connectionNotified(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?,
                        _ socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                        _ code: MHD_ConnectionNotificationCode) {
    guard let cls, let connection, let socketContext else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    if code == .CONNECTION_NOTIFY_STARTED {
        let entry = core.connections.admit(fd: vfiod_mhd_connection_fd(connection),
                                           address: MHDRequestReader.remoteAddress(of: connection),
                                           now: monotonicMicroseconds())
        if entry.isReserve {
            vfiod_mhd_set_connection_timeout(connection, UInt32(max(1, core.configuration.reserveIdleSeconds)))
        }
        socketContext.pointee = Unmanaged.passRetained(entry).toOpaque()
    } else if let stored = socketContext.pointee {
        socketContext.pointee = nil
        // Takes back the reference passed at the start.
        core.connections.closed(Unmanaged<ConnectionEntry>.fromOpaque(stored).takeRetainedValue())
    }
}

/// MHD_OPTION_NOTIFY_COMPLETED: the request is over (sent, or the connection broke). Releases the state.
func requestCompleted(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?,
                      _ reqCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                      _ termination: MHD_RequestTerminationCode) {
    guard let cls, let reqCls, let stored = reqCls.pointee else { return }
    reqCls.pointee = nil
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    // Takes back the reference `uriLogged` passed to libmicrohttpd.
    let state = Unmanaged<RequestState>.fromOpaque(stored).takeRetainedValue()
    core.completed(state, ok: termination == .REQUEST_TERMINATED_COMPLETED_OK)
}

/// MHD_LogCallback: formats libmicrohttpd's message and passes it to the configured error log.
func errorLogged(_ cls: UnsafeMutableRawPointer?, _ format: UnsafePointer<CChar>?, _ arguments: CVaListPointer?) {
    guard let cls, let format, let arguments else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    var buffer = [CChar](repeating: 0, count: 1024)
    // vsnprintf writes at most buffer.count bytes including the terminating NUL.
    _ = vsnprintf(&buffer, buffer.count, format, arguments)
    let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    core.configuration.errorLog?(message.hasSuffix("\n") ? String(message.dropLast()) : message)
}
