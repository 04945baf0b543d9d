import Foundation
public import VFIOCore

/// Locations of the repository's fixtures, found from this source file's path.
public enum Fixtures {
    /// The repository root (the directory holding `Package.swift`).
    public static func repositoryRoot(filePath: String = #filePath) -> String {
        var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
            url.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// `Tests/Fixtures/sysfs-snapshots`.
    public static var snapshotDirectory: String { repositoryRoot() + "/Tests/Fixtures/sysfs-snapshots" }

    /// A product SwiftPM built beside the test bundle (`vfiod`, `vfio-opener`).
    public static func builtExecutable(_ name: String) -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path,
            Bundle.main.bundleURL.appendingPathComponent(name).path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// `examples/topologies`.
    public static var topologyDirectory: String { repositoryRoot() + "/examples/topologies" }

    /// The snapshot archive names without `.tar.gz`, sorted.
    public static func snapshotNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshotDirectory)) ?? []
        return names.filter { $0.hasSuffix(".tar.gz") }.map { String($0.dropLast(7)) }.sorted()
    }

    /// Unpacks `<name>.tar.gz` into a new temporary directory (with `tar`); the directory is the host root.
    public static func unpackSnapshot(_ name: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: "snapshot")
        let tar = try ChildProcess.run("/bin/tar", ["-xzf", snapshotDirectory + "/" + name + ".tar.gz", "-C", directory.path])
        guard tar.exit.status == 0 else {
            directory.remove()
            throw FixtureError("tar -xzf \(name).tar.gz exited with \(tar.exit.status): \(tar.err)")
        }
        return directory
    }
}

/// A fixture that could not be prepared.
public struct FixtureError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under the system temporary directory, removed by ``remove()`` (or when released).
public final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: `path` is immutable; removal is idempotent.
    /// The directory's absolute path.
    public let path: String

    /// Creates `…/vfiod-<prefix>-XXXXXX`.
    public init(prefix: String = "test") throws {
        let base = NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("vfiod-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    /// The directory as host paths.
    public var hostPaths: HostPaths { HostPaths(root: path) }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }
}
