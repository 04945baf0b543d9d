#if canImport(Glibc)
import Glibc
#endif

/// Reads kernel log records in the `/dev/kmsg` format, `prio,seq,usec,flags[,…];text\n` followed by
/// optional continuation lines that start with a space (` SUBSYSTEM=pci`).
///
/// The real `/dev/kmsg` returns one record per `read(2)` and `EAGAIN` (opened `O_NONBLOCK`) after the
/// newest; `EPIPE` means records were overwritten while reading, and the next read continues with the
/// oldest one left. A regular file in the same format (the simulator's `dev/kmsg`) is read to its end.
/// Both are read the same way: bytes are collected into lines, and continuation lines are skipped.
public enum KernelLogReader {
    /// Parses one record line (without its newline); `nil` for a continuation line or a line not in the
    /// format. Pure.
    public static func parseRecord<Bytes: Collection>(_ line: Bytes) -> KernelLogRecord? where Bytes.Element == UInt8 {
        guard let semicolon = line.firstIndex(of: UInt8(ascii: ";")), line.first != UInt8(ascii: " ") else { return nil }
        let fields = line[..<semicolon].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard fields.count >= 4, decimal(fields[0]) != nil,
              let sequence = decimal(fields[1]), let microseconds = decimal(fields[2]) else { return nil }
        let text = String(decoding: line[line.index(after: semicolon)...], as: UTF8.self)
        return KernelLogRecord(sequence: sequence, microseconds: microseconds, text: text)
    }

    /// Every record in `bytes` (records and continuation lines separated by newlines). Pure.
    public static func parseRecords(_ bytes: [UInt8]) -> [KernelLogRecord] {
        bytes.split(separator: 0x0a).compactMap { parseRecord($0) }
    }

    /// The records of the log at `path` (`<root>/dev/kmsg`) whose text contains `needle` and whose sequence
    /// number is above `after`, oldest first; empty when the file cannot be opened (not root, missing).
    ///
    /// Opens `O_RDONLY | O_NONBLOCK | O_CLOEXEC` and reads until `EAGAIN` or end of file. Blocking file
    /// I/O: call it off the cooperative pool.
    public static func records(at path: String, containing needle: String, after: UInt64?) -> [KernelLogRecord] {
        let fd = retryingEINTR { open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { return [] }
        defer { _ = close(fd) }
        var found: [KernelLogRecord] = []
        var pending: [UInt8] = []
        func take(_ line: ArraySlice<UInt8>) {
            guard let record = parseRecord(line), after.map({ record.sequence > $0 }) ?? true,
                  record.text.contains(needle) else { return }
            found.append(record)
        }
        // One kmsg record is at most 8 KiB (CONSOLE_EXT_LOG_MAX); a smaller read gets EINVAL from kmsg.
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            // read(2) into our own buffer; kmsg hands over one whole record per call.
            let got = buffer.withUnsafeMutableBytes { raw in retryingEINTR { read(fd, raw.baseAddress!, raw.count) } }
            if got < 0 && errno == EPIPE { continue }
            if got <= 0 { break }
            pending += buffer[0..<got]
            while let newline = pending.firstIndex(of: 0x0a) {
                take(pending[..<newline])
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { take(pending[...]) }
        return found
    }

    /// A decimal number made only of ASCII digits.
    private static func decimal<Bytes: Collection>(_ bytes: Bytes) -> UInt64? where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = added
        }
        return value
    }
}
