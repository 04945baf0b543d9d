/// The event types the stream sends, and the ones a reader may filter on.
public enum EventTypes {
    /// A device's object changed (as `GET /v1/devices/{address}` returns it).
    public static let deviceChanged = "device.changed"
    /// A group's object changed (as `GET /v1/groups/{id}` returns it).
    public static let groupChanged = "group.changed"
    /// A new inventory snapshot was published.
    public static let inventoryRescanned = "inventory.rescanned"
    /// An assignment changed (derived from its audit row).
    public static let assignmentChanged = "assignment.changed"
    /// An operation changed state (derived from its audit row).
    public static let operationChanged = "operation.changed"
    /// A journaled step of an operation finished (not stored).
    public static let operationStep = "operation.step"
    /// A row was appended to the audit history.
    public static let auditAppended = "audit.appended"
    /// The reader must list again: events it may have missed are gone.
    public static let reset = "reset"
    /// The reader fell behind: its stream ends; resume by cursor.
    public static let overflow = "overflow"
    /// vfiod is shutting down: the stream ends; resume by cursor.
    public static let shutdown = "shutdown"

    /// The types a reader may ask for in `types=` (the control events always come).
    public static let filterable: Set<String> = [
        deviceChanged, groupChanged, inventoryRescanned, assignmentChanged, operationChanged, operationStep, auditAppended,
    ]
    /// Every type, control events included.
    public static let all: Set<String> = filterable.union([reset, overflow, shutdown])
}
