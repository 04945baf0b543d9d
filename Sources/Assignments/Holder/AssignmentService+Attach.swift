import Foundation
import VFIOCore

extension AssignmentService {
    /// An active assignment the caller may see, and the files its holder is given
    /// (``HostKernel/holderFiles(group:endpoints:)``, read on the observer thread). Another state is
    /// ``AssignmentError/wrongState(_:_:)``.
    public func attachment(_ id: String, caller: Caller) async throws -> (Assignment, [HolderFile]) {
        let assignment = try await self.assignment(id, caller: caller)
        guard assignment.state == .active else { throw AssignmentError.wrongState(id, assignment.state) }
        let kernel = kernel
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        let files = try await observer.run(label: "holder-files") { kernel.holderFiles(group: assignment.groupID, endpoints: endpoints) }
        return (assignment, files)
    }

    /// Keeps a CDI spec of every active assignment in `directory` from now on (`--cdi-dir`): writes the
    /// current ones, removes files of assignments no longer active, then follows every change. Call once,
    /// after ``recover()``, from a thread that may block (like `recover()`).
    public func writeCDISpecs(to directory: String) throws {
        let specs = CDISpecDirectory(path: directory, kernel: kernel)
        cdi.withLock { $0 = specs }
        let database = database
        try specs.synchronise { try database.read { try AssignmentRecords.active(in: $0) } }
    }

    /// Stops the CDI writer's thread once its queue is done.
    public func stopCDISpecs() async {
        await cdi.withLock { $0 }?.shutdown()
    }

    /// Waits until the CDI directory reflects every change made so far (tests).
    public func cdiSpecsWritten() async {
        await cdi.withLock { $0 }?.flush()
    }

    /// Records a committed change: the live assignments, and the CDI directory when there is one.
    func published(_ assignment: Assignment) {
        live.set(assignment)
        cdi.withLock { $0 }?.changed(assignment)
    }
}
