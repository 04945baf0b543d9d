import Foundation

/// What an operation does to a group.
public enum OperationKind: String, Sendable, Hashable {
    /// Take every endpoint to vfio-pci.
    case bind
    /// Give every endpoint back to its original driver.
    case release
    /// Reset a device (and everything in its reset scope).
    case reset
    /// Give a quarantined device back to its original driver after an admin cleared it.
    case restore
}

/// Where an operation stands.
public enum OperationState: String, Sendable, Hashable, CaseIterable {
    /// Accepted, waiting for a worker.
    case queued
    /// A worker is doing its steps.
    case running
    /// Done.
    case succeeded
    /// Failed; what it changed was undone where it could be (see the steps).
    case failed
    /// vfiod died during it; on restart the kernel state was found complete or made so.
    case completedOnRecovery = "completed_on_recovery"
    /// vfiod died during it; on restart what it had done was undone.
    case rolledBack = "rolled_back"

    /// Finished one way or another.
    public var isFinished: Bool { self != .queued && self != .running }
}

/// One journaled kernel write (or check) of an operation, recorded after it, with the operation's end.
public struct OperationStep: Sendable, Hashable {
    /// The step's outcome.
    public enum State: String, Sendable, Hashable {
        /// An intent recorded before the write by an earlier vfiod, whose outcome never was (it stopped
        /// there); found only in histories written before the journal's coarser grain.
        case intent
        /// The write returned and its effect was checked.
        case done
        /// The write failed; `error` says how.
        case failed
    }

    /// Position within the operation, from 1.
    public var seq: Int
    /// `set_override`, `unbind`, `probe`, `clear_override`, `bind`, `verify_driver`, `verify_group`.
    public var action: String
    /// The function written to.
    public var device: String?
    /// The driver the function had before vfiod took it.
    public var originalDriver: String?
    /// What the step should leave behind (`vfio-pci`, `e1000e`, `none`).
    public var expected: String?
    /// Its outcome.
    public var state: State
    /// When the write (or check) started.
    public var startedAt: Date
    /// When it ended; `nil` for an `intent`.
    public var finishedAt: Date?
    /// What went wrong.
    public var error: String?
}

/// A bind, release, reset or restore on one group: the unit the worker pool runs and the journal records.
public struct GroupOperation: Sendable, Hashable {
    /// Time-ordered id (`op_…`).
    public var id: String
    /// Bind or release.
    public var kind: OperationKind
    /// The assignment it serves.
    public var assignmentID: String
    /// The group it writes to.
    public var groupID: Int
    /// Where it stands.
    public var state: OperationState
    /// Why it runs (`requested`, `expired`, `recovery`).
    public var reason: String?
    /// When it was accepted.
    public var createdAt: Date
    /// When a worker started it.
    public var startedAt: Date?
    /// When it finished.
    public var finishedAt: Date?
    /// Why it failed.
    public var error: String?
    /// The request that caused it.
    public var requestID: String?
    /// The token name that caused it, or `system`.
    public var actor: String
    /// Its journaled steps, in order.
    public var steps: [OperationStep]
    /// The device a reset or restore aims at.
    public var target: String? = nil
    /// Openers, relayed requests, escalation, reset path.
    public var detail = OperationDetail()
    /// Why the operation is paused now (the database refused its journal), or `nil`. Not stored.
    public var pausedReason: String? = nil
}
