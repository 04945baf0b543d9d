import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator
#if canImport(Glibc)
import Glibc
#endif

/// One answer of the holder socket: the line parsed, and the descriptors that came with it (owned by the
/// test, closed by ``close()``).
struct HolderAnswer: @unchecked Sendable {
    // @unchecked: `json` is built once from the line and only read.
    let line: String?
    let descriptors: [Int32]
    var json: [String: Any] {
        line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
    }
    var ok: Bool { json["ok"] as? Bool == true }
    var code: String? { json["code"] as? String }
    var kinds: [String] { (json["fds"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String } }

    func close() { for fd in descriptors { Glibc.close(fd) } }
}

extension TestService {
    /// Sends `bytes` to the holder socket on a fresh connection and reads the answer.
    func holderExchange(_ bytes: [UInt8]) async throws -> HolderAnswer {
        let path = service.holderSocketPath
        return try await runOnDedicatedThread {
            let client = try HolderSocketClient(path: path)
            client.send(bytes)
            let (line, descriptors) = client.receive()
            return HolderAnswer(line: line, descriptors: descriptors)
        }
    }

    /// Asks for `assignment`'s descriptors at `generation`.
    func fetchDescriptors(_ assignment: String, generation: Int) async throws -> HolderAnswer {
        try await holderExchange(Array(#"{"assignment": "\#(assignment)", "generation": \#(generation)}"#.utf8) + [0x0a])
    }

    /// The assignment's current generation.
    func generation(of id: String) async throws -> Int {
        try #require(try await json("/v1/assignments/\(id)")["generation"] as? Int)
    }

    /// The audit rows of the holder socket (given and refused), oldest first.
    func holderAudit() async throws -> [[String: Any]] {
        try await items("/v1/audit?action=holder.descriptors_given") + items("/v1/audit?action=holder.descriptors_refused")
    }
}

/// What a descriptor or a path refers to: (device, inode), from `fstat` or `stat`.
func fileIdentity(fd: Int32) -> [UInt64] {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return [] }
    return [UInt64(info.st_dev), UInt64(info.st_ino)]
}

func fileIdentity(path: String) -> [UInt64] {
    var info = stat()
    guard stat(path, &info) == 0 else { return [] }
    return [UInt64(info.st_dev), UInt64(info.st_ino)]
}

/// Whether `fd` is close-on-exec.
func isCloseOnExec(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) & FD_CLOEXEC != 0 }

/// The lease host's tree, with every directory from it up to (not including) `/tmp` made traversable by
/// every uid, so an unprivileged holder can reach the socket and the request FIFOs.
func openToEveryone(_ root: String) {
    var path = root
    while path.count > 1, path != "/tmp" {
        chmod(path, 0o755)
        path = (path as NSString).deletingLastPathComponent
    }
}

/// Runs `vfio-opener --simulated --broker …` for `device` of `assignment`, as `uid`.
/// `extra` arguments go last (`--hold-seconds 0` for one that is to be refused: should it be given the
/// descriptors after all, it lets go at once and the test fails instead of waiting).
func brokerOpener(_ service: TestService, assignment: String, generation: Int, device: String, uid: Int,
                  onRequest: String = "close", extra: [String] = []) throws -> ChildProcess {
    let root = try #require(service.simulator).paths.root
    return try ChildProcess(executable: Fixtures.builtExecutable("vfio-opener"), arguments: [
        "--simulated", "--host-root", root, "--broker", service.service.holderSocketPath, "--assignment", assignment,
        "--generation", String(generation), "--device", device, "--uid", String(uid), "--on-request", onRequest,
    ] + extra)
}
