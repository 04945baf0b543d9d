import Foundation
import Leases
import Store

/// The body of `POST /v1/assignments`, checked field by field: unknown fields are refused rather
/// than ignored, so a typo never silently changes what is leased.
enum AssignmentBody {
    static let fields: Set<String> = ["device", "group", "holder", "ttlSeconds", "resetOnRelease", "callbackUrl",
                                      "releaseGraceSeconds", "releaseTimeoutSeconds", "escalation"]
    static let defaultTTLSeconds = 3600

    static func parse(_ body: [UInt8]) throws(APIError) -> CreateAssignmentRequest {
        let object = try JSONObject.parse(body)
        if let unknown = object.keys.first(where: { !fields.contains($0) }) {
            throw invalid("unknown field \"\(unknown.prefix(64))\"; fields are \(fields.sorted().joined(separator: ", "))")
        }
        let target: CreateAssignmentRequest.Target
        switch (object["device"], object["group"]) {
        case (let device as String, nil):
            target = .device(device)
        case (nil, let group as NSNumber) where !JSONObject.isBool(group) && group.doubleValue == Double(group.intValue) && group.intValue >= 0:
            target = .group(group.intValue)
        case (nil, nil), (.some, .some):
            throw invalid("give exactly one of device (an address) or group (a number)")
        default:
            throw invalid("device must be an address string, group a non-negative whole number")
        }
        guard let holder = object["holder"] as? [String: Any], let id = holder["id"] as? String,
              let tenant = holder["tenant"] as? String, holder.count == 2 else {
            throw invalid("holder must be {\"id\": string, \"tenant\": string}")
        }
        guard isName(id), isName(tenant) else {
            throw invalid("holder id and tenant must be 1–128 characters of A–Z a–z 0–9 . _ : -")
        }
        var ttl = defaultTTLSeconds
        if let value = object["ttlSeconds"] {
            guard let number = value as? NSNumber, !JSONObject.isBool(number), number.doubleValue == Double(number.intValue),
                  number.intValue >= 1 else { throw invalid("ttlSeconds must be a whole number of seconds ≥ 1") }
            ttl = number.intValue
        }
        var reset = false
        if let value = object["resetOnRelease"] {
            guard let number = value as? NSNumber, JSONObject.isBool(number) else { throw invalid("resetOnRelease must be true or false") }
            reset = number.boolValue
        }
        return CreateAssignmentRequest(target: target, holder: Holder(id: id, tenant: tenant), ttlSeconds: ttl,
                                       resetOnRelease: reset, release: try releasePolicy(object))
    }

    /// `callbackUrl`, `releaseGraceSeconds`, `releaseTimeoutSeconds`, `escalation`.
    static func releasePolicy(_ object: [String: Any]) throws(APIError) -> ReleasePolicy {
        var policy = ReleasePolicy.standard
        if let value = object["callbackUrl"] {
            guard let url = value as? String, CallbackURL(url) != nil else {
                throw invalid("callbackUrl must be an http:// URL with a host (at most 2048 characters)")
            }
            policy.callbackURL = url
        }
        if let value = object["releaseGraceSeconds"] {
            guard let seconds = wholeNumber(value), (0...86_400).contains(seconds) else {
                throw invalid("releaseGraceSeconds must be a whole number of seconds from 0 to 86400")
            }
            policy.graceSeconds = seconds
        }
        if let value = object["releaseTimeoutSeconds"] {
            guard let seconds = wholeNumber(value), (0...86_400).contains(seconds) else {
                throw invalid("releaseTimeoutSeconds must be a whole number of seconds from 0 to 86400")
            }
            policy.timeoutSeconds = seconds
        }
        if let value = object["escalation"] {
            guard let text = value as? String, let escalation = Escalation(rawValue: text) else {
                throw invalid("escalation must be wait, terminate or kill")
            }
            policy.escalation = escalation
        }
        return policy
    }

    static func wholeNumber(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !JSONObject.isBool(number),
              number.doubleValue == Double(number.intValue) else { return nil }
        return number.intValue
    }

    /// SHA-256 of the body's canonical form, so key order and spacing don't make a "different body".
    static func hash(_ request: CreateAssignmentRequest) -> String {
        let target = switch request.target {
        case .device(let address): "device=\(address)"
        case .group(let id): "group=\(id)"
        }
        let release = request.release
        let canonical = "\(target)|\(request.holder.id)|\(request.holder.tenant)|\(request.ttlSeconds)|\(request.resetOnRelease)"
            + "|\(release.callbackURL ?? "")|\(release.graceSeconds)|\(release.timeoutSeconds)|\(release.escalation.rawValue)"
        return SHA256.hexDigest(Array(canonical.utf8))
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy {
            (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || [46, 95, 58, 45].contains($0)
        }
    }

    static func invalid(_ detail: String) -> APIError {
        APIError(400, "invalid_body", "Invalid request body", detail)
    }
}

/// Small JSON request bodies, read with Foundation (bodies are capped and rare next to reads).
enum JSONObject {
    static func parse(_ body: [UInt8]) throws(APIError) -> [String: Any] {
        guard !body.isEmpty else { throw AssignmentBody.invalid("the body is empty; send a JSON object") }
        try JSONBody.checkEncoding(body)
        guard let value = try? JSONSerialization.jsonObject(with: Data(body)), let object = value as? [String: Any] else {
            throw APIError(400, "malformed_body", "Malformed JSON", "the body is not a JSON object")
        }
        try JSONBody.checkDuplicateMembers(body)
        return object
    }

    /// JSONSerialization gives booleans as NSNumbers whose Objective-C type is `c`.
    static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
