import CZlib

/// gzip (RFC 1952) through the system zlib, for bodies compressed once and served many times.
public enum Gzip {
    /// `bytes` compressed at the best level, or nil when zlib refuses (out of memory).
    public static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        // Assumes zlib's z_stream may start zeroed (no custom allocator: zalloc/zfree/opaque nil).
        guard czlib_deflate_init_gzip(&stream, Z_BEST_COMPRESSION) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = bytes
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                // zlib reads `avail_in` bytes at `next_in` and writes at most `avail_out` at `next_out`; both
                // buffers outlive the call, and deflateBound's size lets one Z_FINISH call finish.
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// True when an `Accept-Encoding` value admits gzip (`gzip` or `*` without `q=0`).
    public static func isAccepted(by acceptEncoding: String?) -> Bool {
        guard let acceptEncoding else { return false }
        for item in acceptEncoding.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard let coding = parts.first?.lowercased(), coding == "gzip" || coding == "*" else { continue }
            let zero = parts.dropFirst().contains { parameter in
                let pair = String(parameter.lowercased().filter { $0 != " " && $0 != "\t" })
                return pair == "q=0" || pair.hasPrefix("q=0.") && pair.dropFirst(4).allSatisfy { $0 == "0" }
            }
            return !zero
        }
        return false
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
