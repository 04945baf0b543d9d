/// One event of a `text/event-stream`.
struct ServerEvent: Sendable, Equatable {
    /// The `id:` field (vfiod's cursor), or nil when the event had none.
    var id: String?
    /// The `event:` field; `message` when absent.
    var type: String
    /// The `data:` lines joined by newlines (vfiod sends one line of JSON).
    var data: String
}

/// Turns the bytes of a `text/event-stream` into events, as the HTML standard's parser does: lines end in
/// LF, CRLF or CR; `:` starts a comment (vfiod's heartbeat); a blank line dispatches the event; `retry:`
/// sets the reconnection delay. Bytes may arrive split anywhere.
struct ServerSentEventParser {
    private var pending: [UInt8] = []
    private var lastWasCR = false
    private var id: String?
    private var type: String?
    private var data: [String] = []
    private var hasData = false
    /// The most recent `retry:` in milliseconds, if the server sent one.
    private(set) var retryMilliseconds: Int?

    /// Feeds bytes; returns the events they completed, in order.
    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [ServerEvent] where Bytes.Element == UInt8 {
        var events: [ServerEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n"), lastWasCR { lastWasCR = false; continue }
            lastWasCR = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let event = line(String(decoding: pending, as: UTF8.self)) { events.append(event) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return events
    }

    private mutating func line(_ text: String) -> ServerEvent? {
        if text.isEmpty { return dispatch() }
        if text.hasPrefix(":") { return nil }
        let name: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            name = Substring(text)
            value = ""
        }
        switch name {
        case "id": id = String(value)
        case "event": type = String(value)
        case "data": data.append(String(value)); hasData = true
        case "retry": if let milliseconds = Int(value) { retryMilliseconds = milliseconds }
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerEvent? {
        defer { type = nil; data = []; hasData = false }
        guard hasData || type != nil else { return nil }
        return ServerEvent(id: id, type: type ?? "message", data: data.joined(separator: "\n"))
    }
}
