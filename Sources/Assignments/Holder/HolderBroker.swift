import Foundation
import JSONString
import ServiceLog
import Store
import VFIOCore
import Workers

/// The holder socket's protocol: reads `{"assignment": ID, "generation": N}`, decides from the
/// assignment and the peer's uid (`SO_PEERCRED`) whether to give its VFIO descriptors, audits the fetch,
/// then answers one line with the descriptors attached, or a refusal with none. Knows nothing of HTTP;
/// the socket itself is ``HolderSocket``'s.
///
/// Lookups and audit writes suspend a task (the store executor, the committer); the files are opened on a
/// thread of this broker's own: nothing here blocks the poll thread or Swift's cooperative pool.
public final class HolderBroker: Sendable {
    private let service: AssignmentService
    private let opener = DedicatedExecutor(name: "vfiod-holder-open", queueLimit: 1024, stuckAfterSeconds: 30)

    /// A broker for the assignments of `service`.
    public init(service: AssignmentService) {
        self.service = service
    }

    /// ``HolderSocket``'s handler: runs on the poll thread, so it only starts a task.
    public func handle(_ connection: HolderConnection, _ event: HolderSocket.Event) {
        Task {
            switch event {
            case .line(let line): await fetch(line, for: connection)
            case .lineTooLong: await refuse(.lineTooLong, connection, assignment: nil)
            case .silent: await refuse(.silent, connection, assignment: nil)
            case .tooManyConnections: await refuse(.tooManyConnections, connection, assignment: nil)
            }
        }
    }

    /// Stops the opening thread (after the socket has stopped handing requests over).
    public func shutdown(timeout: Duration) async {
        _ = await opener.shutdown(timeout: timeout)
    }

    /// Decides, audits and answers one request.
    private func fetch(_ line: [UInt8], for connection: HolderConnection) async {
        var found: Assignment?
        do {
            let request = try HolderRequest.parse(line)
            let assignment = try await lookUp(request.assignment)
            found = assignment
            try check(request, assignment, peer: connection.peer)
            let (files, descriptors) = try await open(assignment)
            do {
                try await audit("holder.descriptors_given", assignment, connection.peer, error: nil,
                                detail: files.map { "\($0.kind.rawValue) \($0.devicePath)" }.joined(separator: ", "))
            } catch {
                Log.warning("holder socket: the fetch of \(assignment.id) by uid \(connection.peer.uid) could not be audited: \(error)")
                throw HolderRefusal.storageUnavailable
            }
            if !connection.reply(Self.given(files), passing: descriptors) {
                Log.warning("holder socket: pid \(connection.peer.pid) went away before \(assignment.id)'s descriptors were sent")
            }
        } catch let refusal as HolderRefusal {
            await refuse(refusal, connection, assignment: found)
        } catch {
            await refuse(.storageUnavailable, connection, assignment: found)
        }
    }

    /// The files the kernel offers for `assignment`'s group and their descriptors, read and opened on the
    /// broker's own thread (sysfs reads and VFIO opens block); a failure is `open_failed`.
    private func open(_ assignment: Assignment) async throws(HolderRefusal) -> ([HolderFile], HolderDescriptors) {
        let kernel = service.kernel
        let endpoints = assignment.endpoints.compactMap { PCIAddress($0.address) }
        do {
            return try await opener.run(label: "holder-open") {
                let files = kernel.holderFiles(group: assignment.groupID, endpoints: endpoints)
                return (files, try HolderDescriptors.open(files))
            }
        } catch {
            throw .openFailed(error)
        }
    }

    /// The assignment `id`, or `assignment_not_found`.
    private func lookUp(_ id: String) async throws -> Assignment {
        guard Identifier.isWellFormed(id, prefix: "asg") else { throw HolderRefusal.notFound(id) }
        let found = try await service.store { database in
            try database.read { try AssignmentRecords.get(id, in: $0) }
        }
        guard let found else { throw HolderRefusal.notFound(id) }
        return found
    }

    /// The refusals, in order: the peer first (another uid learns nothing of the lease's state), then the
    /// lease's state and time, then the fencing token.
    private func check(_ request: HolderRequest, _ assignment: Assignment, peer: PeerCredentials) throws(HolderRefusal) {
        guard peer.uid == 0 || peer.uid == assignment.holder.uid else { throw .notHolder(peer.uid, assignment) }
        if assignment.state == .releasing { throw .releasing(assignment) }
        guard assignment.state == .active else { throw .notActive(assignment) }
        guard assignment.expiresAt > service.now() else { throw .expired(assignment) }
        guard request.generation == assignment.generation else { throw .staleGeneration(request.generation, assignment) }
    }

    /// Audits a refusal, then answers it (no descriptors), as a fetch is audited before it is answered: a
    /// peer holding the answer finds its row in the history. A refusal that cannot be audited is logged and
    /// answered all the same.
    private func refuse(_ refusal: HolderRefusal, _ connection: HolderConnection, assignment: Assignment?) async {
        do {
            try await audit("holder.descriptors_refused", assignment, connection.peer, error: refusal.code, detail: refusal.detail)
        } catch {
            Log.warning("holder socket: refusal \(refusal.code) of uid \(connection.peer.uid) pid \(connection.peer.pid) could not be audited: \(error)")
        }
        connection.reply(Self.refused(refusal))
    }

    /// One audit row naming the peer (uid, pid, command) in `after`.
    private func audit(_ action: String, _ assignment: Assignment?, _ peer: PeerCredentials, error: String?, detail: String) async throws {
        let entry = AuditEntry(
            time: service.now(), actor: "holder-socket", requestID: nil, action: action, group: assignment?.groupID,
            assignment: assignment?.id, holder: assignment?.holder.id, tenant: assignment?.holder.tenant,
            after: ["peerUid": String(peer.uid), "peerPid": String(peer.pid), "peerCommand": peer.command],
            detail: detail, error: error)
        _ = try await service.database.write { connection in try AuditLog.append(entry, in: connection) }
    }

    /// `{"ok":true,"fds":[{"kind":"iommufd"},{"kind":"device","address":"…"},…]}`.
    static func given(_ files: [HolderFile]) -> [UInt8] {
        var out = Array(#"{"ok":true,"fds":["#.utf8)
        for (index, file) in files.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"kind":"#.utf8)
            JSONString.append(file.kind.rawValue, to: &out)
            if let address = file.address {
                out += Array(#","address":"#.utf8)
                JSONString.append(address.description, to: &out)
            }
            out += Array(#","path":"#.utf8)
            JSONString.append(file.devicePath, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        return out + Array("]}".utf8)
    }

    /// `{"ok":false,"code":CODE,"detail":TEXT}`.
    static func refused(_ refusal: HolderRefusal) -> [UInt8] {
        var out = Array(#"{"ok":false,"code":"#.utf8)
        JSONString.append(refusal.code, to: &out)
        out += Array(#","detail":"#.utf8)
        JSONString.append(refusal.detail, to: &out)
        return out + [UInt8(ascii: "}")]
    }
}
