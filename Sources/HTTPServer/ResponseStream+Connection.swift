internal import CMicroHTTPD

/// The server's side of a stream: libmicrohttpd's content reader, and the ends the server decides.
extension ResponseStream {
    /// The response is being queued on `connection` (its libmicrohttpd thread, in the access handler).
    func attach(_ connection: OpaquePointer) {
        state.withLock { state in
            if case .waiting = state.link, state.ended == nil {
                state.link = .active(StreamConnection(pointer: connection))
            }
        }
    }

    /// The content reader: up to `max` queued bytes into `destination`; 0 after suspending the
    /// connection when nothing is queued; `MHD_CONTENT_READER_END_OF_STREAM` once finished and drained;
    /// `MHD_CONTENT_READER_END_WITH_ERROR` when the client is gone or the stream already ended.
    func read(into destination: UnsafeMutableRawPointer, max: Int) -> Int {
        state.withLock { state in
            if state.aborting || state.ended != nil { return endWithError }
            let taken = state.take(into: destination, max: max, now: monotonicMicroseconds())
            if taken > 0 { return taken }
            if state.finishing { return endOfStream }
            state.suspend(lending: destination, max: max)
            return 0
        }
    }

    /// The server is shutting down: queues the farewell (past the capacity) and finishes.
    func serverEnding() {
        state.withLock { state in
            if state.finishing || state.ended != nil { return }
            if let farewell { state.append(farewell, now: monotonicMicroseconds()) }
            state.finishing = true
            state.serverReason = .shutdown
            state.wake()
        }
    }

    /// Queues the heartbeat if nothing was queued since `before` (monotonic µs). A full queue gets
    /// none: the bytes already waiting keep the client busy enough.
    func heartbeatIfIdle(since before: Int64, now: Int64) {
        guard let heartbeat else { return }
        state.withLock { state in
            guard !state.finishing, state.ended == nil, state.lastQueued <= before,
                  state.queuedBytes + heartbeat.count <= capacityBytes else { return }
            state.append(heartbeat, now: now)
            state.wake()
        }
    }

    /// Bytes handed to libmicrohttpd so far.
    var bytesTaken: Int { state.withLock { $0.taken } }

    /// True while the reader has the connection suspended (nothing queued).
    var isSuspended: Bool {
        state.withLock { state in
            if case .suspended = state.link { return true }
            return false
        }
    }

    /// The client is gone: resumes a suspended connection so that the reader fails the response and
    /// libmicrohttpd closes it (a suspended connection is otherwise never noticed to be dead).
    func abortIfSuspended() {
        state.withLock { state in
            guard case .suspended = state.link else { return }
            state.aborting = true
            state.wake()
        }
    }

    /// True (once) when bytes have waited since `before` (monotonic µs) without libmicrohttpd taking
    /// any: the client stopped reading. The stream is then marked aborting; the caller cuts the socket.
    func claimStall(since before: Int64) -> Bool {
        state.withLock { state in
            guard state.queuedBytes > 0, state.lastProgress <= before, !state.aborting, state.ended == nil
            else { return false }
            state.aborting = true
            return true
        }
    }

    /// libmicrohttpd completed the request (`ok`: the last chunk went out): the stream ends, for the
    /// server's reason if it chose one, else finished or client gone (shutdown while `draining`).
    func connectionEnded(ok: Bool, draining: Bool) {
        let chosen = state.withLock { state -> StreamEndReason in
            state.link = .gone
            if let reason = state.serverReason { return reason }
            if ok && state.finishing { return .finished }
            return draining ? .shutdown : .clientGone
        }
        end(chosen)
    }
}

private let endOfStream = -1  // MHD_CONTENT_READER_END_OF_STREAM
private let endWithError = -2  // MHD_CONTENT_READER_END_WITH_ERROR

/// MHD_ContentReaderCallback of a stream's response. `cls` is the `ResponseStream` retained by
/// `MHDResponseFactory` until `releaseStream`; libmicrohttpd calls this on the connection's thread with
/// the response's mutex held, and `buffer` has room for `max` bytes.
func streamRead(_ cls: UnsafeMutableRawPointer?, _ position: UInt64, _ buffer: UnsafeMutablePointer<CChar>?,
                _ max: Int) -> Int {
    guard let cls, let buffer else { return endWithError }
    // `cls` is the stream retained by makeStream and released only by releaseStream, after the last read.
    let stream = Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
    // `buffer` is libmicrohttpd's write buffer with room for `max` bytes, valid for this call only.
    return stream.read(into: UnsafeMutableRawPointer(buffer), max: max)
}

/// MHD_ContentReaderFreeCallback of a stream's response: libmicrohttpd is done with it; takes back
/// the reference `MHDResponseFactory` passed.
func releaseStream(_ cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    // libmicrohttpd calls this once per response, after its last use of `cls`: the reference ends here.
    Unmanaged<ResponseStream>.fromOpaque(cls).release()
}
