/// A parsed route pattern such as `/v1/devices/{address}/reset`.
struct RoutePattern: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The pattern as written.
    let text: String
    let segments: [Segment]

    /// Parses a pattern; it must start with `/`. Literal segments are compared with decoded path segments;
    /// a trailing slash (`/ui/`) is a last, empty literal, as `RequestTarget.pathSegments` reads it.
    init(_ text: String) {
        precondition(text.hasPrefix("/"), "route pattern must start with '/': \(text)")
        self.text = text
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        segments = parts.enumerated().compactMap { position, part in
            if part.isEmpty { return position == parts.count - 1 && parts.count > 1 ? .literal("") : nil }
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
    }

    /// True when `path` (decoded segments) matches; allocates nothing.
    func matches(_ path: [String]) -> Bool {
        guard path.count == segments.count else { return false }
        for index in segments.indices {
            if case .literal(let literal) = segments[index], literal != path[index] { return false }
        }
        return true
    }

    /// The parameters of a `path` that `matches`.
    func parameters(_ path: [String]) -> [String: String] {
        var parameters: [String: String] = [:]
        for (segment, value) in zip(segments, path) {
            if case .parameter(let name) = segment { parameters[name] = value }
        }
        return parameters
    }

    /// True when, at the first position where the two differ in kind, this one has the literal.
    func isMoreSpecific(than other: RoutePattern) -> Bool {
        for (mine, theirs) in zip(segments, other.segments) {
            switch (mine, theirs) {
            case (.literal, .parameter): return true
            case (.parameter, .literal): return false
            default: continue
            }
        }
        return false
    }
}
