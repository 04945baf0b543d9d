/// The network interfaces that carry a default route, from `proc/net/route` (destination `00000000`) and
/// `proc/net/ipv6_route` (`::/0`).
struct DefaultRoute {
    /// Interface names with a default route.
    let interfaces: Set<String>

    /// Reads the routing tables under `paths`; missing tables mean no default route.
    init(paths: HostPaths) {
        var found: Set<String> = []
        if let table = try? SysfsFiles.readBytes(paths.proc("net/route"), limit: 1 << 20) {
            for line in table.split(separator: 0x0a).dropFirst() {
                let fields = line.split(whereSeparator: { $0 == 0x09 || $0 == 0x20 })
                guard fields.count >= 8 else { continue }
                if fields[1].elementsEqual("00000000".utf8), fields[7].elementsEqual("00000000".utf8) {
                    found.insert(String(decoding: fields[0], as: UTF8.self))
                }
            }
        }
        if let table = try? SysfsFiles.readBytes(paths.proc("net/ipv6_route"), limit: 1 << 20) {
            let zero = [UInt8](repeating: UInt8(ascii: "0"), count: 32)
            for line in table.split(separator: 0x0a) {
                let fields = line.split(separator: 0x20)
                guard fields.count >= 10, fields[0].elementsEqual(zero), fields[1].elementsEqual("00".utf8) else { continue }
                let name = String(decoding: fields[9], as: UTF8.self)
                if name != "lo" { found.insert(name) }
            }
        }
        interfaces = found
    }
}
