import Foundation

/// Read-only connections to one database, each used by one thread at a time: readers on different threads
/// read side by side instead of queueing for a single connection.
///
/// A reader takes an idle connection, or opens one while fewer than `capacity` are open, or waits for one
/// to come back. Connections stay open for the next readers.
final class ReadConnections: @unchecked Sendable {
    /// At most this many connections are open (each keeps its own page cache).
    let capacity: Int
    private let open: () -> Connection?
    /// Guards `idle` and `opened`; readers waiting for a connection wait on it.
    private let condition = NSCondition()
    private var idle: [Connection]
    private var opened: Int

    /// Starts with `first` open; `open` opens another (`nil` when SQLite refuses it).
    init(first: Connection, capacity: Int, open: @escaping () -> Connection?) {
        self.capacity = max(1, capacity)
        self.open = open
        idle = [first]
        opened = 1
    }

    /// Runs `body` with a connection no other thread uses meanwhile.
    func with<T>(_ body: (Connection) throws -> T) rethrows -> T {
        let connection = take()
        defer { give(connection) }
        return try body(connection)
    }

    private func take() -> Connection {
        condition.lock()
        defer { condition.unlock() }
        // After a refused open, wait for a connection in use (the first one always exists) to come back.
        var mayOpen = true
        while true {
            if let connection = idle.popLast() { return connection }
            if mayOpen, opened < capacity {
                opened += 1
                // Opened without the lock (it touches the file); the pool may have changed meanwhile.
                condition.unlock()
                let connection = open()
                condition.lock()
                if let connection { return connection }
                opened -= 1
                mayOpen = false
                continue
            }
            condition.wait()
        }
    }

    private func give(_ connection: Connection) {
        condition.lock()
        idle.append(connection)
        condition.signal()
        condition.unlock()
    }
}
