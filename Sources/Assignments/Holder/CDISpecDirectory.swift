import Foundation
import ServiceLog
import Synchronization
import VFIOCore
import Workers

/// `--cdi-dir`: one CDI spec file per active assignment, `vfiod-<assignment>.json`, written when the
/// assignment becomes active and removed when it stops being active (releasing, released, lost …), each
/// atomically (a temporary file renamed over the name, or an unlink), on a thread of its own, in the order
/// the changes committed. A runtime reading the directory sees a whole spec or none.
final class CDISpecDirectory: Sendable {
    /// The directory.
    let path: String
    private let writer = DedicatedExecutor(name: "vfiod-cdi", queueLimit: 65536, stuckAfterSeconds: 30)
    private let kernel: any HostKernel

    init(path: String, kernel: any HostKernel) {
        self.path = path
        self.kernel = kernel
    }

    /// The spec file of `id`.
    func file(_ id: String) -> String { path + "/vfiod-\(id).json" }

    /// Queues the write or removal `assignment`'s state calls for.
    func changed(_ assignment: Assignment) {
        do {
            try writer.submit(label: "cdi") { [self] in apply(assignment) }
        } catch {
            Log.warning("cdi: cannot queue the spec of \(assignment.id): \(error)")
        }
    }

    /// Makes the directory hold exactly the specs of the assignments `active()` reads (at start: leases
    /// that ended while vfiod was down leave no file behind), on the writer's thread, after what is queued
    /// and before what comes later; blocks the calling thread (never a task) until it is done.
    func synchronise(active: @escaping @Sendable () throws -> [Assignment]) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        try writer.submit(label: "cdi-sync") { [self] in
            defer { done.signal() }
            do {
                let assignments = try active()
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                let keep = Set(assignments.map { "vfiod-\($0.id).json" })
                for name in try FileManager.default.contentsOfDirectory(atPath: path)
                where name.hasPrefix("vfiod-") && name.hasSuffix(".json") && !keep.contains(name) {
                    remove(path + "/" + name)
                }
                for assignment in assignments { apply(assignment) }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Waits until every queued write or removal is done (tests, shutdown).
    func flush() async {
        _ = try? await writer.run(label: "cdi-flush") {}
    }

    func shutdown() async {
        _ = await writer.shutdown(timeout: .seconds(5))
    }

    private func apply(_ assignment: Assignment) {
        guard assignment.state == .active else { return remove(file(assignment.id)) }
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        let spec = AttachSpecs.cdi(assignment, files: kernel.holderFiles(group: assignment.groupID, endpoints: endpoints))
        let target = file(assignment.id)
        let temporary = path + "/.vfiod-\(assignment.id).json.tmp"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data(spec).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, target) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            unlink(temporary)
            Log.warning("cdi: cannot write \(target): \(error)")
        }
    }

    private func remove(_ file: String) {
        if unlink(file) != 0 && errno != ENOENT { Log.warning("cdi: cannot remove \(file): \(String(cString: strerror(errno)))") }
    }
}
