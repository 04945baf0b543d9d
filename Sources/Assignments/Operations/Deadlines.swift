import Dispatch
import Synchronization

/// Fires wake-ups at their deadlines from one dispatch timer for all of them.
///
/// A long-poll used to arm a dispatch timer of its own, which woke libdispatch's timer thread on every
/// request; here the one timer is re-armed only when a deadline earlier than the armed one arrives. Long-polls
/// mostly ask for the same wait, so a new deadline is nearly always later than the armed one and costs a
/// heap insertion. A wake-up that already fired (its operation finished) stays in the heap until its
/// deadline and is fired again there, which does nothing.
final class Deadlines: Sendable {
    private struct State {
        var heap = DeadlineHeap<WakeUp>()
        /// The deadline the timer is armed for, if any.
        var armed: DispatchTime?
    }

    private let state = Mutex(State())
    /// Dispatch sources may be scheduled from any thread; `Dispatch` does not say so in its types.
    nonisolated(unsafe) private let timer: any DispatchSourceTimer
    /// How late a deadline may fire, so that the system can coalesce wake-ups.
    static let leeway = DispatchTimeInterval.milliseconds(5)

    init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "vfiod.deadlines"))
        timer.setEventHandler { [weak self] in self?.fireDue() }
        timer.activate()
    }

    deinit {
        timer.cancel()
    }

    /// Fires `wakeUp` at `deadline` (or up to `leeway` after).
    func schedule(_ wakeUp: WakeUp, at deadline: DispatchTime) {
        state.withLock { state in
            state.heap.push(wakeUp, at: deadline)
            if let armed = state.armed, armed <= deadline { return }
            state.armed = deadline
            // Re-armed under the lock, so that it cannot race `fireDue`'s re-arming for a later deadline.
            timer.schedule(deadline: deadline, leeway: Self.leeway)
        }
    }

    /// How many deadlines are pending (tests).
    var count: Int { state.withLock { $0.heap.count } }

    private func fireDue() {
        let now = DispatchTime.now()
        let due = state.withLock { state -> [WakeUp] in
            var due: [WakeUp] = []
            while let first = state.heap.firstDeadline, first <= now { due.append(state.heap.popFirst()) }
            state.armed = state.heap.firstDeadline
            if let next = state.armed { timer.schedule(deadline: next, leeway: Self.leeway) }
            return due
        }
        for wakeUp in due { wakeUp.fire() }
    }
}

/// Values by deadline, earliest first: a binary min-heap.
struct DeadlineHeap<Value> {
    private var entries: [(deadline: DispatchTime, value: Value)] = []

    var count: Int { entries.count }

    /// The earliest deadline, if any.
    var firstDeadline: DispatchTime? { entries.first?.deadline }

    mutating func push(_ value: Value, at deadline: DispatchTime) {
        entries.append((deadline, value))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the value with the earliest deadline; the heap must not be empty.
    mutating func popFirst() -> Value {
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { return first.value }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
