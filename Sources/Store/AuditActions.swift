/// Audit actions that were renamed. The hash chain forbids rewriting old rows, so they keep the action they
/// were written with; a query for either spelling finds both.
public enum AuditActions {
    /// Old spelling → current: an assignment is called an assignment everywhere (it was also "lease").
    public static let renamed: [String: String] = [
        "lease.expired": "assignment.expired",
        "lease.lost": "assignment.lost",
        "lease.reverified": "assignment.reverified",
    ]

    /// Every spelling rows of `action` may carry: the current one first, then older ones.
    public static func spellings(of action: String) -> [String] {
        let current = renamed[action] ?? action
        return [current] + renamed.filter { $0.value == current }.map(\.key).sorted()
    }
}
