import CBenchEpoll
import Foundation
import Glibc

/// Many HTTP clients on non-blocking sockets, driven by one epoll loop: the event-stream readers and the
/// pollers of `vfiod-bench events`, cheap enough that 1,000 of them do not load the machine vfiod runs on.
final class EventReaders {
    /// One connection and what it has read and not yet parsed.
    struct Connection {
        var fd: Int32
        var buffer: [UInt8] = []
        var etag: String?
        var nextPoll = 0.0
        var waiting = false
        var seen: [String: String] = [:]
        var stream = StreamParser()
    }

    let port: UInt16
    private(set) var connections: [Connection] = []
    private let epoll: Int32
    /// Delivery delays in milliseconds: arrival minus the change's time (the audit row's `time`; for a
    /// poller, the assignment's `updatedAt`).
    private(set) var delays: [Double] = []
    /// Each audit row frame a stream delivered: its arrival (seconds after `epoch`) and its seq, for the
    /// delay from its commit (`CommitClock`).
    private(set) var arrivals: [Float] = []
    private(set) var seqs: [Int64] = []
    /// The zero of `arrivals`, seconds since 1970.
    let epoch = Date().timeIntervalSince1970
    /// Changes delivered to (or seen by) all clients together.
    private(set) var delivered = 0
    /// Streams whose response was `200` (one refused with `503 too_many_streams` is not counted).
    private(set) var opened = 0

    init(port: UInt16) {
        self.port = port
        epoll = epoll_create1(0)
    }

    /// Connects `count` clients; each sends `request(index)` at once when it gives one.
    func connect(_ count: Int, request: (Int) -> String?) throws {
        for index in 0..<count {
            // A TCP socket to 127.0.0.1:port, connected blocking, then made non-blocking for the loop.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, result == 0 else { throw BenchError.status(Int(errno)) }
            if let text = request(index) { send(fd, text) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            // The connection's index is the epoll event's data: the loop finds its buffer without a lookup.
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: UInt64(connections.count)))
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
            connections.append(Connection(fd: fd, nextPoll: Date().timeIntervalSince1970 + Double(connections.count % 1000) / 1000))
        }
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads streams until `deadline` (chunked bodies decoded); each `audit.appended` frame's `time` gives
    /// a delay, and its arrival and `seq` are kept.
    func readStreams(until deadline: Date) {
        loop(until: deadline) { index in
            let now = Date().timeIntervalSince1970
            // Both moved out and back, so neither is copied.
            var buffer: [UInt8] = [], parser = StreamParser()
            swap(&buffer, &connections[index].buffer)
            swap(&parser, &connections[index].stream)
            if parser.take(&buffer) { opened += 1 }
            parser.frames { seq, time in
                delivered += 1
                if let time { delays.append((now - time) * 1000) }
                if let seq {
                    arrivals.append(Float(now - epoch))
                    seqs.append(seq)
                }
            }
            swap(&buffer, &connections[index].buffer)
            swap(&parser, &connections[index].stream)
        }
    }

    /// Polls `path` on every connection once a second (with `If-None-Match`) until `deadline`; each
    /// assignment that appeared or whose `updatedAt` changed is a change seen, its delay now − `updatedAt`.
    func poll(_ path: String, until deadline: Date) {
        loop(until: deadline, tick: { [self] now in
            for index in connections.indices where !connections[index].waiting && connections[index].nextPoll <= now {
                var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                if let etag = connections[index].etag { request += "If-None-Match: \(etag)\r\n" }
                send(connections[index].fd, request + "\r\n")
                connections[index].waiting = true
                connections[index].nextPoll += 1
            }
        }) { index in
            guard let head = Self.find([13, 10, 13, 10], in: connections[index].buffer) else { return }
            let headText = String(decoding: connections[index].buffer[..<head], as: UTF8.self)
            let length = headText.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            guard connections[index].buffer.count >= head + 4 + length else { return }
            let body = Data(connections[index].buffer[(head + 4)..<(head + 4 + length)])
            connections[index].buffer.removeFirst(head + 4 + length)
            connections[index].waiting = false
            if let etag = headText.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("etag:") }) {
                connections[index].etag = String(etag.dropFirst(5)).trimmingCharacters(in: .whitespaces)
            }
            guard headText.hasPrefix("HTTP/1.1 200"),
                  let items = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["items"] as? [[String: Any]] else { return }
            let now = Date().timeIntervalSince1970
            var current: [String: String] = [:]
            for item in items {
                guard let id = item["id"] as? String, let updated = item["updatedAt"] as? String else { continue }
                current[id] = updated
                if connections[index].seen[id] != updated {
                    delivered += 1
                    if let time = Self.parse(Array(updated.utf8)[...]) { delays.append((now - time) * 1000) }
                }
            }
            delivered += connections[index].seen.keys.filter { current[$0] == nil }.count
            connections[index].seen = current
        }
    }

    private func loop(until deadline: Date, tick: (Double) -> Void = { _ in }, _ readable: (Int) -> Void) {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            tick(Date().timeIntervalSince1970)
            let count = epoll_wait(epoll, &events, Int32(events.count), 5)
            for event in events.prefix(Int(max(0, count))) {
                let index = Int(event.data.u64)
                // One recv per readiness (epoll is level-triggered: what is left is reported again), a
                // second only when the first filled the chunk.
                while true {
                    let got = recv(connections[index].fd, &chunk, chunk.count, 0)
                    if got <= 0 { break }
                    connections[index].buffer += chunk[..<got]
                    if got < chunk.count { break }
                }
                readable(index)
            }
        }
    }

    /// Closes every connection.
    func close() {
        for connection in connections { Glibc.close(connection.fd) }
        connections = []
        Glibc.close(epoll)
    }

    /// Seconds since 1970 of the `"time":"…"` in an audit row's JSON.
    static func time(in frame: ArraySlice<UInt8>) -> Double? {
        let key = Array("\"time\":\"".utf8)
        guard let start = find(key, in: frame), start + key.count + 24 <= frame.endIndex else { return nil }
        return parse(frame[(start + key.count)..<(start + key.count + 24)])
    }

    /// `2026-12-07T15:04:05.123Z` as seconds since 1970 (UTC; days counted as in the proleptic Gregorian
    /// calendar, without `timegm`, which the readers' loop would call for every frame).
    static func parse(_ text: ArraySlice<UInt8>) -> Double? {
        guard text.count >= 24 else { return nil }
        let start = text.startIndex
        func number(_ from: Int, _ count: Int) -> Int {
            text[(start + from)..<(start + from + count)].reduce(0) { $0 * 10 + Int($1) - 48 }
        }
        // Days since 1970-01-01 of year-month-day (the civil-from-days inverse, eras of 400 years).
        let month = number(5, 2), day = number(8, 2)
        let year = number(0, 4) - (month <= 2 ? 1 : 0)
        let era = year / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + number(11, 2) * 3600 + number(14, 2) * 60 + number(17, 2)
        return Double(seconds) + Double(number(20, 3)) / 1000
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        find(needle, in: haystack[start...])
    }

    /// The index (in `haystack`'s own indices) where `needle` starts.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        var index = haystack.startIndex
        while index <= haystack.endIndex - needle.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
