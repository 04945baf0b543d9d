/// Where a reader stands in the event stream: `A-n-B` as text, opaque to clients.
///
/// `A` is the highest audit seq the reader has seen every event for, `n` the per-boot number of the last
/// event delivered, `B` the boot tag of the vfiod process that numbered it. "Seen everything audited up to
/// A, and (in boot B) everything numbered up to n."
public struct EventCursor: Sendable, Hashable, CustomStringConvertible {
    /// The highest audit seq whose every event the reader has seen.
    public var auditSeq: Int64
    /// The per-boot number of the last event the reader has seen.
    public var number: UInt64
    /// The boot tag: lowercase hex made when vfiod started.
    public var boot: String

    /// Makes a cursor.
    public init(auditSeq: Int64, number: UInt64, boot: String) {
        self.auditSeq = auditSeq
        self.number = number
        self.boot = boot
    }

    /// Parses `A-n-B`; `nil` when the text is not a cursor (negative or oversized numbers, a boot tag that
    /// is not 1–32 lowercase hex digits, extra parts).
    public init?(parsing text: String) {
        guard text.utf8.count <= 80 else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, Self.isDigits(parts[0]), Self.isDigits(parts[1]),
              let audit = Int64(parts[0]), let number = UInt64(parts[1]),
              (1...32).contains(parts[2].utf8.count),
              parts[2].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.init(auditSeq: audit, number: number, boot: String(parts[2]))
    }

    /// `A-n-B`.
    public var description: String { "\(auditSeq)-\(number)-\(boot)" }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 19 && text.utf8.allSatisfy { (48...57).contains($0) }
    }
}
