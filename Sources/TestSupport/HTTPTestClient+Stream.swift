/// Reading a streamed (chunked, long-lived) response piece by piece, as it arrives.
extension HTTPTestClient {
    /// Sends a `GET` and reads only the response's head; read the body with `readChunk()`.
    public func openStream(path: String, headers: [(String, String)] = []) throws(HTTPTestClientError) -> TestResponse {
        var head = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try sendRaw(Array(head.utf8))
        guard fd >= 0 else { throw .closedByPeer }
        do {
            return try buffer.readHead(fd: fd)
        } catch {
            close()
            throw error
        }
    }

    /// The next chunk of the body being streamed (blocks until it arrives); nil after the last chunk.
    public func readChunk() throws(HTTPTestClientError) -> [UInt8]? {
        guard fd >= 0 else { throw .closedByPeer }
        do {
            return try buffer.readChunk(fd: fd)
        } catch {
            close()
            throw error
        }
    }

    /// Reads chunks until exactly `count` body bytes have arrived (more is a malformed response).
    public func readStream(byteCount count: Int) throws(HTTPTestClientError) -> [UInt8] {
        var received: [UInt8] = []
        while received.count < count {
            guard let chunk = try readChunk() else { throw .closedByPeer }
            received += chunk
        }
        if received.count > count {
            throw .malformedResponse("expected \(count) bytes, got \(received.count)")
        }
        return received
    }
}
