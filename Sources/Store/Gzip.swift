import CZlib

/// Whole-buffer gzip (RFC 1952) through zlib, for the audit archive's segment files.
enum Gzip {
    /// zlib failed: its return code and what it was doing.
    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let operation: String
        var description: String { "gzip \(operation) failed (zlib \(code))" }
    }

    /// `bytes` as one gzip member, compressed at level 6.
    static func compress(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks deflateInit2 for a gzip header and trailer instead of zlib's.
        var code = deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                                 Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else { throw Failure(code: code, operation: "init") }
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target -> Int in
                // zlib reads avail_in bytes from next_in and writes at most avail_out to next_out; both
                // buffers outlive the call, and deflateBound says the output is large enough for Z_FINISH.
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                code = deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
        }
        guard code == Z_STREAM_END else { throw Failure(code: code, operation: "deflate") }
        return Array(output.prefix(produced))
    }

    /// The bytes of the gzip data `bytes` (one member); throws when it is damaged or cut short.
    static func decompress(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16: accept only a gzip wrapper.
        var code = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else { throw Failure(code: code, operation: "init") }
        defer { inflateEnd(&stream) }
        var input = bytes
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        code = input.withUnsafeMutableBufferPointer { source -> Int32 in
            // next_in stays valid for the whole loop; each inflate call writes at most avail_out bytes
            // into chunk, which is copied out before the next call.
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            var status: Int32 = Z_OK
            while status == Z_OK {
                status = chunk.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                result.append(contentsOf: chunk.prefix(chunk.count - Int(stream.avail_out)))
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
            return status
        }
        guard code == Z_STREAM_END else { throw Failure(code: code, operation: "inflate") }
        return result
    }
}
