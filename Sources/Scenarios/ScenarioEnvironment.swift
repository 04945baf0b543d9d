import Foundation

/// Where the suite runs: the binaries it starts and the host it drives.
public struct ScenarioEnvironment: Sendable {
    /// The host under test.
    public enum Host: Sendable, Equatable {
        /// The simulated kernel: each scenario materialises this topology file in a tree of its own and runs
        /// vfiod with `--simulate-in-place` on it.
        case simulated(topology: String)
        /// The real kernel of this machine (`--host-root /`): scenarios run one after another and leave every
        /// device as they found it.
        case linux
    }

    /// The `vfiod` binary.
    public var vfiod: String
    /// The `vfio-opener` binary.
    public var opener: String
    /// The host under test.
    public var host: Host
    /// A directory for databases, trees and logs (one subdirectory per scenario run).
    public var workDirectory: String
    /// Where progress notes go (`note NAME: …`); `nil` for none.
    public var log: (@Sendable (String) -> Void)?
    /// How many leases `lease-timing` times per target (and as many bare cycles).
    public var timingCycles = 20
    /// Where scenarios that measure write their figures (`lease-timing.txt`); `nil`: only the notes.
    public var resultsDirectory: String?

    /// Creates an environment.
    public init(vfiod: String, opener: String, host: Host, workDirectory: String, log: (@Sendable (String) -> Void)? = nil) {
        self.vfiod = vfiod
        self.opener = opener
        self.host = host
        self.workDirectory = workDirectory
        self.log = log
    }

    /// Whether this is the simulated kernel.
    var isSimulated: Bool {
        if case .simulated = host { return true }
        return false
    }
}
