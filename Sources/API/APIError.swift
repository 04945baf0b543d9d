import HTTPServer

/// A failure a handler reports to the client as `application/problem+json`.
///
/// `code` is stable: clients switch on it. Every code is listed in `APIError.catalog` and in
/// `openapi/openapi.yaml`; a test keeps the two in step.
public struct APIError: Error, Sendable {
    /// The HTTP status.
    public let status: Int
    /// The stable machine-readable code.
    public let code: String
    /// A short summary that does not change between occurrences.
    public let title: String
    /// What went wrong this time, in words.
    public let detail: String
    /// Extra members of the problem object (`blockers`, `assignmentId` …).
    var extensions: [(name: String, value: Problem.Value)] = []
    /// Extra response headers (`Retry-After` …).
    var headers: [(String, String)] = []

    init(_ status: Int, _ code: String, _ title: String, _ detail: String,
         extensions: [(name: String, value: Problem.Value)] = [], headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    static func invalidAddress(_ text: String) -> APIError {
        APIError(400, "invalid_address", "Invalid PCI address",
                 "\"\(text.prefix(64))\" is not a PCI address of the form 0000:41:00.0 (lowercase hex)")
    }

    static func deviceNotFound(_ address: String) -> APIError {
        APIError(404, "device_not_found", "Device not found", "this host has no PCI device \(address)")
    }

    static func invalidGroupID(_ text: String) -> APIError {
        APIError(400, "invalid_group_id", "Invalid IOMMU group id", "\"\(text.prefix(64))\" is not a group number")
    }

    static func groupNotFound(_ id: Int) -> APIError {
        APIError(404, "group_not_found", "IOMMU group not found", "this host has no IOMMU group \(id)")
    }

    static func unknownParameter(_ name: String, allowed: [String]) -> APIError {
        APIError(400, "unknown_parameter", "Unknown query parameter",
                 "unknown query parameter \"\(name.prefix(64))\"; this route takes: \(allowed.joined(separator: ", "))")
    }

    static func invalidParameter(_ name: String, _ why: String) -> APIError {
        APIError(400, "invalid_parameter", "Invalid query parameter", "\(name): \(why)")
    }

    static func invalidPageToken(_ why: String) -> APIError {
        APIError(400, "invalid_page_token", "Invalid page token", why)
    }

    static func notReady(_ why: String) -> APIError {
        APIError(503, "not_ready", "Not ready", why)
    }

    /// Every code the API layer emits, with its status, for the contract test.
    /// The HTTP layer adds its own (`StandardProblems.catalog`: `route_not_found`, `too_many_streams`,
    /// `cors_origin_refused`, …).
    public static let catalog: [(code: String, status: Int)] = [
        ("invalid_address", 400), ("device_not_found", 404), ("invalid_group_id", 400),
        ("group_not_found", 404), ("unknown_parameter", 400), ("invalid_parameter", 400),
        ("invalid_page_token", 400), ("not_ready", 503),
        ("unauthenticated", 401), ("forbidden", 403), ("invalid_body", 400), ("malformed_body", 400),
        ("unsupported_media_type", 415), ("invalid_header", 400), ("group_not_assignable", 409),
        ("group_assigned", 409), ("assignment_not_found", 404), ("precondition_failed", 412),
        ("invalid_state", 409), ("queue_full", 503), ("idempotency_key_reused", 422),
        ("internal_error", 500), ("storage_full", 507), ("storage_unavailable", 503),
        ("reset_not_possible", 409), ("not_quarantined", 404), ("callback_host_not_allowed", 400),
        ("token_not_found", 404), ("duplicate_member", 400),
        ("invalid_cursor", 400), ("invalid_event_type", 400), ("invalid_ticket", 401),
    ]
}
