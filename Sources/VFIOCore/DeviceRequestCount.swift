/// How many device requests the kernel relayed to a device's openers while one unbind waited, from the
/// part of it the kernel log shows.
///
/// `vfio_unregister_group_dev` (drivers/vfio/vfio_main.c) calls the driver's request callback at once and
/// then again after every wait of `HZ * 10` (`wait_for_completion_interruptible_timeout`) until the last
/// fd of the device is closed: requests #0, #1, … arrive every 10 s. vfio-pci's callback
/// (`vfio_pci_core_request`) signals the opener's eventfd each time but logs
/// `vfio-pci <addr>: Relaying device request to user (#N)` only when `N % 10 == 0`. So the log's newest
/// `#N` proves N + 1 requests (the *logged* count), and the cadence adds those made since: at least one per
/// full interval between when that line was first seen and the last moment an opener was still seen
/// holding on (the *inferred* count, never more than the kernel made: the line was written before it was
/// seen, and the wait went on at least until the opener was last seen).
public struct DeviceRequestCount: Sendable, Hashable {
    /// One `Relaying device request to user (#N)` line: N, the kernel's request index (0 for the first), and
    /// when the reader first saw the line (seconds on any clock the caller also uses for `heldUntil`).
    public typealias Sighting = (number: Int, seenAt: Double)

    /// The requests the log proves: the newest `#N` + 1; 0 without a line.
    public let logged: Int
    /// The requests made, at least: ``logged``, or more by the cadence.
    public let total: Int

    /// The requests of one device's unbind: `sightings` of its log lines, `heldUntil` the last time a
    /// opener was seen still holding the device (`nil`: never after a line), `interval` the kernel's
    /// (``kernelInterval``). Pure.
    public init(sightings: [Sighting], heldUntil: Double?, interval: Duration) {
        let seconds = Self.seconds(interval)
        var logged = 0, total = 0
        for sighting in sightings where sighting.number >= 0 {
            logged = max(logged, sighting.number + 1)
            var made = sighting.number + 1
            if let heldUntil, seconds > 0, heldUntil > sighting.seenAt {
                let intervals = ((heldUntil - sighting.seenAt) / seconds).rounded(.down)
                made += Int(min(intervals, Double(Int32.max)))
            }
            total = max(total, made)
        }
        self.logged = logged
        self.total = total
    }

    /// Whether ``total`` is more than the log shows (`inferred`) or exactly what it shows (`kernel-log`).
    public var isInferred: Bool { total > logged }

    /// The kernel's interval between two device requests: 10 s.
    public static let kernelInterval: Duration = .seconds(10)

    /// The text vfio-pci logs with each tenth request, before its ` (#N)`.
    public static let logText = "Relaying device request to user"

    /// N of `vfio-pci 0000:01:00.0: Relaying device request to user (#N)`; `nil` for any other text. Pure.
    public static func requestNumber(in text: String) -> Int? {
        guard let range = text.range(of: logText + " (#"), text.hasSuffix(")") else { return nil }
        let digits = text[range.upperBound..<text.index(before: text.endIndex)]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// `duration` in seconds.
    private static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
