import Foundation

/// A host root in a fresh temporary directory, holding whichever fake `/dev` files a test creates.
struct FakeHostRoot {
    /// The directory passed as `--host-root`.
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "vfio-opener-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Creates an empty regular file at `relative` (e.g. "/dev/vfio/vfio"): it opens, but every ioctl on it
    /// fails with ENOTTY.
    func addRegularFile(_ relative: String) throws {
        let full = path + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try expectFileCreated(FileManager.default.createFile(atPath: full, contents: Data()), full)
    }

    /// Deletes the directory and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Throws unless a file was created.
private func expectFileCreated(_ created: Bool, _ path: String) throws {
    if !created { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
}
