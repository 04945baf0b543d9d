import Foundation
import HTTPServer
import Assignments
import VFIOCore

extension RouteTable {
    /// `GET /v1/assignments/{id}/attach?format=qemu|libvirt|cdi`: how to hand an active assignment's
    /// devices to QEMU, libvirt or a container runtime.
    mutating func addAttachRoutes() {
        route("GET", "/v1/assignments/{id}/attach", .read) { [context] request, principal throws(APIError) in
            let query = try QueryParameters(request.query, allowed: ["format"])
            let formats = AttachSpecs.Format.allCases.map(\.rawValue).joined(separator: ", ")
            guard let text = query["format"], let format = AttachSpecs.Format(rawValue: text) else {
                throw .invalidParameter("format", "must be one of \(formats)")
            }
            let id = request.pathParameters["id"] ?? ""
            let caller = context.caller(request, principal)
            let (assignment, files) = try await context.withAssignments { try await $0.attachment(id, caller: caller) }
            switch format {
            case .cdi: return .json(AttachSpecs.cdi(assignment, files: files))
            case .libvirt: return .json(AttachJSON.libvirt(assignment))
            case .qemu: return .json(AttachJSON.qemu(assignment, files: files,
                                                     socket: context.assignments.holderSocketPath.withLock { $0 }))
            }
        }
    }
}

/// The JSON of the `qemu` and `libvirt` attach formats (`openapi/openapi.yaml`, `AttachQemu`, `AttachLibvirt`).
enum AttachJSON {
    static func qemu(_ assignment: Assignment, files: [HolderFile], socket: String?) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("assignment"); json.string(assignment.id)
        json.key("generation"); json.int(assignment.generation)
        json.key("path"); json.string(files.first?.kind == .iommufd ? "cdev" : "group")
        json.key("holderSocket"); json.string(socket)
        json.key("request"); json.string("{\"assignment\": \"\(assignment.id)\", \"generation\": \(assignment.generation)}")
        json.objects("descriptors", files) { json, file in
            json.key("kind"); json.string(file.kind.rawValue)
            json.key("address"); json.string(file.address?.description)
            json.key("path"); json.string(file.devicePath)
        }
        json.key("descriptorArguments")
        if let arguments = AttachSpecs.qemuDescriptorArguments(files) { json.strings(arguments) } else { json.null() }
        json.key("pathArguments"); json.strings(AttachSpecs.qemuPathArguments(assignment, files: files))
        json.endObject()
        return json.bytes
    }

    static func libvirt(_ assignment: Assignment) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("assignment"); json.string(assignment.id)
        json.key("hostdevs"); json.strings(AttachSpecs.libvirtHostdevs(assignment))
        json.endObject()
        return json.bytes
    }
}
