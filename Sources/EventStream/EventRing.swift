/// The last events published in this boot, oldest first, bounded by a count and by bytes: what a reader
/// resuming within the boot is replayed from. Not thread-safe: the hub guards it.
struct EventRing {
    /// The most events kept.
    let capacity: Int
    /// The most bytes kept (``PublishedEvent/size``).
    let capacityBytes: Int
    private var events: [PublishedEvent?]
    private var start = 0
    private(set) var count = 0
    private(set) var bytes = 0
    /// The cursor of the newest event that left the ring (the audit seq every reader of it had seen).
    private(set) var lastEvicted: EventCursor?

    init(capacity: Int, capacityBytes: Int) {
        self.capacity = max(1, capacity)
        self.capacityBytes = max(1, capacityBytes)
        events = Array(repeating: nil, count: self.capacity)
    }

    /// Appends `event`, dropping the oldest events past the bounds into `evicted` (the caller frees them,
    /// outside its lock).
    mutating func append(_ event: PublishedEvent, evicted: inout [PublishedEvent]) {
        while count > 0 && (count == capacity || bytes + event.size > capacityBytes) {
            guard let oldest = dropOldest() else { break }
            evicted.append(oldest)
        }
        events[(start + count) % capacity] = event
        count += 1
        bytes += event.size
    }

    private mutating func dropOldest() -> PublishedEvent? {
        guard let oldest = events[start] else { return nil }
        lastEvicted = oldest.cursor
        bytes -= oldest.size
        events[start] = nil
        start = (start + 1) % capacity
        count -= 1
        return oldest
    }

    /// The oldest number kept; `nil` when empty.
    var oldestNumber: UInt64? { count == 0 ? nil : events[start]?.cursor.number }

    /// The event numbered `number`, if kept.
    func event(numbered number: UInt64) -> PublishedEvent? {
        guard let oldest = oldestNumber, number >= oldest, number - oldest < UInt64(count) else { return nil }
        return events[(start + Int(number - oldest)) % capacity]
    }

    /// The events numbered after `number`, oldest first.
    func events(after number: UInt64) -> [PublishedEvent] {
        guard let oldest = oldestNumber else { return [] }
        let skip = number >= oldest ? Int(min(number - oldest + 1, UInt64(count))) : 0
        return (skip..<count).compactMap { events[(start + $0) % capacity] }
    }
}
