/// A topology file that cannot be used, in one line naming the device and the field
/// (`devices[3] (0000:41:00.0): field "vendor": "0xZZ" is not hex`).
public struct TopologyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The one-line explanation.
    public let message: String

    /// Creates an error with its message.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }

    /// Turns a `DecodingError` into one line with the JSON path (`devices[2].iommuGroup: expected Int`).
    static func from(_ error: DecodingError) -> TopologyError {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "top level" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return TopologyError("\(path(context.codingPath)): expected \(type)")
        case .valueNotFound(let type, let context):
            return TopologyError("\(path(context.codingPath)): missing \(type) value")
        case .keyNotFound(let key, let context):
            return TopologyError("\(path(context.codingPath + [key])): required field is missing")
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return TopologyError("\(path(context.codingPath)): \(context.debugDescription)\(underlying)")
        @unknown default:
            return TopologyError("\(error)")
        }
    }
}
