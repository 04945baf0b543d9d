/// One HTTP response as the client received it.
struct HTTPReply: Sendable {
    /// The status code.
    var status: Int
    /// The header fields of the final response, in order, names as sent.
    var headers: [(name: String, value: String)]
    /// The body (empty for a stream, whose bytes went to the stream's reader).
    var body: [UInt8]

    /// The first value of the header `name`, compared without regard to case.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// One request the client sends.
struct HTTPCall: Sendable {
    /// GET, POST, DELETE.
    var method: String
    /// The whole URL.
    var url: String
    /// Header lines (`Name: value`).
    var headers: [String] = []
    /// The body, if any.
    var body: [UInt8]? = nil
    /// The most seconds the whole exchange may take; nil for a stream, which may last for ever.
    var timeoutSeconds: Int? = 90
}
