import Foundation

/// What one timed bind or release was made of: the client's clock around it, vfiod's trace marks
/// (`VFIOD_TRACE_FILE`) and the operation's own step times, all on this machine's clock.
struct TimedOperation {
    /// When the client sent the POST (or DELETE), and when it held the finished operation.
    let sent: Date
    let held: Date
    /// vfiod's milestones by name (`received`, `committed`, `queued`, `worker`, `end-committed`, …).
    var marks: [String: Date] = [:]
    /// The first step's start, the last step's finish, and the time spent inside steps.
    let firstStep: Date?
    let lastStep: Date?
    let inSteps: Double

    /// Reads the step times of `operation` (a finished operation's JSON).
    init(sent: Date, held: Date, operation: JSONObject) {
        self.sent = sent
        self.held = held
        let steps = operation["steps"] as? [JSONObject] ?? []
        firstStep = steps.compactMap { LeaseTiming.date($0.optionalString("startedAt")) }.min()
        lastStep = steps.compactMap { LeaseTiming.date($0.optionalString("finishedAt")) }.max()
        inSteps = steps.compactMap { $0["durationMs"] as? Double }.reduce(0, +) / 1000
    }

    /// The client's wall clock, POST to holding the finished operation.
    var wall: Double { held.timeIntervalSince(sent) }

    /// The phases in order, each from the previous milestone (seconds; `nil` when a milestone is missing).
    /// A release's `create` is its DELETE's transaction and its `queue` includes the opener scan.
    var phases: [Double?] {
        let points: [Date?] = [sent, marks["received"], marks["committed"], marks["worker"], firstStep, lastStep,
                               marks["end-committed"], marks["published"], marks["woken"], marks["wait-answered"], held]
        return zip(points, points.dropFirst()).map { start, end in
            guard let start, let end else { return nil }
            return end.timeIntervalSince(start)
        }
    }
}

/// The timings of one target (a device or group, bind or release) over every cycle, and its table row.
struct LeaseTiming {
    /// The marks every traced bind and release passes (`openers-scanned`, `scan-begin` and `scan-end`
    /// are a release's only).
    static let requiredMarks = ["received", "committed", "answered", "queued", "worker", "end-committed", "published",
                                "woken", "wait-answered"]

    /// The phases' column names, in ``TimedOperation/phases`` order.
    static let phaseNames = ["request", "create", "queue", "start", "steps", "end", "publish", "wake", "answer", "deliver"]
    static let header = "target".padding(toLength: 18, withPad: " ", startingAt: 0) + "cycles   wall   bare  added | "
        + phaseNames.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined(separator: " ") + "  in-steps between scan scanrun"

    let name: String
    var operations: [TimedOperation] = []
    var bare: [Double] = []

    /// Medians in milliseconds: wall, bare, added (wall − bare), each phase, the time inside steps and
    /// between them, and (a release) from its commit to the first look for openers done (part of `queue`)
    /// and that look's own time on the observer thread.
    var row: String {
        let wall = Self.median(operations.map(\.wall)), bareTime = Self.median(bare)
        let phases = Self.phaseNames.indices.map { index in Self.median(operations.compactMap { $0.phases[index] }) }
        let inSteps = Self.median(operations.map(\.inSteps))
        let between = Self.median(operations.compactMap { operation in
            operation.phases[4].map { $0 - operation.inSteps }
        })
        let scan = Self.median(operations.compactMap { operation in
            operation.marks["openers-scanned"].flatMap { end in operation.marks["committed"].map { end.timeIntervalSince($0) } }
        })
        let scanRun = Self.median(operations.compactMap { operation in
            operation.marks["scan-end"].flatMap { end in operation.marks["scan-begin"].map { end.timeIntervalSince($0) } }
        })
        let cells = [wall, bareTime, wall.flatMap { w in bareTime.map { w - $0 } }].map { Self.cell($0, width: 6) }
        return name.padding(toLength: 17, withPad: " ", startingAt: 0) + " " + String(format: "%6d", operations.count) + " "
            + cells.joined(separator: " ") + " | " + phases.map { Self.cell($0, width: 7) }.joined(separator: " ")
            + "  " + Self.cell(inSteps, width: 8) + " " + Self.cell(between, width: 7) + " " + Self.cell(scan, width: 4) + " " + Self.cell(scanRun, width: 7)
    }

    /// Every cycle as tab-separated milliseconds: target, cycle, wall, bare, the phases, in-steps.
    var rawLines: [String] {
        operations.indices.map { index in
            let operation = operations[index]
            let values = [operation.wall, index < bare.count ? bare[index] : nil] + operation.phases + [operation.inSteps]
            return ([name, String(index + 1)] + values.map { $0.map { String(format: "%.3f", $0 * 1000) } ?? "-" })
                .joined(separator: "\t")
        }
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func cell(_ seconds: Double?, width: Int) -> String {
        guard let seconds else { return String(repeating: " ", count: width - 1) + "-" }
        return String(format: "%\(width).1f", seconds * 1000)
    }

    /// A store time (`2026-01-31T12:00:00.123Z`) as a date.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return formatter.date(from: text)
    }

    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()

    /// vfiod's trace lines (`OPERATION PHASE UNIX-MICROSECONDS`) by operation and phase.
    static func marks(in trace: String) -> [String: [String: Date]] {
        var marks: [String: [String: Date]] = [:]
        for line in trace.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let microseconds = Int64(fields[2]) else { continue }
            // The first mark of a phase counts (a later look for openers marks again).
            if marks[String(fields[0]), default: [:]][String(fields[1])] == nil {
                marks[String(fields[0]), default: [:]][String(fields[1])] = Date(timeIntervalSince1970: Double(microseconds) / 1e6)
            }
        }
        return marks
    }
}
