import Foundation
import Testing
import TestSupport
import Yams

/// `openapi/openapi.yaml`, read for the contract test, with a small JSON Schema checker for the
/// subset the document uses (`type` lists, `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `const`, `oneOf`, `anyOf`, `$ref`, `pattern`, `minimum`, `maximum`).
struct OpenAPIDocument {
    let root: [String: Any]

    init() throws {
        let text = try String(contentsOfFile: Fixtures.repositoryRoot() + "/openapi/openapi.yaml", encoding: .utf8)
        root = try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    /// `METHOD /path` for every operation.
    var operations: Set<String> {
        let paths = root["paths"] as? [String: Any] ?? [:]
        var result: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                result.insert("\(method.uppercased()) \(path)")
            }
        }
        return result
    }

    func operation(_ method: String, _ path: String) -> [String: Any]? {
        ((root["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()] as? [String: Any]
    }

    /// Follows a local `$ref`.
    func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let reference = node["$ref"] as? String, reference.hasPrefix("#/") else { return node }
        var current: Any = root
        for part in reference.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(part)] as Any
        }
        return resolve(current as? [String: Any] ?? [:])
    }

    /// The event types `x-event-types` documents, each with its data's schema.
    var eventSchemas: [String: [String: Any]] {
        let map = root["x-event-types"] as? [String: String] ?? [:]
        return map.mapValues { resolve(["$ref": $0]) }
    }

    /// The problem codes an operation documents for `status`, after following the response's `$ref`.
    func problemCodes(_ method: String, _ path: String, status: Int) -> [String] {
        guard let responses = operation(method, path)?["responses"] as? [String: Any],
              let response = responses["\(status)"] as? [String: Any] else { return [] }
        return resolve(response)["x-problem-codes"] as? [String] ?? []
    }

    /// `x-global-problems`: codes any request can meet.
    var globalProblems: [(code: String, status: Int)] {
        (root["x-global-problems"] as? [[String: Any]] ?? []).compactMap { entry in
            guard let code = entry["code"] as? String, let status = entry["status"] as? Int else { return nil }
            return (code, status)
        }
    }

    /// The `ProblemCode` enum.
    var problemCodeEnum: Set<String> {
        let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any]
        return Set((schemas?["ProblemCode"] as? [String: Any])?["enum"] as? [String] ?? [])
    }

    /// `components/schemas/<name>`.
    func schema(_ name: String) -> [String: Any]? {
        ((root["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any]
    }

    /// Every `examples` entry of every component schema, with the schema's name.
    var schemaExamples: [(name: String, example: Any)] {
        let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        return schemas.keys.sorted().flatMap { name in
            ((schemas[name] as? [String: Any])?["examples"] as? [Any] ?? []).map { (name, $0) }
        }
    }

    /// The status codes an operation documents.
    func statuses(_ method: String, _ path: String) -> Set<Int> {
        Set((operation(method, path)?["responses"] as? [String: Any] ?? [:]).keys.compactMap { Int($0) })
    }

    /// The schema of the `200` JSON body of an operation.
    func responseSchema(_ method: String, _ path: String, status: Int = 200, mediaType: String = "application/json") -> [String: Any]? {
        guard let responses = operation(method, path)?["responses"] as? [String: Any],
              let response = responses["\(status)"] as? [String: Any],
              let content = resolve(response)["content"] as? [String: Any],
              let media = content[mediaType] as? [String: Any],
              let schema = media["schema"] as? [String: Any] else { return nil }
        return resolve(schema)
    }

    /// Where `value` breaks `schema`, as `path: why` lines; empty when it conforms.
    func violations(of value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        let schema = resolve(schema)
        var combined: [String] = []
        if let alternatives = schema["oneOf"] as? [[String: Any]] {
            let matching = alternatives.filter { violations(of: value, against: $0, at: path).isEmpty }.count
            if matching != 1 { combined.append("\(path): matches \(matching) of the \(alternatives.count) oneOf schemas") }
        }
        if let alternatives = schema["anyOf"] as? [[String: Any]],
           !alternatives.contains(where: { violations(of: value, against: $0, at: path).isEmpty }) {
            combined.append("\(path): matches none of the anyOf schemas")
        }
        return combined + ownViolations(of: value, against: schema, at: path)
    }

    /// A YAML number as a Double.
    private static func double(_ value: Any?) -> Double? {
        switch value {
        case let int as Int: Double(int)
        case let double as Double: double
        default: nil
        }
    }

    /// Two JSON values from JSONSerialization or Yams are the same value.
    private func same(_ a: Any, _ b: Any) -> Bool {
        if a is NSNull || b is NSNull { return a is NSNull && b is NSNull }
        return "\(a)" == "\(b)"
    }

    /// The checks of `schema` itself, `oneOf` and `anyOf` aside.
    private func ownViolations(of value: Any, against schema: [String: Any], at path: String) -> [String] {
        var types: [String] = []
        if let type = schema["type"] as? String { types = [type] }
        if let list = schema["type"] as? [String] { types = list }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { same($0, value) }) {
            return ["\(path): \(value) is not one of \(allowed)"]
        }
        if let constant = schema["const"], !same(constant, value) {
            return ["\(path): \(value) is not \(constant)"]
        }
        if value is NSNull {
            return types.isEmpty || types.contains("null") ? [] : ["\(path): null where \(types) is required"]
        }
        if let object = value as? [String: Any] {
            guard types.isEmpty || types.contains("object") else { return ["\(path): object where \(types) is required"] }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            var problems: [String] = []
            for required in schema["required"] as? [String] ?? [] where object[required] == nil {
                problems.append("\(path): missing \(required)")
            }
            for (key, member) in object {
                if let propertySchema = properties[key] as? [String: Any] {
                    problems += violations(of: member, against: propertySchema, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    problems += violations(of: member, against: additional, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    problems.append("\(path): \(key) is not in the schema")
                }
            }
            return problems
        }
        if let array = value as? [Any] {
            guard types.isEmpty || types.contains("array") else { return ["\(path): array where \(types) is required"] }
            let items = schema["items"] as? [String: Any] ?? [:]
            return array.enumerated().flatMap { violations(of: $1, against: items, at: "\(path)[\($0)]") }
        }
        if let number = value as? NSNumber {
            // JSONSerialization returns booleans as NSNumbers whose Objective-C type is `c` (char).
            let isBool = String(cString: number.objCType) == "c"
            if isBool { return types.isEmpty || types.contains("boolean") ? [] : ["\(path): boolean where \(types) is required"] }
            let isInteger = number.doubleValue.rounded() == number.doubleValue
            let ok = types.isEmpty || types.contains("number") || (isInteger && types.contains("integer"))
            guard ok else { return ["\(path): number where \(types) is required"] }
            if let minimum = Self.double(schema["minimum"]), number.doubleValue < minimum {
                return ["\(path): \(number) is below the minimum \(minimum)"]
            }
            if let maximum = Self.double(schema["maximum"]), number.doubleValue > maximum {
                return ["\(path): \(number) is above the maximum \(maximum)"]
            }
            return []
        }
        if let string = value as? String {
            guard types.isEmpty || types.contains("string") else { return ["\(path): string where \(types) is required"] }
            if let pattern = schema["pattern"] as? String, string.range(of: pattern, options: .regularExpression) == nil {
                return ["\(path): \"\(string)\" does not match \(pattern)"]
            }
            return []
        }
        return ["\(path): unexpected value \(value)"]
    }
}
