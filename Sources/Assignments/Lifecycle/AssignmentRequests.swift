import Foundation

/// `POST /v1/assignments`, checked and typed.
public struct CreateAssignmentRequest: Sendable, Hashable {
    /// What to lease: a device's whole group, or a group.
    public enum Target: Sendable, Hashable {
        /// The group of this device.
        case device(String)
        /// This group.
        case group(Int)
    }

    /// What to lease.
    public var target: Target
    /// Who will hold it.
    public var holder: Holder
    /// Lease length; renewals extend by it.
    public var ttlSeconds: Int
    /// Reset the devices after the holder let go.
    public var resetOnRelease: Bool
    /// How a release treats openers that keep the devices open.
    public var release: ReleasePolicy

    /// Creates a request.
    public init(target: Target, holder: Holder, ttlSeconds: Int, resetOnRelease: Bool, release: ReleasePolicy = .standard) {
        self.target = target
        self.holder = holder
        self.ttlSeconds = ttlSeconds
        self.resetOnRelease = resetOnRelease
        self.release = release
    }
}

/// Who is asking: the token's name (the audit's actor), the tenant it is limited to, the request id.
public struct Caller: Sendable, Hashable {
    /// The token name, or `system` for vfiod itself.
    public var name: String
    /// The only tenant whose assignments the caller may see and change; `nil` for all.
    public var tenant: String?
    /// The request's `X-Request-Id`.
    public var requestID: String?

    /// Creates a caller.
    public init(name: String, tenant: String?, requestID: String?) {
        self.name = name
        self.tenant = tenant
        self.requestID = requestID
    }

    /// vfiod acting on its own (expiry, recovery).
    public static let system = Caller(name: "system", tenant: nil, requestID: nil)

    /// Whether the caller may see `assignment`.
    func sees(_ assignment: Assignment) -> Bool {
        sees(tenant: assignment.holder.tenant)
    }

    /// Whether the caller may see an assignment of `tenant`.
    func sees(tenant assignmentTenant: String) -> Bool {
        tenant == nil || tenant == assignmentTenant
    }
}

/// The filters of `GET /v1/assignments`.
public struct AssignmentFilter: Sendable, Hashable {
    /// Only this state.
    public var state: AssignmentState?
    /// Only this holder id.
    public var holder: String?
    /// Only this tenant.
    public var tenant: String?
    /// Only assignments that include this device.
    public var device: String?

    /// Creates a filter.
    public init(state: AssignmentState? = nil, holder: String? = nil, tenant: String? = nil, device: String? = nil) {
        self.state = state
        self.holder = holder
        self.tenant = tenant
        self.device = device
    }
}
