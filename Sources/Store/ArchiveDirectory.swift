import Foundation

/// The archive directory's files: segments written durably (temporary name, `fsync`, rename, `fsync` of
/// the directory), an exclusive lock while one archiver works, and the names segments get.
struct ArchiveDirectory {
    /// The directory's path.
    let path: String

    /// The file name of the segment holding seqs `first…last`: zero-padded so names sort as seqs do.
    static func segmentName(first: Int64, last: Int64) -> String {
        "audit-" + padded(first) + "-" + padded(last) + ".jsonl.gz"
    }

    /// The first seq a segment name (or its temporary `.tmp` name) says it holds; nil for other files.
    static func firstSeq(ofSegment name: String) -> Int64? {
        var stem = name
        if stem.hasSuffix(".tmp") { stem.removeLast(4) }
        guard stem.hasPrefix("audit-"), stem.hasSuffix(".jsonl.gz") else { return nil }
        let parts = stem.dropFirst(6).dropLast(9).split(separator: "-")
        guard parts.count == 2, let first = Int64(parts[0]), Int64(parts[1]) != nil else { return nil }
        return first
    }

    private static func padded(_ seq: Int64) -> String {
        let digits = String(seq)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Creates the directory if missing and takes its lock (`.lock`, `flock`, not waiting): throws
    /// `busy` when another archiver holds it. The lock goes with the returned descriptor (or the process).
    func lock() throws -> Int32 {
        if !FileManager.default.fileExists(atPath: path) {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw AuditArchiveError.file(path: path, operation: "create", errno: EIO)
            }
        }
        let lockPath = path + "/.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw AuditArchiveError.file(path: lockPath, operation: "open", errno: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw AuditArchiveError.busy(directory: path) }
            throw AuditArchiveError.file(path: lockPath, operation: "lock", errno: code)
        }
        return descriptor
    }

    /// Removes segment files (and temporaries) that begin after `checkpoint`: left by an archiver that
    /// stopped before its commit, so no checkpoint names them and their rows are still in the database.
    func removeUncommitted(after checkpoint: Int64) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw AuditArchiveError.file(path: path, operation: "list", errno: EIO)
        }
        var removed = false
        for name in names {
            guard let first = Self.firstSeq(ofSegment: name), first > checkpoint else { continue }
            guard unlink(path + "/" + name) == 0 || errno == ENOENT else {
                throw AuditArchiveError.file(path: path + "/" + name, operation: "remove", errno: errno)
            }
            removed = true
        }
        if removed { try syncDirectory() }
    }

    /// Writes `bytes` as `name`: to `name.tmp`, `fsync`, then renamed and the directory synced, so the
    /// file is whole and durable under its name before this returns. `crashPoint` marks the steps.
    func writeDurably(_ bytes: [UInt8], as name: String, crashPoint: (String) -> Void) throws {
        let temporary = path + "/" + name + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw AuditArchiveError.file(path: temporary, operation: "create", errno: errno) }
        var written = 0
        while written < bytes.count {
            // write(2) copies from the array's buffer, which stays alive for the call.
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let code = errno
                close(descriptor)
                throw AuditArchiveError.file(path: temporary, operation: "write", errno: code)
            }
            written += result
        }
        crashPoint("archive segment written")
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            throw AuditArchiveError.file(path: temporary, operation: "fsync", errno: code)
        }
        close(descriptor)
        crashPoint("archive segment synced")
        guard rename(temporary, path + "/" + name) == 0 else {
            throw AuditArchiveError.file(path: temporary, operation: "rename", errno: errno)
        }
        crashPoint("archive segment renamed")
        try syncDirectory()
        crashPoint("archive segment in place")
    }

    /// The bytes of the file `name`.
    func read(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
            throw AuditArchiveError.file(path: path + "/" + name, operation: "read", errno: ENOENT)
        }
        return [UInt8](data)
    }

    private func syncDirectory() throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AuditArchiveError.file(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw AuditArchiveError.file(path: path, operation: "fsync", errno: errno) }
    }
}
