import JSONString

/// Server-Sent Events frames: `id: <cursor>\nevent: <type>\ndata: <one line of JSON>\n\n`.
public enum EventFrame {
    /// The first bytes of every stream: the reconnection delay a browser's `EventSource` uses.
    public static let preamble: [UInt8] = Array("retry: 2000\n\n".utf8)
    /// What the transport sends when the stream was quiet for a while.
    public static let heartbeat: [UInt8] = Array(": heartbeat\n\n".utf8)
    /// The last frame of every stream when vfiod shuts down (the reader resumes by its last cursor).
    public static let shutdown: [UInt8] = Array("event: shutdown\ndata: {\"reason\":\"shutdown\"}\n\n".utf8)

    /// One event's frame.
    public static func event(cursor: EventCursor, type: String, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + type.utf8.count + 64)
        bytes.append(contentsOf: "id: ".utf8)
        bytes.append(contentsOf: cursor.description.utf8)
        bytes.append(contentsOf: "\nevent: ".utf8)
        bytes.append(contentsOf: type.utf8)
        bytes.append(contentsOf: "\ndata: ".utf8)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: "\n\n".utf8)
        return bytes
    }

    /// `reset`: the reader missed events that are gone (`restarted`: vfiod restarted; `expired`: they left
    /// the ring); it lists again and goes on from `cursor`.
    public static func reset(reason: String, cursor: EventCursor) -> [UInt8] {
        event(cursor: cursor, type: EventTypes.reset, data: control(["reason": reason, "cursor": cursor.description]))
    }

    /// `overflow`: the reader fell behind; `cursor` is the last one it was sent (resume from it).
    public static func overflow(cursor: EventCursor) -> [UInt8] {
        event(cursor: cursor, type: EventTypes.overflow, data: control(["reason": "overflow", "cursor": cursor.description]))
    }

    /// A JSON object of strings, keys sorted.
    static func control(_ members: [String: String]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONString.append(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONString.append(members[key] ?? "", to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
