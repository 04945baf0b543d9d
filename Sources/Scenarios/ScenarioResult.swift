/// How one scenario ended.
public enum ScenarioOutcome: Sendable, Equatable {
    /// Everything it checked held.
    case pass
    /// A check failed; the reason says which and what was seen.
    case fail(String)
    /// The kernel under test lacks a capability it needs (the device cdev); never on the simulator.
    case skip(String)
}

/// One scenario's result: its name and outcome, printed as exactly one line.
public struct ScenarioResult: Sendable, Equatable {
    /// The scenario's name (`lease-edu`).
    public let name: String
    /// How it ended.
    public let outcome: ScenarioOutcome

    /// Creates a result.
    public init(name: String, outcome: ScenarioOutcome) {
        self.name = name
        self.outcome = outcome
    }

    /// `scenario NAME: pass`, `scenario NAME: fail: REASON` or `scenario NAME: skip: REASON`, on one line.
    public var line: String {
        switch outcome {
        case .pass: return "scenario \(name): pass"
        case .fail(let reason): return "scenario \(name): fail: \(Self.oneLine(reason))"
        case .skip(let reason): return "scenario \(name): skip: \(Self.oneLine(reason))"
        }
    }

    /// Whether the scenario failed.
    public var failed: Bool {
        if case .fail = outcome { return true }
        return false
    }

    /// The reason of a skip; `nil` otherwise.
    public var skipReason: String? {
        if case .skip(let reason) = outcome { return reason }
        return nil
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " | ")
    }
}

/// Thrown inside a scenario: a check that did not hold.
struct ScenarioFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Thrown inside a scenario: the kernel under test lacks a capability the scenario needs (the device cdev
/// on a kernel without it). Nothing else skips: the simulator has every capability, so there it never does.
struct ScenarioSkip: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Fails the scenario with `reason` unless `condition` holds.
func check(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
    if !condition { throw ScenarioFailure(reason()) }
}
