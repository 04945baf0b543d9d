import Foundation
import Assignments
import Store

/// The body of `POST /v1/assignments`, checked field by field: unknown fields are refused rather
/// than ignored, so a typo never silently changes what is leased.
enum AssignmentBody {
    static let fields: Set<String> = ["device", "group", "holder", "ttlSeconds", "resetOnRelease", "callbackUrl",
                                      "releaseGraceSeconds", "releaseTimeoutSeconds", "escalation"]
    static let defaultTTLSeconds = 3600

    /// The request in `body`; a `callbackUrl` must name one of `callbackHosts`.
    static func parse(_ body: [UInt8], callbackHosts: CallbackHosts) throws(APIError) -> CreateAssignmentRequest {
        try request(JSONObject.parse(body), callbackHosts: callbackHosts)
    }

    /// The request in the parsed body `object`.
    static func request(_ object: [String: Any], callbackHosts: CallbackHosts) throws(APIError) -> CreateAssignmentRequest {
        if let unknown = object.keys.first(where: { !fields.contains($0) }) {
            throw invalid("unknown field \"\(unknown.prefix(64))\"; fields are \(fields.sorted().joined(separator: ", "))")
        }
        let target = try target(object)
        guard let holder = object["holder"] as? [String: Any], let id = holder["id"] as? String,
              let tenant = holder["tenant"] as? String, holder.count == (holder["uid"] == nil ? 2 : 3) else {
            throw invalid("holder must be {\"id\": string, \"tenant\": string} with an optional \"uid\": number")
        }
        let uid = try holderUID(holder["uid"])
        guard isName(id), isName(tenant) else {
            throw invalid("holder id and tenant must be 1–128 characters of A–Z a–z 0–9 . _ : -")
        }
        var ttl = defaultTTLSeconds
        if let value = object["ttlSeconds"] { ttl = try ttlSeconds(value) }
        var reset = false
        if let value = object["resetOnRelease"] {
            guard let number = value as? NSNumber, JSONObject.isBool(number) else { throw invalid("resetOnRelease must be true or false") }
            reset = number.boolValue
        }
        let release = try releasePolicy(object, callbackHosts: callbackHosts)
        guard let target else {
            // A whole number beyond 64 bits names no group this host has; said once the body is otherwise valid.
            throw APIError(404, "group_not_found", "IOMMU group not found", "this host has no IOMMU group that large")
        }
        return CreateAssignmentRequest(target: target, holder: Holder(id: id, tenant: tenant, uid: uid), ttlSeconds: ttl,
                                       resetOnRelease: reset, release: release)
    }

    /// `holder.uid`: the Unix uid that may fetch the lease's descriptors from the holder socket (0 to
    /// 4294967294; 4294967295 is `(uid_t)-1`, which names nobody).
    static func holderUID(_ value: Any?) throws(APIError) -> UInt32? {
        guard let value else { return nil }
        guard let number = wholeNumber(value), (0...4_294_967_294).contains(number) else {
            throw invalid("holder.uid must be a whole number from 0 to 4294967294")
        }
        return UInt32(number)
    }

    /// `device` or `group`; `nil` for a group number above any `Int` (no such group).
    static func target(_ object: [String: Any]) throws(APIError) -> CreateAssignmentRequest.Target? {
        switch (object["device"], object["group"]) {
        case (let device as String, nil):
            return .device(device)
        case (nil, nil), (.some, .some):
            throw invalid("give exactly one of device (an address) or group (a number)")
        case (nil, let group?):
            switch WholeNumber(group) {
            case .exact(let id) where id >= 0: return .group(id)
            case .aboveRange: return nil
            default: break
            }
        default:
            break
        }
        throw invalid("device must be an address string, group a non-negative whole number")
    }

    /// A lease length: any whole number of seconds ≥ 1; the service lowers what is above its maximum.
    static func ttlSeconds(_ value: Any) throws(APIError) -> Int {
        guard let seconds = WholeNumber.positiveSeconds(value) else {
            throw invalid("ttlSeconds must be a whole number of seconds ≥ 1 (above 30 days it is lowered to 30 days)")
        }
        return seconds
    }

    /// `callbackUrl`, `releaseGraceSeconds`, `releaseTimeoutSeconds`, `escalation`.
    static func releasePolicy(_ object: [String: Any], callbackHosts: CallbackHosts) throws(APIError) -> ReleasePolicy {
        var policy = ReleasePolicy.standard
        if let value = object["callbackUrl"] {
            guard let text = value as? String, let url = CallbackURL(text) else {
                throw invalid("callbackUrl must be http://HOST[:PORT][/PATH][?QUERY]: a DNS name, IPv4 or [IPv6] host, "
                              + "RFC 3986 characters only (percent-encode the rest), at most 2048 bytes")
            }
            guard callbackHosts.allows(url) else {
                throw APIError(400, "callback_host_not_allowed", "Callback host not allowed",
                               "callbackUrl names host \(url.host), which callbacks.allowedHosts in vfiod's configuration does not list")
            }
            policy.callbackURL = text
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
        if case .exact(let number) = WholeNumber(value) { return number }
        return nil
    }

    /// SHA-256 of the body's canonical form, so key order and spacing don't make a "different body".
    static func hash(_ request: CreateAssignmentRequest) -> String {
        let target = switch request.target {
        case .device(let address): "device=\(address)"
        case .group(let id): "group=\(id)"
        }
        let release = request.release
        let canonical = "\(target)|\(request.holder.id)|\(request.holder.tenant)\(request.holder.uid.map { "#\($0)" } ?? "")|\(request.ttlSeconds)|\(request.resetOnRelease)"
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

/// Small JSON request bodies: the usual plain form read byte by byte (`PlainJSONObject`), anything else
/// with Foundation, which also finds what is wrong with a body.
enum JSONObject {
    static func parse(_ body: [UInt8]) throws(APIError) -> [String: Any] {
        if let object = PlainJSONObject.parse(body) { return object }
        return try parseGeneral(body)
    }

    /// `body` read with Foundation, with the checks of encoding and duplicate names around it.
    static func parseGeneral(_ body: [UInt8]) throws(APIError) -> [String: Any] {
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
