#if canImport(Glibc)
import Glibc
#endif

/// Reads the PCI Express Device Serial Number extended capability (ID 0x0003) from a `config` file.
///
/// Extended capabilities start at offset 0x100, so only a reader allowed the full 4 KiB config space (root)
/// sees them; an unprivileged read of `config` stops at 64 bytes and yields no serial number.
public enum PCIConfigSpace {
    /// The extended capability ID of the Device Serial Number.
    public static let serialNumberCapabilityID: UInt32 = 0x0003

    /// The serial number as `xx-xx-xx-xx-xx-xx-xx-xx` (most significant byte first, as `lspci` prints it),
    /// or `nil` when the file is shorter than the extended space or has no such capability.
    public static func serialNumber(configPath: String) -> String? {
        let fd = retryingEINTR { open(configPath, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var offset = 0x100
        // Each capability header is 4 bytes, capabilities are dword aligned in 0x100..<0x1000: the chain has
        // at most (0x1000 - 0x100) / 4 links, a bound that also stops a malicious loop.
        for _ in 0..<((0x1000 - 0x100) / 4) {
            guard let header = readDword(fd, at: offset), header != 0, header != 0xffff_ffff else { return nil }
            if header & 0xffff == serialNumberCapabilityID {
                guard let low = readDword(fd, at: offset + 4), let high = readDword(fd, at: offset + 8) else {
                    return nil
                }
                return format(UInt64(high) << 32 | UInt64(low))
            }
            let next = Int((header >> 20) & 0xffc)
            guard next >= 0x100, next != offset else { return nil }
            offset = next
        }
        return nil
    }

    /// `0x0011223344556677` → `00-11-22-33-44-55-66-77`.
    public static func format(_ serial: UInt64) -> String {
        var parts: [String] = []
        for shift in stride(from: 56, through: 0, by: -8) {
            let byte = UInt8(truncatingIfNeeded: serial >> UInt64(shift))
            parts.append(byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16))
        }
        return parts.joined(separator: "-")
    }

    /// Parses `00-11-22-33-44-55-66-77` back to its value.
    public static func parse(_ text: String) -> UInt64? {
        let parts = text.split(separator: "-")
        guard parts.count == 8 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        return value
    }

    /// One little-endian dword at `offset`; `nil` past the end of the file.
    private static func readDword(_ fd: Int32, at offset: Int) -> UInt32? {
        var value: UInt32 = 0
        // pread(2) of 4 bytes into a local UInt32; config space is little-endian, as is every Linux host
        // vfiod supports (x86-64, arm64), so the bytes need no swapping beyond littleEndian.
        let got = withUnsafeMutableBytes(of: &value) { raw in
            retryingEINTR { pread(fd, raw.baseAddress!, 4, off_t(offset)) }
        }
        return got == 4 ? UInt32(littleEndian: value) : nil
    }
}
