import Foundation

/// A journaled step whose outcome committed: what the event stream shows as `operation.step`.
///
/// The lease service hands each one to the observer it was given (``AssignmentService/init``) right
/// after the transaction that recorded it committed, on the worker thread that ran the step.
public struct FinishedStep: Sendable, Hashable {
    /// The operation it belongs to.
    public var operationID: String
    /// The operation's kind (`bind`, `release`, `reset`, `restore`).
    public var kind: String
    /// The operation's assignment.
    public var assignmentID: String
    /// The assignment's tenant.
    public var tenant: String
    /// The IOMMU group.
    public var groupID: Int
    /// The step's number in the operation.
    public var seq: Int
    /// What the step did (`unbind`, `bind vfio-pci`, a check …).
    public var action: String
    /// The device it touched, if any.
    public var device: String?
    /// When its write (or check) started.
    public var startedAt: Date
    /// When it ended.
    public var finishedAt: Date
    /// Why it failed; `nil` when it succeeded.
    public var error: String?

    /// `succeeded` or `failed`.
    public var state: String { error == nil ? "succeeded" : "failed" }
}

/// A step recorded for the next transaction whose number may be known only inside it (a late intent).
final class PendingStep {
    var step: FinishedStep

    init(_ step: FinishedStep) {
        self.step = step
    }
}

/// Where an operation's last steps go when they are to be published with the inventory's change right after
/// them (one event-stream publish for both, rather than two): `hold` keeps them for the next publish,
/// `release` publishes what is still kept once the inventory published (it may have had nothing to say).
public struct HeldSteps: Sendable {
    /// Keeps an operation's last steps for the next publish; must not block.
    public let hold: @Sendable ([FinishedStep]) -> Void
    /// Publishes the kept steps no publish took; must not block.
    public let release: @Sendable () -> Void

    /// Makes the pair.
    public init(hold: @escaping @Sendable ([FinishedStep]) -> Void, release: @escaping @Sendable () -> Void) {
        self.hold = hold
        self.release = release
    }
}
