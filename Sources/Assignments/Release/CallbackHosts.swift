#if canImport(Glibc)
import Glibc
#endif

/// The hosts a `callbackUrl` may name (`callbacks.allowedHosts` in the config file), so a lease cannot
/// make vfiod POST into any corner of the operator's network. Each entry is an IPv4 or IPv6 address, a
/// CIDR range of either (`10.1.0.0/16`, `fd00::/8`), or a host name matched exactly (case aside). A URL
/// whose host is an address literal is matched against the addresses and ranges only; a name, against
/// the names only — so `http://2130706433/` is not taken for 127.0.0.1.
public struct CallbackHosts: Sendable, Hashable, CustomStringConvertible {
    /// One address range: the address's bytes and how many leading bits must match.
    struct Range: Sendable, Hashable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            for bit in 0..<prefixLength where (address[bit / 8] ^ bytes[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
                return false
            }
            return true
        }
    }

    private var ranges: [Range] = []
    private var names: Set<String> = []
    /// The entries as given.
    public let entries: [String]

    /// Loopback only: `127.0.0.0/8`, `::1`, `localhost` — the default.
    public static let loopback = CallbackHosts(
        entries: ["127.0.0.0/8", "::1", "localhost"], names: ["localhost"],
        ranges: [Range(bytes: [127, 0, 0, 0], prefixLength: 8), Range(bytes: Array(repeating: 0, count: 15) + [1], prefixLength: 128)])

    private init(entries: [String], names: Set<String>, ranges: [Range]) {
        self.entries = entries
        self.names = names
        self.ranges = ranges
    }

    /// Parses `entries`; throws a message naming the first entry that is none of the three forms.
    public init(_ entries: [String]) throws(CallbackHostsError) {
        self.entries = entries
        for entry in entries {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            if let address = Self.addressBytes(String(parts[0])) {
                let bits = address.count * 8
                guard parts.count <= 2, parts.count == 1 || parts[1].utf8.allSatisfy({ (48...57).contains($0) }),
                      let length = parts.count == 2 ? Int(parts[1]) : bits, (0...bits).contains(length) else {
                    throw CallbackHostsError(entry: entry)
                }
                ranges.append(Range(bytes: address, prefixLength: length))
            } else if CallbackURL.isHostName(entry.utf8) {
                names.insert(entry.lowercased())
            } else {
                throw CallbackHostsError(entry: entry)
            }
        }
    }

    /// Whether `url`'s host is allowed.
    public func allows(_ url: CallbackURL) -> Bool {
        if let address = Self.addressBytes(url.host) { return ranges.contains { $0.contains(address) } }
        return names.contains(url.host.lowercased())
    }

    /// The entries, comma-separated.
    public var description: String { entries.joined(separator: ", ") }

    /// The 4 or 16 bytes of a dotted IPv4 or an IPv6 address; `nil` for anything else.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        // inet_pton(3) reads the NUL-terminated string and writes 4 bytes into `v4` (network order).
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        // inet_pton(3) reads the NUL-terminated string and writes 16 bytes into `v6`.
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// A `callbacks.allowedHosts` entry that is not an address, a CIDR range or a host name.
public struct CallbackHostsError: Error, Sendable, CustomStringConvertible {
    /// The entry.
    public let entry: String
    /// What is wrong, in one line.
    public var description: String {
        "callbacks.allowedHosts: \"\(entry)\" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or a host name"
    }
}
