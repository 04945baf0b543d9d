import Foundation

/// What vfiod does to an opener process that keeps a device open after its release was asked for.
public enum Escalation: String, Sendable, Hashable, CaseIterable {
    /// Keep waiting: the release stays `releasing`, flagged stuck in `/readyz` and the metrics.
    case wait
    /// Send SIGTERM to the openers.
    case terminate
    /// Send SIGKILL to the openers.
    case kill

    /// The signal sent, if any.
    public var signal: Int32? {
        switch self {
        case .wait: nil
        case .terminate: SIGTERM
        case .kill: SIGKILL
        }
    }

    /// `SIGTERM`, `SIGKILL`.
    public var signalName: String? {
        switch self {
        case .wait: nil
        case .terminate: "SIGTERM"
        case .kill: "SIGKILL"
        }
    }
}

/// How a release of one assignment treats the processes that keep its devices open (openers): the
/// cooperative unbind's knobs.
///
/// 1. The assignment goes to `releasing` and the holder is told (state, operation, `callbackURL`).
/// 2. For up to `graceSeconds` vfiod waits for the opener processes to close their VFIO files.
/// 3. Then (or at once when none is left) the unbind is written; the kernel relays its device request
///    to the openers every 10 s.
/// 4. `timeoutSeconds` after the unbind started, vfiod escalates by `escalation`.
public struct ReleasePolicy: Sendable, Hashable {
    /// Called with a POST of the assignment when its release starts (http only, bounded timeout).
    public var callbackURL: String?
    /// How long the openers may take to let go before the kernel is asked.
    public var graceSeconds: Int
    /// How long after the kernel was asked vfiod escalates.
    public var timeoutSeconds: Int
    /// What escalation does.
    public var escalation: Escalation

    /// Creates a policy.
    public init(callbackURL: String? = nil, graceSeconds: Int = 0, timeoutSeconds: Int = 60, escalation: Escalation = .wait) {
        self.callbackURL = callbackURL
        self.graceSeconds = graceSeconds
        self.timeoutSeconds = timeoutSeconds
        self.escalation = escalation
    }

    /// The defaults: no callback, no grace, 60 s, wait.
    public static let standard = ReleasePolicy()
}
