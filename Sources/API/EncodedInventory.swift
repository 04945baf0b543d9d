import Inventory
import VFIOCore
import EventStream
import Synchronization

/// A response body encoded once and served many times, with its strong ETag. A class, so the arrays of
/// them every encoded snapshot holds copy with one reference count per body.
final class EncodedBody: Sendable {
    let bytes: [UInt8]
    /// Where a leased device's `assignmentId` value lies in `bytes` (its redacted copy writes `null` there).
    let assignmentValue: Range<Int>?
    /// The ETag, worked out when a reader first asks: most bodies a patch encodes are only compared and
    /// published as events.
    private let hashed = MadeOnce<String>()

    init(_ bytes: [UInt8], assignmentValue: Range<Int>? = nil) {
        self.bytes = bytes
        self.assignmentValue = assignmentValue
    }

    /// The strong ETag of `bytes` (``ETag/of(_:)``).
    var etag: String { hashed.value { ETag.of(bytes) } }

    /// A device's body: its bytes and where its assignment lies in them.
    static func device(_ device: Device) -> EncodedBody {
        let (bytes, assignmentValue) = InventoryJSON.deviceLocatingAssignment(device)
        return EncodedBody(bytes, assignmentValue: assignmentValue)
    }
}

/// One snapshot, pre-encoded: every device and group as JSON bytes, and a bounded cache of list pages.
///
/// Built on the refresh thread when a snapshot arrives, so requests only copy bytes (docs/ARCHITECTURE.md,
/// "The inventory": encode once per snapshot, not once per request). What a patch needs no reader for —
/// the ETags, the host body, leased devices' redacted copies — is made once, when a reader first asks.
final class EncodedInventory: Sendable {
    let snapshot: InventorySnapshot
    /// The host body, encoded when a reader first asks (a patch changes it every time; few read it).
    private let encodedHost = MadeOnce<EncodedBody>()
    /// The host root the host body names.
    private let hostRoot: String
    let devices: [EncodedBody]
    let groups: [EncodedBody]
    private let pages = Mutex<[String: EncodedBody]>([:])
    private static let pageCacheLimit = 256
    /// Devices encoded without their `assignmentId`, made when an operator first asks for one.
    private let redacted = Mutex<[Int: EncodedBody]>([:])
    /// The indices of the devices under an assignment, found when an operator first asks.
    private let leased = Mutex<[Int]?>(nil)
    /// The event stream's cursor right after this snapshot's events were published (`X-Vfiod-Cursor`):
    /// set before the snapshot is served.
    private let publishedCursor = Mutex<EventCursor?>(nil)

    /// The cursor this snapshot is consistent with.
    var cursor: EventCursor? {
        get { publishedCursor.withLock { $0 } }
        set { publishedCursor.withLock { $0 = newValue } }
    }

    /// Encodes `snapshot`, reusing `previous`'s bytes for every device and group that did not change
    /// (a bind touches a few devices; the other thousands keep their bytes and ETags). When `snapshot`
    /// says what changed against `previous` (``InventorySnapshot/changes``), only those are encoded and
    /// nothing is compared; otherwise every device and group is compared with `previous`'s.
    init(snapshot: InventorySnapshot, hostRoot: String, previous: EncodedInventory? = nil) {
        self.snapshot = snapshot
        self.hostRoot = hostRoot
        if let previous, let changes = snapshot.changes(since: previous.snapshot),
           previous.devices.count == snapshot.devices.count, previous.groups.count == snapshot.groups.count {
            var devices = previous.devices
            for index in changes.devices { devices[index] = EncodedBody.device(snapshot.devices[index]) }
            var groups = previous.groups
            for index in changes.groups { groups[index] = EncodedBody(InventoryJSON.group(snapshot.groups[index])) }
            self.devices = devices
            self.groups = groups
            return
        }
        let old = previous?.snapshot
        self.devices = snapshot.devices.enumerated().map { index, device in
            if let old, let previous, index < old.devices.count, old.devices[index] == device { return previous.devices[index] }
            return EncodedBody.device(device)
        }
        self.groups = snapshot.groups.enumerated().map { index, group in
            if let old, let previous, index < old.groups.count, old.groups[index] == group { return previous.groups[index] }
            return EncodedBody(InventoryJSON.group(group))
        }
    }

    /// The host (`GET /v1/host`), encoded once per snapshot when first asked for.
    var host: EncodedBody { encodedHost.value { EncodedBody(InventoryJSON.host(snapshot, hostRoot: hostRoot)) } }

    /// Device `index` with `assignmentId` `null`, made once per snapshot: its bytes with the assignment
    /// written as `null` (the same bytes `InventoryJSON.device(_:showsAssignment: false)` writes); a
    /// device under no assignment is its own redacted copy.
    func redactedDevice(_ index: Int) -> EncodedBody {
        let full = devices[index]
        guard let assignmentValue = full.assignmentValue else { return full }
        if let cached = redacted.withLock({ $0[index] }) { return cached }
        let body = EncodedBody(InventoryJSON.redacted(full.bytes, assignmentValue: assignmentValue))
        redacted.withLock { $0[index] = body }
        return body
    }

    /// The indices of the devices that name an assignment.
    var leasedDevices: [Int] {
        if let cached = leased.withLock({ $0 }) { return cached }
        let indices = snapshot.devices.indices.filter { snapshot.devices[$0].assignmentID != nil }
        leased.withLock { $0 = indices }
        return indices
    }

    /// The cached page for `key`, or builds it with `make` and caches it.
    func page(_ key: String, make: () -> [UInt8]) -> EncodedBody {
        if let cached = pages.withLock({ $0[key] }) { return cached }
        let body = EncodedBody(make())
        pages.withLock { pages in
            if pages.count >= Self.pageCacheLimit { pages.removeAll(keepingCapacity: true) }
            pages[key] = body
        }
        return body
    }
}

/// `{"items": [...], "nextPageToken": ...}` from pre-encoded items.
enum ListBody {
    static func make(items: [[UInt8]], nextPageToken: String?) -> [UInt8] {
        var size = 40
        for item in items { size += item.count + 1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.append(contentsOf: Array("{\"items\":[".utf8))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: item)
        }
        bytes.append(contentsOf: Array("],\"nextPageToken\":".utf8))
        if let nextPageToken {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: Array(nextPageToken.utf8))
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.append(contentsOf: Array("null".utf8))
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// Strong entity tags from content: the same bytes give the same tag across refreshes and restarts.
enum ETag {
    /// FNV-1a 64 of the body, quoted.
    static func of(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return "\"" + Hex.pad(hash, 16) + "\""
    }

    /// Whether an `If-None-Match` header value matches `etag` (`*`, a list, weak forms included).
    static func matches(_ header: String?, _ etag: String) -> Bool {
        guard let header else { return false }
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
