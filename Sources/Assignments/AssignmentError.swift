/// Why a lease request was refused or could not be carried out. The API maps each case to a problem.
public enum AssignmentError: Error, Sendable, Equatable {
    /// The device is not in the inventory.
    case unknownDevice(String)
    /// The group is not in the inventory.
    case unknownGroup(Int)
    /// A member of the group is not `available`: each entry names it and why.
    case notAssignable(group: Int, blockers: [String])
    /// The group already has a live assignment.
    case groupAssigned(group: Int, assignmentID: String?)
    /// No assignment with that id (or not visible to the caller).
    case notFound(String)
    /// `If-Match` named another generation than the assignment's (`sent`; older, or not reached yet).
    case staleGeneration(current: Int64, sent: Int64)
    /// The assignment is not in a state that allows the request (`renew` of a released one …).
    case wrongState(String, AssignmentState)
    /// The worker queue is full: try again later.
    case busy
    /// An operator asked for a holder outside its own tenant.
    case tenantMismatch(String)
    /// The reset preview says vfiod cannot reset the device now; each entry says why.
    case resetNotPossible(String, blockers: [String])
    /// The device is not quarantined.
    case notQuarantined(String)
    /// A row in the database could not be read back.
    case corruptRow(String)
}
