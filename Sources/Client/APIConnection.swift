import Foundation

/// The client's side of the vfiod API: requests with the token, problems turned into ``ClientError``.
struct APIConnection: Sendable {
    let settings: ClientSettings
    let transport: CurlTransport

    init(settings: ClientSettings) {
        self.settings = settings
        transport = CurlTransport(caCertificates: settings.caCertificates)
    }

    /// The full URL of `path` (which starts with `/`).
    func url(_ path: String) -> String { settings.server + path }

    /// The Authorization header, when there is a token.
    var authorization: [String] { settings.token.map { ["Authorization: Bearer \($0)"] } ?? [] }

    /// Sends a request; a 4xx or 5xx answer throws `.refused` with the problem's code, title and detail.
    func send(_ method: String, _ path: String, json: [String: Any]? = nil, headers: [String] = [],
              timeoutSeconds: Int = 90) throws(ClientError) -> HTTPReply {
        var call = HTTPCall(method: method, url: url(path), headers: authorization + headers, timeoutSeconds: timeoutSeconds)
        if let json {
            guard let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) else {
                throw .usage("cannot encode the request body")
            }
            call.body = Array(data)
            call.headers.append("Content-Type: application/json")
        } else if method == "POST" {
            call.body = []
        }
        let reply = try transport.perform(call)
        try Self.check(reply)
        return reply
    }

    /// A GET whose answer is a JSON object: the reply (for `-o json`) and the object.
    func get(_ path: String, timeoutSeconds: Int = 90) throws(ClientError) -> (reply: HTTPReply, object: JSONObject) {
        let reply = try send("GET", path, timeoutSeconds: timeoutSeconds)
        return (reply, try JSONObject(parsing: reply.body))
    }

    /// Every item of a list route, following `nextPageToken`, and the body to print for `-o json`: the
    /// server's own bytes when one page held everything, else the same shape with every page's items.
    func list(_ path: String) throws(ClientError) -> (body: [UInt8], items: [JSONObject]) {
        var items: [Any] = []
        var first: [UInt8]?
        var token: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let page = try get(path + (token.map { "\(separator)pageToken=\(Self.escape($0))" } ?? ""))
            if first == nil { first = page.reply.body }
            items += (page.object.fields["items"] as? [Any]) ?? []
            token = page.object.string("nextPageToken")
        } while token != nil
        let objects = items.compactMap { ($0 as? [String: Any]).map(JSONObject.init) }
        if let first, (try? JSONObject(parsing: first))?.string("nextPageToken") == nil { return (first, objects) }
        let merged: [String: Any] = ["items": items, "nextPageToken": NSNull()]
        let data = (try? JSONSerialization.data(withJSONObject: merged, options: [.withoutEscapingSlashes])) ?? Data()
        return (Array(data), objects)
    }

    /// Throws `.refused` for a 4xx or 5xx reply.
    static func check(_ reply: HTTPReply) throws(ClientError) {
        guard reply.status >= 400 else { return }
        let problem = try? JSONObject(parsing: reply.body)
        throw .refused(status: reply.status, code: problem?.string("code") ?? "http_\(reply.status)",
                       title: problem?.string("title") ?? "HTTP \(reply.status)",
                       detail: problem?.string("detail") ?? (problem == nil && !reply.body.isEmpty ? String(reply.text.prefix(300)) : nil))
    }

    /// `text` escaped for a query value or a path segment.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A query string from the pairs whose value is set (`?a=1&b=2`, or empty).
    static func query(_ pairs: [(String, String?)]) -> String {
        let set = pairs.compactMap { name, value in value.map { "\(name)=\(escape($0))" } }
        return set.isEmpty ? "" : "?" + set.joined(separator: "&")
    }
}
