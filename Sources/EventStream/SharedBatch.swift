/// One publish's frames for one kind of reader (an ``EventReader``: scope and filters), worked out once
/// and shared by every stream of that kind: what each of them is sent is one reference to `bytes`, not
/// a filter pass and a copy per stream.
final class SharedBatch: Sendable {
    /// The events this kind of reader gets, with their frames, in order.
    let frames: [(event: PublishedEvent, frame: [UInt8])]
    /// The frames together.
    let bytes: [UInt8]
    /// The lowest audit seq among `frames` (`Int64.max`: none is durable).
    let lowestAuditSeq: Int64

    init(reader: EventReader, events: [PublishedEvent]) {
        var frames: [(event: PublishedEvent, frame: [UInt8])] = []
        var lowest = Int64.max
        for event in events {
            guard let frame = reader.frame(of: event) else { continue }
            frames.append((event, frame))
            if let seq = event.draft.auditSeq { lowest = min(lowest, seq) }
        }
        self.frames = frames
        lowestAuditSeq = lowest
        if frames.count == 1 {
            bytes = frames[0].frame
        } else {
            var joined: [UInt8] = []
            joined.reserveCapacity(frames.reduce(0) { $0 + $1.frame.count })
            for (_, frame) in frames { joined.append(contentsOf: frame) }
            bytes = joined
        }
    }
}

/// The kinds of reader the open streams are, each numbered, so that a publish works out each kind's
/// ``SharedBatch`` once. Not thread-safe: the hub guards it.
struct ReaderKinds {
    private var numbers: [EventReader: Int] = [:]

    /// How many numbers are in use (the size of a publish's table of batches).
    var count: Int { numbers.count }

    /// The number of `reader`'s kind, made when it is new.
    mutating func number(of reader: EventReader) -> Int {
        if let number = numbers[reader] { return number }
        let number = numbers.count
        numbers[reader] = number
        return number
    }

    /// Whether kinds no open stream is any more should be forgotten (renumbering the rest).
    func isStale(open: Int) -> Bool { numbers.count > 2 * open + 64 }

    /// Forgets every kind.
    mutating func removeAll() { numbers.removeAll() }
}
