import Foundation
import Inventory
import Assignments

/// What an operator token sees of other tenants' assignments in the inventory and the reset scope: that a
/// device is taken (its `state`, its `owner` in a scope), not by whom (`assignmentId` is `null`).
///
/// This follows the authorization model: an operator acts for one tenant and another tenant's
/// assignments are invisible to it (`404`, left out of lists); viewers, auditors and admins see every
/// tenant, `assignmentId` included. An assignment vfiod cannot attribute to the operator's tenant — one
/// no longer live, such as a quarantine left by an ended lease — is hidden too.
///
/// The inventory stays encoded once per snapshot: only an operator facing another tenant's lease gets a
/// variant, its devices re-encoded once per snapshot and its pages cached under its tenant.
struct TenantView {
    /// The operator's tenant.
    let tenant: String
    /// Each live assignment's tenant.
    let tenants: [String: String]

    /// The view of `principal`; `nil` when it sees every tenant.
    init?(_ principal: Principal, assignments: AssignmentService) {
        guard principal.role == .operator, let tenant = principal.tenant else { return nil }
        self.tenant = tenant
        self.tenants = assignments.liveAssignmentTenants
    }

    /// Whether `assignmentID` must not be shown: an assignment that is not this tenant's.
    func hides(_ assignmentID: String?) -> Bool {
        guard let assignmentID else { return false }
        return tenants[assignmentID] != tenant
    }

    /// The devices of `encoded` whose assignment this view hides.
    func hiddenDevices(_ encoded: EncodedInventory) -> Set<Int> {
        Set(encoded.leasedDevices.filter { hides(encoded.snapshot.devices[$0].assignmentID) })
    }

    /// `preview` without the assignment ids this view hides, in its fields and in its blockers' reasons.
    func redact(_ preview: ResetPreview) -> ResetPreview {
        var preview = preview
        var hidden: Set<String> = []
        if let id = preview.assignmentID, hides(id) {
            hidden.insert(id)
            preview.assignmentID = nil
        }
        for index in preview.devices.indices {
            guard let id = preview.devices[index].assignmentID, hides(id) else { continue }
            hidden.insert(id)
            preview.devices[index].assignmentID = nil
        }
        for index in preview.blockers.indices {
            for id in hidden { preview.blockers[index].reason = preview.blockers[index].reason.replacingOccurrences(of: " (\(id))", with: "") }
        }
        return preview
    }
}
