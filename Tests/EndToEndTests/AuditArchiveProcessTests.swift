import App
import Foundation
import Glibc
import Store
import Testing
import TestSupport

/// `vfiod audit archive` killed (SIGKILL) at every point between reading the rows and committing the
/// checkpoint loses nothing and keeps nothing twice; the head is anchored in the log and at a witness.
@Suite(.serialized) struct AuditArchiveProcessTests {
    static let crashPoints = ["archive segment written", "archive segment synced", "archive segment renamed",
                              "archive segment in place", "archive rows deleted", "archive committed"]

    /// Runs `vfiod ARGUMENTS` with `environment` added; its exit and standard error.
    static func vfiod(_ arguments: [String], environment: [String: String] = [:]) async throws -> (exit: ChildProcess.Exit, err: String) {
        let child = try ChildProcess(executable: ProcessTests.binary, arguments: arguments,
                                     environment: ChildProcess.environment(adding: environment))
        let exit = try await runOnDedicatedThread { child.waitForExit() }
        try await runOnDedicatedThread { child.waitForEnd(of: .standardError) }
        return (exit, child.text(of: .standardError))
    }

    @Test func killingTheArchiverAtEveryPointLosesAndDuplicatesNothing() async throws {
        for label in Self.crashPoints {
            do {
                let scratch = try TemporaryDirectory(prefix: "archive")
                defer { scratch.remove() }
                let path = scratch.path + "/vfiod.db"
                let archive = scratch.path + "/archive"
                let database = try Database(path: path)
                try Migrator().apply(to: database)
                for index in 0..<40 {
                    try AuditLog.append(AuditEntry(actor: "system", action: "operation.step", detail: "row \(index)"), to: database)
                }
                let head = try AuditLog.head(in: database)
                let arguments = ["audit", "archive", "--db", path, "--before", "31", "--to", archive, "--segment-rows", "10"]
                let killed = try await Self.vfiod(arguments, environment: ["VFIOD_TEST_CRASH_ON": label])
                #expect(killed.exit.signaled && killed.exit.status == SIGKILL, "\(label): \(killed)")
                let afterCrash = try AuditArchive.verify(database, archive: archive)
                #expect(afterCrash.ok && afterCrash.count == 40 && afterCrash.headHash == head.hash, "\(label): \(afterCrash)")
                #expect(afterCrash.count == 40, "\(label): nothing lost, nothing twice")
                let checkpoint = try AuditLog.verify(database).checkpointSeq
                #expect(checkpoint == (label == "archive committed" ? 10 : 0), "\(label): checkpoint \(checkpoint)")

                // The run after the crash cuts segments elsewhere: a file the crash left uncommitted must go.
                let finished = try await Self.vfiod(Array(arguments.dropLast()) + ["15"])
                #expect(!finished.exit.signaled && finished.exit.status == 0, "\(label): \(finished.err)")
                let whole = try AuditArchive.verify(database, archive: archive)
                #expect(whole.ok && whole.count == 40 && whole.headHash == head.hash, "\(label): \(whole)")
                #expect(try AuditLog.verify(database).checkpointSeq == 30)
                let files = try FileManager.default.contentsOfDirectory(atPath: archive).filter { !$0.hasPrefix(".") }.sorted()
                let expected = label == "archive committed"
                    ? ["audit-000000000001-000000000010.jsonl.gz", "audit-000000000011-000000000025.jsonl.gz",
                       "audit-000000000026-000000000030.jsonl.gz"]
                    : ["audit-000000000001-000000000015.jsonl.gz", "audit-000000000016-000000000030.jsonl.gz"]
                #expect(files == expected, "\(label): only the committed segments are left: \(files)")
                let verified = try await Self.vfiod(["audit", "verify", "--db", path, "--archive", archive])
                #expect(verified.exit.status == 0)
            }
        }
    }

    @Test func theHeadGoesToTheLogAndTheWitnessAtStartAndShutdown() async throws {
        do {
            let scratch = try TemporaryDirectory(prefix: "witness")
            defer { scratch.remove() }
            let path = scratch.path + "/vfiod.db"
            let created = try await Self.vfiod(["token", "create", "--db", path, "--name", "ops", "--role", "admin"])
            #expect(created.exit.status == 0)
            let head = try AuditLog.head(in: Database(path: path))
            #expect(head.seq == 1)
            let witness = try WitnessListener()
            let config = URL(fileURLWithPath: scratch.path + "/vfiod.json")
            try Data("{\"audit\": {\"headIntervalMinutes\": 600, \"witnessUrl\": \"http://127.0.0.1:\(witness.port)/heads\"}}".utf8)
                .write(to: config)
            let service = try VFIODProcess(arguments: ["--db", path, "--config", config.path, "--simulate",
                                                       Fixtures.topologyDirectory + "/workstation.json", "--allow", "all"])
            #expect(try await service.waitUntilListening(), "\(service.output)")
            #expect(try await service.waitForOutput(containing: "audit head seq=1 hash=\(head.hash)"))
            await service.terminate()
            let bodies = try await runOnDedicatedThread { witness.receive(2) }
            let posted = bodies.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
            #expect(posted.map { $0["reason"] as? String } == ["start", "shutdown"], "\(bodies)")
            #expect(posted.allSatisfy { $0["seq"] as? Int == 1 && $0["hash"] as? String == head.hash })
            #expect(service.output.contains("audit head seq=1 hash=\(head.hash)"), "\(service.output)")
            #expect(service.output.contains("reason=shutdown"))
        }
    }
}

