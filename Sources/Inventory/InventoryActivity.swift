/// How much reading the inventory has done since it started: what tests and the benchmark use to tell a
/// full scan from a re-read of a few functions.
public struct InventoryActivity: Sendable, Hashable {
    /// Full scans published, the one at start included.
    public var fullScans: UInt64 = 0
    /// Driver checks run (the periodic listing of functions and their `driver` links).
    public var driverChecks: UInt64 = 0
    /// Functions re-read one by one because a uevent or a driver check reported them (an operation's own
    /// re-reads not counted).
    public var devicesReread: UInt64 = 0

    /// No activity yet.
    public init() {}
}
