/// An RFC 9457 problem, the body of every error response (`application/problem+json`).
///
/// Rendered with the members `type` (`urn:vfiod:problem:<code>`), `title`, `status`, `detail`,
/// `instance`, `code`, `requestId`, then any `extensions`. The server fills `instance` (the request
/// path) and `requestID` when a handler left them nil.
public struct Problem: Sendable, Error {
    /// A member beyond the standard ones, with its value.
    public enum Value: Sendable {
        /// A JSON string.
        case string(String)
        /// A JSON integer.
        case int(Int)
        /// Already-encoded JSON (an array, an object, …), written verbatim: the caller vouches for it.
        case rawJSON([UInt8])
    }

    /// The HTTP status code.
    public var status: Int
    /// A stable snake_case identifier clients can switch on, e.g. `route_not_found`.
    public var code: String
    /// A short, human-readable summary that does not change between occurrences.
    public var title: String
    /// A human-readable explanation of this occurrence.
    public var detail: String
    /// The request path this problem is about; nil: the server fills in the request's path.
    public var instance: String?
    /// The request ID; nil: the server fills in the request's ID.
    public var requestID: String?
    /// Extra members in the order to render them (names must not repeat the standard ones).
    public var extensions: [(name: String, value: Value)]

    /// The URN prefix of `type`.
    public static let typePrefix = "urn:vfiod:problem:"

    /// Makes a problem.
    public init(
        status: Int, code: String, title: String, detail: String,
        instance: String? = nil, requestID: String? = nil,
        extensions: [(name: String, value: Value)] = []
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.instance = instance
        self.requestID = requestID
        self.extensions = extensions
    }

    /// The problem as `application/problem+json` bytes.
    public var jsonBytes: [UInt8] {
        var json = JSONText(capacity: 256 + detail.utf8.count)
        json.beginObject()
        json.member("type", Problem.typePrefix + code)
        json.member("title", title)
        json.member("status", status)
        json.member("detail", detail)
        if let instance { json.member("instance", instance) }
        json.member("code", code)
        if let requestID { json.member("requestId", requestID) }
        for (name, value) in extensions {
            switch value {
            case .string(let text): json.member(name, text)
            case .int(let number): json.member(name, number)
            case .rawJSON(let raw): json.member(name, rawJSON: raw)
            }
        }
        json.endObject()
        return json.bytes
    }
}
