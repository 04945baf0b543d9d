import Foundation

/// Prints an operation's progress as it changes: each step as it finishes with its duration, openers found
/// and gone, device requests relayed, escalation, pauses, and the end; every line with the time elapsed
/// since watching began. Fed successive copies of the operation, it prints only what is new.
final class ProgressView {
    private let terminal: Terminal
    private let started = Date()
    private var announced = false
    private var lastState: String?
    private var stepsShown: Set<String> = []
    private var openersShown: Set<String> = []
    private var openersGone: Set<String> = []
    private var relayedShown = 0
    private var relayedCount = 0
    private var escalationShown = false
    private var pauseShown: String?

    init(terminal: Terminal) { self.terminal = terminal }

    /// Seconds since watching began.
    var elapsed: Double { Date().timeIntervalSince(started) }

    /// Prints what `operation` shows that the copies before did not.
    func show(_ operation: JSONObject) {
        if !announced {
            announced = true
            let target = operation.string("target").map { " of \($0)" } ?? " of group \(operation.text("group"))"
            say("\(operation.text("kind"))\(target): operation \(operation.text("id")), assignment \(operation.text("assignment"))")
        }
        showSteps(operation)
        showOpeners(operation)
        showRequests(operation)
        showEscalation(operation)
        let paused = operation.string("pausedReason")
        if let paused, paused != pauseShown { say(terminal.paint("paused: ", .yellow) + paused) }
        pauseShown = paused
        let state = operation.text("state")
        if state != lastState {
            lastState = state
            if OperationWatch.isFinal(state) {
                let error = operation.string("error").map { ": \($0)" } ?? ""
                say(terminal.state(state) + error + " after " + Durations.elapsed(elapsed))
            } else {
                say(terminal.state(state))
            }
        }
    }

    /// Prints a line that is not about the operation's content (a reconnect, a notice from the stream).
    func note(_ text: String) { say(terminal.paint(text, .dim)) }

    private func showSteps(_ operation: JSONObject) {
        for step in operation.objects("steps") {
            let state = step.text("state")
            let key = "\(step.text("seq"))/\(state)"
            guard state != "intent", !stepsShown.contains(key) else { continue }
            stepsShown.insert(key)
            let device = step.string("device") ?? "group"
            let expected = step.string("expected").map { " → \($0)" } ?? ""
            let error = step.string("error").map { ": \($0)" } ?? ""
            say("step \(step.text("seq")) \(step.text("action")) \(device)\(expected)  \(terminal.state(state)) in "
                + Durations.milliseconds(step.double("durationMs")) + error)
        }
    }

    private func showOpeners(_ operation: JSONObject) {
        for opener in operation.objects("openers") {
            let pid = opener.text("pid")
            if !openersShown.contains(pid) {
                openersShown.insert(pid)
                say(terminal.paint("opener", .yellow) + " pid \(pid) (\(opener.text("commandLine"))) holds "
                    + opener.strings("paths").joined(separator: ", "))
            }
            if opener.string("goneAt") != nil, !openersGone.contains(pid) {
                openersGone.insert(pid)
                say("opener pid \(pid) let go")
            }
        }
    }

    private func showRequests(_ operation: JSONObject) {
        let relayed = operation.objects("requestsRelayed")
        for request in relayed.dropFirst(relayedShown) { say("device request relayed: " + request.text("text")) }
        relayedShown = max(relayedShown, relayed.count)
        let count = operation.int("requestsRelayedCount") ?? 0
        if count > relayedCount, count > relayed.count {
            say("device requests relayed so far: \(count) (\(operation.text("requestsRelayedSource")))")
        }
        relayedCount = max(relayedCount, count)
    }

    private func showEscalation(_ operation: JSONObject) {
        guard !escalationShown, let escalation = operation.object("escalation") else { return }
        escalationShown = true
        let signal = escalation.string("signal").map { " with \($0) to pids " + ((escalation.fields["pids"] as? [Any]) ?? []).map { "\($0)" }.joined(separator: ", ") } ?? ""
        say(terminal.paint("escalation", .red) + ": policy \(escalation.text("policy"))\(signal)"
            + (operation.bool("stuck") == true ? "; the release is stuck waiting for its openers" : ""))
    }

    private func say(_ text: String) {
        let stamp = String(format1: elapsed, unit: "s")
        terminal.line(terminal.paint("[" + String(repeating: " ", count: max(0, 7 - stamp.count)) + stamp + "]", .dim) + " " + text)
    }
}
