import Foundation
import Testing
import TestSupport
import VFIOCore
import VFIOSimulator

/// `GET /v1/assignments/{id}/attach?format=qemu|libvirt|cdi` and `--cdi-dir`, on simulated hosts with
/// and without the device cdev and iommufd. CDI specs are checked against the CDI project's JSON schema
/// (`Tests/Fixtures/cdi-schema`, with Python's jsonschema).
@Suite(.serialized) struct AttachSpecTests {
    static let edu = "0000:05:00.0"

    func attach(_ service: TestService, _ id: String, _ format: String) async throws -> [String: Any] {
        let body = try await service.json("/v1/assignments/\(id)/attach?format=\(format)")
        ContractTests.expect(body, conformsTo: try OpenAPIDocument(), "GET", "/v1/assignments/{id}/attach", 200)
        return body
    }

    @Test func qemuAndLibvirtOnTheCdevPath() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let qemu = try await attach(service, id, "qemu")
            let cdev = try #require(try await service.json("/v1/devices/\(Self.edu)")["vfioCdev"] as? String)
            #expect(qemu["path"] as? String == "cdev")
            #expect(qemu["holderSocket"] as? String == service.service.holderSocketPath)
            #expect((qemu["descriptors"] as? [[String: Any]])?.compactMap { $0["path"] as? String }
                    == ["/dev/iommu", "/dev/vfio/devices/\(cdev)"])
            #expect(qemu["descriptorArguments"] as? [String]
                    == ["-object", "iommufd,id=iommufd0,fd={0}", "-device", "vfio-pci,id=hostdev0,fd={1},iommufd=iommufd0"])
            #expect(qemu["pathArguments"] as? [String]
                    == ["-object", "iommufd,id=iommufd0", "-device", "vfio-pci,id=hostdev0,host=\(Self.edu),iommufd=iommufd0"])
            // The request it names is the one the holder socket takes.
            let request = try #require(qemu["request"] as? String)
            let answer = try await service.holderExchange(Array(request.utf8) + [0x0a])
            #expect(answer.ok && answer.descriptors.count == 2, "\(answer.line ?? "no answer")")
            answer.close()

            let libvirt = try await attach(service, id, "libvirt")
            let hostdevs = try #require(libvirt["hostdevs"] as? [String])
            #expect(hostdevs.count == 1)
            #expect(hostdevs.first?.contains("<hostdev mode='subsystem' type='pci' managed='no'>") == true)
            #expect(hostdevs.first?.contains("<address domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>") == true)
            #expect(try validateCDI([try await service.get("/v1/assignments/\(id)/attach?format=cdi").body]) == ["ok"])
        }
    }

    @Test func theGroupPathHasNoDescriptorArgumentsAndItsCDISpecNamesTheGroup() async throws {
        var host = leaseHost()
        host.cdev = false
        host.iommufd = false
        try await withService(try await TestService(simulatedHost: host, allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            let qemu = try await attach(service, id, "qemu")
            #expect(qemu["path"] as? String == "group" && qemu["descriptorArguments"] is NSNull)
            #expect(qemu["pathArguments"] as? [String] == ["-device", "vfio-pci,id=hostdev0,host=\(Self.edu)"])
            let cdi = try await attach(service, id, "cdi")
            let device = try #require((cdi["devices"] as? [[String: Any]])?.first)
            #expect(device["name"] as? String == id)
            let nodes = (device["containerEdits"] as? [String: Any])?["deviceNodes"] as? [[String: Any]] ?? []
            #expect(nodes.compactMap { $0["path"] as? String } == ["/dev/vfio/vfio", "/dev/vfio/10"])
            let root = try #require(service.simulator).paths.root
            #expect(nodes.compactMap { $0["hostPath"] as? String } == [root + "/dev/vfio/vfio", root + "/dev/vfio/10"])
        }
    }

    @Test func onlyAnActiveAssignmentAndAKnownFormatAreAnswered() async throws {
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist)) { service in
            let id = try await service.lease(["device": Self.edu])
            for (query, status, code) in [("", 400, "invalid_parameter"), ("?format=docker", 400, "invalid_parameter"),
                                          ("?format=qemu&x=1", 400, "unknown_parameter")] {
                let (response, body) = try await service.send("GET", "/v1/assignments/\(id)/attach\(query)")
                #expect(response.status == status && body["code"] as? String == code, "\(query): \(response.bodyText)")
            }
            let (missing, body) = try await service.send("GET", "/v1/assignments/asg_nope/attach?format=cdi")
            #expect(missing.status == 404 && body["code"] as? String == "assignment_not_found")
            _ = try await service.release(id)
            let (released, problem) = try await service.send("GET", "/v1/assignments/\(id)/attach?format=cdi")
            #expect(released.status == 409 && problem["code"] as? String == "invalid_state", "\(released.bodyText)")
            ContractTests.expect(problem, conformsTo: try OpenAPIDocument(), "GET", "/v1/assignments/{id}/attach", 409, problem: true)
        }
    }

    @Test func theCDIDirectoryHoldsASpecWhileTheAssignmentIsActive() async throws {
        let cdi = try TemporaryDirectory(prefix: "cdi")
        defer { cdi.remove() }
        // A spec left by a lease that ended while vfiod was down goes at start; other files stay.
        try Data("{}".utf8).write(to: URL(fileURLWithPath: cdi.path + "/vfiod-asg_gone.json"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: cdi.path + "/other-vendor.json"))
        try await withService(try await TestService(simulatedHost: leaseHost(), allow: leaseAllowlist) { $0.cdiDirectory = cdi.path }) { service in
            #expect(try FileManager.default.contentsOfDirectory(atPath: cdi.path).sorted() == ["other-vendor.json"])
            let id = try await service.lease(["device": Self.edu])
            await service.service.assignments.cdiSpecsWritten()
            let file = cdi.path + "/vfiod-\(id).json"
            let written = try #require(FileManager.default.contents(atPath: file))
            #expect(Array(written) == (try await service.get("/v1/assignments/\(id)/attach?format=cdi")).body)
            #expect(try validateCDI([Array(written)]) == ["ok"])
            _ = try await service.release(id)
            await service.service.assignments.cdiSpecsWritten()
            #expect(!FileManager.default.fileExists(atPath: file))
            #expect(try FileManager.default.contentsOfDirectory(atPath: cdi.path).sorted() == ["other-vendor.json"])
        }
    }

    @Test func theSchemaCheckRefusesABrokenSpec() throws {
        let broken = #"{"cdiVersion": "1.1.0", "kind": "vfiod.io/group", "devices": [{"name": "x"}]}"#
        #expect(try validateCDI([Array(broken.utf8)]).first?.hasPrefix("invalid") == true)
    }

    /// Runs the CDI schema check on each spec; one word per spec, `ok` or `invalid …`.
    func validateCDI(_ specs: [[UInt8]]) throws -> [String] {
        let directory = try TemporaryDirectory(prefix: "cdi-check")
        defer { directory.remove() }
        var paths: [String] = []
        for (index, spec) in specs.enumerated() {
            let path = directory.path + "/spec\(index).json"
            try Data(spec).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let script = Fixtures.repositoryRoot() + "/Tests/Fixtures/cdi-schema/validate.py"
        let output = try ChildProcess.run("/usr/bin/python3", [script] + paths, mergingStandardError: true)
        return output.out.split(separator: "\n").map { line in line.hasPrefix("ok ") ? "ok" : String(line) }
    }
}
