#if canImport(Glibc)
import Glibc
#endif
public import VFIOCore
import Foundation

/// A simulated host: a private fake tree in a temporary directory, read with the same ``SysfsScanner`` as
/// the real kernel.
///
/// The source is a topology file (JSON, see `examples/topologies/README.md`) or a directory holding a
/// sysfs tree (an unpacked snapshot), which is copied with its symbolic links preserved. ``close()``
/// removes the private copy.
public final class SimulatedKernel: HostKernel {
    /// `simulated`.
    public let backend = "simulated"
    /// The private tree.
    public let paths: HostPaths
    /// The builder that wrote the tree; it can move driver links later.
    public let builder: SysfsTreeBuilder
    /// The host the tree was built from; `nil` for a copied directory.
    public let host: HostSpec?
    private let scanner: SysfsScanner

    /// Materialises `source` in a new temporary directory. Throws ``TopologyError`` for a bad topology file
    /// and ``KernelError`` for file-system failures.
    public init(source: String) throws {
        let directory = try Self.makeTemporaryDirectory()
        do {
            if SysfsFiles.isDirectory(source) {
                try TreeCopy.copy(from: source, to: directory)
                host = nil
            } else {
                let spec = try Topology.load(path: source)
                try SysfsTreeBuilder(root: directory).build(spec)
                host = spec
            }
        } catch {
            TreeCopy.remove(directory)
            throw error
        }
        paths = HostPaths(root: directory)
        builder = SysfsTreeBuilder(root: directory)
        scanner = SysfsScanner(paths: paths)
    }

    /// Reads the private tree. Blocking file I/O.
    public func scan() throws -> HostScan {
        try scanner.scan()
    }

    /// Removes the private tree.
    public func close() {
        TreeCopy.remove(paths.root)
    }

    /// `mkdtemp` under `$TMPDIR` (or `/tmp`).
    private static func makeTemporaryDirectory() throws -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/vfiod-sim-XXXXXX").utf8CString)
        // mkdtemp(3) rewrites the XXXXXX in our NUL-terminated buffer.
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw KernelError(call: "mkdtemp", path: base, errno: errno)
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
