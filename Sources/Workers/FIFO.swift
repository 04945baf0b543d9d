/// A first-in, first-out queue with amortised O(1) append and removal from the front.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    /// The number of elements queued.
    var count: Int { storage.count - head }

    /// True when nothing is queued.
    var isEmpty: Bool { head == storage.count }

    /// Adds `element` at the back.
    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the front element, or nil when empty.
    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes and returns every element, front first.
    mutating func removeAll() -> [Element] {
        let elements = storage[head...].compactMap { $0 }
        storage.removeAll()
        head = 0
        return elements
    }
}
