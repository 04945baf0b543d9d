import Foundation
import HTTPServer
import Assignments
import VFIOCore

extension RouteTable {
    /// The reset preview, the reset, and the admin's way out of quarantine.
    mutating func addResetRoutes() {
        route("GET", "/v1/devices/{address}/reset-scope", .read) { [context] request, principal throws(APIError) in
            let query = try QueryParameters(request.query, allowed: ["method"])
            let address = try context.deviceAddress(request)
            let method = try ResetJSON.method(query["method"])
            let preview = try await context.withAssignments { try await $0.resetPreview(address, method: method) }
            let view = TenantView(principal, assignments: context.assignments)
            return .json(ResetJSON.preview(view.map { $0.redact(preview) } ?? preview))
        }
        route("POST", "/v1/devices/{address}/reset", .admin) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let address = try context.deviceAddress(request)
            var method: ResetMethod?
            if !request.body.isEmpty {
                try JSONBody.checkMediaType(request)
                let object = try JSONObject.parse(request.body)
                if object.keys.contains(where: { $0 != "method" }) { throw AssignmentBody.invalid("reset takes only method") }
                guard object["method"] == nil || object["method"] is String else {
                    throw AssignmentBody.invalid("method must be function or hot")
                }
                method = try ResetJSON.method(object["method"] as? String, field: true)
            }
            let caller = context.caller(request, principal)
            let operation = try await context.withAssignments { try await $0.requestReset(address, method: method, caller: caller) }
            return context.operationAccepted(operation)
        }
        route("DELETE", "/v1/devices/{address}/quarantine", .admin) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let address = try context.deviceAddress(request)
            let caller = context.caller(request, principal)
            guard let operation = try await context.withAssignments({ try await $0.clearQuarantine(address, caller: caller) }) else {
                return HTTPResponse(status: 204, headers: [], body: [])
            }
            return context.operationAccepted(operation)
        }
    }
}

extension APIContext {
    func deviceAddress(_ request: HTTPRequest) throws(APIError) -> PCIAddress {
        let text = request.pathParameters["address"] ?? ""
        guard let address = PCIAddress(text) else { throw .invalidAddress(text) }
        return address
    }

    /// `202` with the operation and where to follow it.
    func operationAccepted(_ operation: GroupOperation) -> HTTPResponse {
        var response = HTTPResponse.json(AssignmentJSON.operation(operation), status: 202)
        response.headers.append(("Location", "/v1/operations/\(operation.id)"))
        response.headers.append(("Operation-Location", "/v1/operations/\(operation.id)"))
        return response
    }
}

/// The reset preview's JSON shape.
enum ResetJSON {
    static func method(_ text: String?, field: Bool = false) throws(APIError) -> ResetMethod? {
        guard let text else { return nil }
        guard let method = ResetMethod(rawValue: text) else {
            if field { throw AssignmentBody.invalid("method must be function or hot") }
            throw .invalidParameter("method", "must be function or hot")
        }
        return method
    }

    static func preview(_ preview: ResetPreview) -> [UInt8] {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("device"); json.string(preview.device.description)
        json.key("method"); json.string(preview.method?.rawValue)
        json.key("reason"); json.string(preview.reason)
        json.key("assignmentId"); json.string(preview.assignmentID)
        json.key("groups"); json.beginArray(); for group in preview.groups { json.int(group) }; json.endArray()
        json.objects("devices", preview.devices) { json, device in
            json.key("address"); json.string(device.address.description)
            json.key("iommuGroup"); json.int(device.iommuGroup)
            json.key("driver"); json.string(device.driver)
            json.key("state"); json.string(device.state.rawValue)
            json.key("owner"); json.string(device.owner.rawValue)
            json.key("assignmentId"); json.string(device.assignmentID)
            json.key("isBridge"); json.bool(device.isBridge)
        }
        json.key("canReset"); json.bool(preview.canReset)
        json.objects("blockers", preview.blockers) { json, blocker in
            json.key("address"); json.string(blocker.address?.description)
            json.key("reason"); json.string(blocker.reason)
        }
        json.endObject()
        return json.bytes
    }
}
