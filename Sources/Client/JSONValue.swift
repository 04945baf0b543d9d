import Foundation

/// A JSON object from the API, read field by field for the human views (the JSON output prints the bytes
/// the server sent, never this).
struct JSONObject {
    /// The parsed object.
    let fields: [String: Any]

    init(_ fields: [String: Any]) { self.fields = fields }

    /// Parses `bytes` as one JSON object.
    init(parsing bytes: [UInt8]) throws(ClientError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw .unreachable("the server's answer is not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        fields = object
    }

    /// A string field, nil when absent or null.
    func string(_ key: String) -> String? { fields[key] as? String }
    /// A whole-number field.
    func int(_ key: String) -> Int? { (fields[key] as? NSNumber)?.intValue }
    /// A number field.
    func double(_ key: String) -> Double? { (fields[key] as? NSNumber)?.doubleValue }
    /// A boolean field.
    func bool(_ key: String) -> Bool? { (fields[key] as? NSNumber).map(\.boolValue) }
    /// A nested object.
    func object(_ key: String) -> JSONObject? { (fields[key] as? [String: Any]).map(JSONObject.init) }
    /// An array of objects (empty when absent).
    func objects(_ key: String) -> [JSONObject] { ((fields[key] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(JSONObject.init) } }
    /// An array of strings (empty when absent).
    func strings(_ key: String) -> [String] { (fields[key] as? [Any])?.compactMap { $0 as? String } ?? [] }

    /// Any field as short text for a table cell: `-` for null or absent.
    func text(_ key: String) -> String {
        switch fields[key] {
        case nil, is NSNull: "-"
        case let string as String: string
        case let number as NSNumber where String(cString: number.objCType) == "c": number.boolValue ? "yes" : "no"
        case let number as NSNumber: "\(number)"
        case let value?: Self.compact(value)
        }
    }

    /// Compact JSON text of any JSON value.
    static func compact(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "\(value)"
        }
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