/// A one-thread HTTP listener on 127.0.0.1 that answers 204 to each request and keeps the bodies.
final class WitnessListener: Sendable {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // bind(2)/getsockname(2) read and fill a sockaddr_in through the sockaddr pointer, as the kernel expects.
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        port = UInt16(bigEndian: address.sin_port)
        // accept(2) gives up after 30 s, so a witness never called fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Accepts `count` requests one after another (or fewer, when one does not come within 30 s); their bodies.
    func receive(_ count: Int) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        for _ in 0..<count {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { break }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !Self.isComplete(request) {
                // recv(2) writes at most buffer.count bytes into our buffer.
                let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                request += buffer[..<n]
            }
            let answer = Array("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            // send(2) reads the answer's bytes from our array.
            _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
            if let split = Self.headEnd(request) { bodies.append(Array(request[split...])) }
        }
        return bodies
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == marker }.map { $0 + 4 }
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headEnd(bytes) else { return false }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) else { return true }
        return bytes.count - end >= length
    }
}

/// The retention policy in the config file archives by itself, and the API verifies from its checkpoint.
@Suite struct AuditRetentionTests {
    @Test func thePolicyArchivesAllButTheRowsToKeepAndVerifyStartsAtTheCheckpoint() async throws {
        let scratch = try TemporaryDirectory(prefix: "retention")
        defer { scratch.remove() }
        let path = scratch.path + "/vfiod.db"
        let database = try Database(path: path)
        try Migrator().apply(to: database)
        for index in 0..<30 { try AuditLog.append(AuditEntry(actor: "system", action: "operation.step", detail: "row \(index)"), to: database) }
        let config = """
            {"audit": {"retention": {"keepRows": 5, "archiveDirectory": "\(scratch.path)/archive", "checkIntervalMinutes": 600}}}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: scratch.path + "/vfiod.json"))
        let service = try VFIODProcess(arguments: ["--db", path, "--config", scratch.path + "/vfiod.json", "--no-auth",
                                                   "--simulate", Fixtures.topologyDirectory + "/workstation.json", "--allow", "all"])
        #expect(try await service.waitUntilListening(), "\(service.output)")
        #expect(try await service.waitForOutput(containing: "audit archive: moved 25 rows"), "\(service.output)")
        let verify = try await service.send("GET", "/v1/audit/verify")
        #expect(verify.body["ok"] as? Bool == true && verify.body["checkpointSeq"] as? Int == 25, "\(verify.body)")
        #expect(verify.body["count"] as? Int ?? 0 >= 5)
        let page = try await service.send("GET", "/v1/audit?pageSize=2")
        let seqs = (page.body["items"] as? [[String: Any]])?.compactMap { $0["seq"] as? Int }
        #expect(seqs == [26, 27])
        await service.terminate()
        let whole = try AuditArchive.verify(database, archive: scratch.path + "/archive")
        #expect(whole.ok && whole.count >= 30, "\(whole)")
    }
}

/// The config file's `audit` object: what it refuses, and the command line's `audit` verbs' arguments.
@Suite struct AuditConfigurationTests {
    @Test func badAuditSettingsAreRefusedWithTheKeyNamed() throws {
        let directory = try TemporaryDirectory(prefix: "audit-config")
        defer { directory.remove() }
        func parse(_ json: String) throws -> Command {
            let path = directory.path + "/vfiod.json"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try Command.parse(["serve", "--config", path])
        }
        _ = try parse(#"{"audit": {"headIntervalMinutes": 1, "witnessUrl": "http://127.0.0.1:9/heads", "retention": {"keepDays": 30, "archiveDirectory": "/var/lib/vfiod/archive"}}}"#)
        let refused = [
            (#"{"audit": {"headIntervalMinutes": 0}}"#, "audit.headIntervalMinutes"),
            (#"{"audit": {"witnessUrl": "https://witness.example/"}}"#, "audit.witnessUrl"),
            (#"{"audit": {"retention": {"keepRows": 10}}}"#, "audit.retention.archiveDirectory"),
            (#"{"audit": {"retention": {"keepRows": 10, "archiveDirectory": "relative"}}}"#, "audit.retention.archiveDirectory"),
            (#"{"audit": {"retention": {"archiveDirectory": "/a"}}}"#, "keepDays or keepRows"),
            (#"{"audit": {"retention": {"keepRows": 0, "archiveDirectory": "/a"}}}"#, "audit.retention.keepRows"),
        ]
        for (json, named) in refused {
            let error = #expect(throws: ConfigurationError.self, "\(json)") { try parse(json) }
            #expect(error?.description.contains(named) == true, "\(json): \(String(describing: error))")
        }
        let usage = [["audit", "archive", "--db", "x.db", "--to", "d"], ["audit", "archive", "--db", "x.db", "--before", "yesterday", "--to", "d"],
                     ["audit", "archive", "--db", "x.db", "--before", "0", "--to", "d"], ["audit", "verify"], ["audit", "prune", "--db", "x.db"]]
        for arguments in usage {
            #expect(throws: ConfigurationError.self, "\(arguments)") { try Command.parse(arguments) }
        }
    }
}
