import Synchronization
import Inventory

/// Request counters and latency histograms by route, rendered as Prometheus text.
public final class Metrics: Sendable {
    private struct RouteKey: Hashable { let route: String; let method: String }
    private struct Latency {
        var buckets: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0

        mutating func record(_ seconds: Double, _ bucket: Int?) {
            if let bucket { buckets[bucket] += 1 }
            sum += seconds
            count += 1
        }
    }
    private struct State {
        var requests: [RouteKey: [Int: UInt64]] = [:]
        var latency: [RouteKey: Latency] = [:]
    }

    /// Upper bounds of the latency buckets, in seconds.
    static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    private let state = Mutex(State())

    /// Creates empty metrics.
    public init() {}

    /// Records one answered request.
    func observe(route: String, method: String, status: Int, seconds: Double) {
        let key = RouteKey(route: route, method: method)
        let bucket = Self.bounds.firstIndex(where: { seconds <= $0 })
        state.withLock { state in
            state.requests[key, default: [:]][status, default: 0] += 1
            // Updated in place: a copy taken out of the dictionary would copy its buckets on every request.
            state.latency[key, default: Latency(buckets: Array(repeating: 0, count: Self.bounds.count))].record(seconds, bucket)
        }
    }

    /// The Prometheus text exposition of the request metrics and the inventory gauges.
    func render(snapshot: InventorySnapshot?, refreshFailing: Bool, activity: InventoryActivity) -> String {
        var out = ""
        let (requests, latency) = state.withLock { ($0.requests, $0.latency) }
        out += "# HELP vfiod_http_requests_total HTTP requests answered, by route, method and status.\n"
        out += "# TYPE vfiod_http_requests_total counter\n"
        for (key, statuses) in requests.sorted(by: { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }) {
            for (status, count) in statuses.sorted(by: { $0.key < $1.key }) {
                out += "vfiod_http_requests_total{route=\"\(key.route)\",method=\"\(key.method)\",status=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP vfiod_http_request_duration_seconds Time from routing to response, by route and method.\n"
        out += "# TYPE vfiod_http_request_duration_seconds histogram\n"
        for (key, histogram) in latency.sorted(by: { ($0.key.route, $0.key.method) < ($1.key.route, $1.key.method) }) {
            let labels = "route=\"\(key.route)\",method=\"\(key.method)\""
            var cumulative: UInt64 = 0
            for (index, bound) in Self.bounds.enumerated() {
                cumulative += histogram.buckets[index]
                out += "vfiod_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "vfiod_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(histogram.count)\n"
            out += "vfiod_http_request_duration_seconds_sum{\(labels)} \(histogram.sum)\n"
            out += "vfiod_http_request_duration_seconds_count{\(labels)} \(histogram.count)\n"
        }
        if let snapshot {
            out += "# HELP vfiod_inventory_devices PCI functions in the current inventory snapshot, by state.\n"
            out += "# TYPE vfiod_inventory_devices gauge\n"
            let counts = snapshot.stateCounts
            for state in DeviceState.allCases {
                out += "vfiod_inventory_devices{state=\"\(state.rawValue)\"} \(counts[state] ?? 0)\n"
            }
            out += Self.single("vfiod_inventory_groups", "gauge", "IOMMU groups in the current inventory snapshot.",
                               "\(snapshot.groups.count)")
            out += Self.single("vfiod_inventory_generation", "counter", "Refreshes that produced the current snapshot.",
                               "\(snapshot.generation)")
            out += Self.single("vfiod_inventory_refresh_duration_seconds", "gauge", "Duration of the scan behind the current snapshot.",
                               "\(snapshot.scanDuration)")
        }
        out += Self.single("vfiod_inventory_refresh_failing", "gauge", "1 when the most recent refresh failed.",
                           refreshFailing ? "1" : "0")
        out += Self.single("vfiod_inventory_full_scans_total", "counter", "Full inventory scans published, the one at start included.",
                           "\(activity.fullScans)")
        out += Self.single("vfiod_inventory_driver_checks_total", "counter", "Periodic driver checks run.",
                           "\(activity.driverChecks)")
        out += Self.single("vfiod_inventory_devices_reread_total", "counter",
                           "Functions re-read one by one after a uevent or a driver check.", "\(activity.devicesReread)")
        return out
    }

    /// A metric with one unlabelled sample: its HELP and TYPE lines, then the sample.
    private static func single(_ name: String, _ type: String, _ help: String, _ value: String) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
    }
}
