/// What a reset of one function would do, computed from sysfs alone (no VFIO file needs to be open), so
/// it can be shown before vfiod owns anything.
public struct ResetPlan: Sendable, Hashable {
    /// The function to reset.
    public var target: PCIAddress
    /// The method that would be used; `nil` when the function cannot be reset.
    public var method: ResetMethod?
    /// Every function the reset touches, the target included, in address order; empty when `method` is nil.
    public var scope: [PCIAddress]
    /// Why there is no method (`nil` when there is one).
    public var unavailableReason: String?

    /// Creates a plan.
    public init(target: PCIAddress, method: ResetMethod?, scope: [PCIAddress], unavailableReason: String?) {
        self.target = target
        self.method = method
        self.scope = scope
        self.unavailableReason = unavailableReason
    }
}
