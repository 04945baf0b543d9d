#if canImport(Glibc)
import Glibc
#endif
import Foundation
import VFIOCore

/// The number the next `vfio-dev/vfioN` gets, kept in `<root>/.vfiod-simulator/next-cdev` so that a process
/// opening the tree again never reuses a number handed out before (``SimulatorState/nextCdev`` is the
/// fallback for a tree saved before this file existed). Saving a number is one `pwrite(2)` of a
/// fixed-width decimal into a file kept open, instead of rewriting and renaming `state.json` at every bind
/// to vfio-pci. Callers serialise (the simulator's state lock).
final class CdevCounter: @unchecked Sendable {
    /// The file's path.
    let path: String
    private var fd: Int32 = -1
    /// Digits written, newline included: every write covers the whole file, so no old digit is left over.
    private static let width = 20

    init(directory: String) {
        path = directory + "/next-cdev"
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// The saved number; `nil` when there is no file or it does not parse.
    func read() -> Int? {
        guard let bytes = try? SysfsFiles.readBytes(path, limit: 64) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Saves `next` (the directory exists: the state file beside it was written first). Throws ``KernelError``.
    func save(_ next: Int) throws(KernelError) {
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw KernelError(call: "open", path: path, errno: errno) }
        }
        var text = String(next)
        text = String(repeating: " ", count: max(0, Self.width - 1 - text.count)) + text + "\n"
        let bytes = Array(text.utf8)
        // pwrite(2) of the whole fixed-width record at offset 0: one call, the file never shorter or longer.
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        guard written == bytes.count else { throw KernelError(call: "pwrite", path: path, errno: written < 0 ? errno : EIO) }
    }
}
