import Foundation

/// One request line of the holder socket: `{"assignment": ID, "generation": N}`, nothing else.
struct HolderRequest: Sendable, Hashable {
    /// The assignment id.
    let assignment: String
    /// The generation the holder was given (the fencing token).
    let generation: Int64

    /// Parses a line; any other shape is `bad_request`.
    static func parse(_ line: [UInt8]) throws(HolderRefusal) -> HolderRequest {
        let shape = "the request is one line of JSON: {\"assignment\": ID, \"generation\": N}"
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            throw .badRequest("not JSON; \(shape)")
        }
        guard Set(object.keys) == ["assignment", "generation"], let assignment = object["assignment"] as? String,
              let number = object["generation"] as? NSNumber, ["q", "i", "s", "l"].contains(String(cString: number.objCType)),
              number.int64Value >= 1 else {
            throw .badRequest(shape + " (generation a whole number ≥ 1)")
        }
        return HolderRequest(assignment: assignment, generation: number.int64Value)
    }
}
