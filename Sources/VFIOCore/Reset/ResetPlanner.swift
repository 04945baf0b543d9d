/// Computes ``ResetPlan``s from a ``HostScan`` by the kernel's rules.
public enum ResetPlanner {
    /// The plan for resetting `target` by `method`, or by the method vfiod prefers when `method` is nil.
    /// STUB: to be replaced by the kernel rules.
    public static func plan(_ target: PCIAddress, method: ResetMethod?, in scan: HostScan) -> ResetPlan {
        ResetPlan(target: target, method: nil, scope: [], unavailableReason: "not implemented")
    }
}
