internal import Glibc

/// One finished request, for the access log.
public struct AccessLogEntry: Sendable {
    /// When the request's headers arrived, in microseconds since the Unix epoch.
    public var unixTimeMicroseconds: Int64
    /// The request ID (echoed or generated).
    public var requestID: String
    /// The method, upper case.
    public var method: String
    /// The raw path (no query).
    public var path: String
    /// The status sent (0 when the connection broke before a response was queued).
    public var status: Int
    /// Body bytes in the response (0 for `HEAD`).
    public var bytes: Int
    /// From the request's headers arriving to the response being sent (or the connection ending).
    public var durationMicroseconds: Int64
    /// The peer's IP address.
    public var remote: String
    /// False when the connection ended before the whole response was sent.
    public var completed: Bool

    /// Makes an entry.
    public init(unixTimeMicroseconds: Int64, requestID: String, method: String, path: String, status: Int,
                bytes: Int, durationMicroseconds: Int64, remote: String, completed: Bool = true) {
        self.unixTimeMicroseconds = unixTimeMicroseconds
        self.requestID = requestID
        self.method = method
        self.path = path
        self.status = status
        self.bytes = bytes
        self.durationMicroseconds = durationMicroseconds
        self.remote = remote
        self.completed = completed
    }

    /// The time as RFC 3339 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`.
    public var timestamp: String {
        var seconds = time_t(unixTimeMicroseconds / 1_000_000)
        let micros = Int(unixTimeMicroseconds % 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + ".\(pad(micros, 6))Z"
    }

    /// The entry as one line of JSON (no trailing newline): `time`, `requestId`, `method`, `path`,
    /// `status`, `bytes`, `durationUs`, `remote`, `completed`.
    public var jsonLine: String {
        var json = JSONText(capacity: 256)
        json.beginObject()
        json.member("time", timestamp)
        json.member("requestId", requestID)
        json.member("method", method)
        json.member("path", path)
        json.member("status", status)
        json.member("bytes", bytes)
        json.member("durationUs", Int(durationMicroseconds))
        json.member("remote", remote)
        json.member("completed", rawJSON: Array((completed ? "true" : "false").utf8))
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }
}

/// Microseconds since the Unix epoch (CLOCK_REALTIME).
func currentUnixMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
}

/// Microseconds on a clock that never jumps (CLOCK_MONOTONIC), for durations.
func monotonicMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
}
