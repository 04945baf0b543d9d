import HTTPServer
import Inventory
import VFIOCore

extension RouteTable {
    mutating func addInventoryRoutes() {
        cachedRoute("GET", "/v1/host", .read) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let encoded = try context.current
            return context.withCursor(context.conditional(encoded.host, request), encoded)
        }
        cachedRoute("GET", "/v1/devices", .read) { [context] request, principal throws(APIError) in
            try context.listDevices(request, view: TenantView(principal, assignments: context.assignments))
        }
        cachedRoute("GET", "/v1/devices/{address}", .read) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let text = request.pathParameters["address"] ?? ""
            guard let address = PCIAddress(text) else { throw .invalidAddress(text) }
            let encoded = try context.current
            guard let index = encoded.snapshot.deviceIndex(of: address) else {
                throw .deviceNotFound(address.description)
            }
            if let view = TenantView(principal, assignments: context.assignments), view.hides(encoded.snapshot.devices[index].assignmentID) {
                return context.withCursor(context.conditional(encoded.redactedDevice(index), request), encoded)
            }
            return context.withCursor(context.conditional(encoded.devices[index], request), encoded)
        }
        cachedRoute("GET", "/v1/groups", .read) { [context] request, _ throws(APIError) in
            try context.listGroups(request)
        }
        cachedRoute("GET", "/v1/groups/{id}", .read) { [context] request, _ throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let text = request.pathParameters["id"] ?? ""
            guard (1...10).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }),
                  let id = Int(text) else { throw .invalidGroupID(text) }
            let encoded = try context.current
            guard let index = encoded.snapshot.groupIndex(of: id) else { throw .groupNotFound(id) }
            return context.withCursor(context.conditional(encoded.groups[index], request), encoded)
        }
    }

}

extension APIContext {
    /// A page of devices; for an operator `view`, other tenants' `assignmentId` is `null`.
    func listDevices(_ request: HTTPRequest, view: TenantView?) throws(APIError) -> HTTPResponse {
        let query = try QueryParameters(request.query, allowed: DeviceFilter.parameters)
        let filter = try DeviceFilter(query)
        let size = try Paging.size(query["pageSize"])
        var start = 0
        let encoded = try current
        let snapshot = encoded.snapshot
        if let tokenText = query["pageToken"] {
            let token = try PageToken(decoding: tokenText, kind: "devices", filterKey: filter.key)
            guard let after = PCIAddress(token.lastKey) else { throw .invalidPageToken("the page token is damaged") }
            start = snapshot.firstDeviceIndex(after: after)
        }
        // Pages with another tenant's lease hidden are cached under the operator's tenant; every other
        // caller shares one page.
        let hidden = view?.hiddenDevices(encoded) ?? []
        let variant = hidden.isEmpty ? "" : "|for:" + (view?.tenant ?? "")
        let body = encoded.page("devices|\(filter.key)|\(start)|\(size)" + variant) {
            var items: [[UInt8]] = []
            var index = start
            var last: PCIAddress?
            while index < snapshot.devices.count, items.count < size {
                if filter.matches(snapshot.devices[index]) {
                    items.append(hidden.contains(index) ? encoded.redactedDevice(index).bytes : encoded.devices[index].bytes)
                    last = snapshot.devices[index].address
                }
                index += 1
            }
            let more = snapshot.devices[index...].contains(where: filter.matches)
            let next = more ? last.map { PageToken(kind: "devices", lastKey: $0.description, filterKey: filter.key).encoded } : nil
            return ListBody.make(items: items, nextPageToken: next)
        }
        return withCursor(conditional(body, request), encoded)
    }

    func listGroups(_ request: HTTPRequest) throws(APIError) -> HTTPResponse {
        let query = try QueryParameters(request.query, allowed: GroupFilter.parameters)
        let filter = try GroupFilter(query)
        let size = try Paging.size(query["pageSize"])
        var after = -1
        if let tokenText = query["pageToken"] {
            let token = try PageToken(decoding: tokenText, kind: "groups", filterKey: filter.key)
            guard let id = Int(token.lastKey) else { throw .invalidPageToken("the page token is damaged") }
            after = id
        }
        let encoded = try current
        let groups = encoded.snapshot.groups
        let body = encoded.page("groups|\(filter.key)|\(after)|\(size)") {
            var items: [[UInt8]] = []
            var index = groups.firstIndex { $0.id > after } ?? groups.count
            var last: Int?
            while index < groups.count, items.count < size {
                if filter.matches(groups[index]) {
                    items.append(encoded.groups[index].bytes)
                    last = groups[index].id
                }
                index += 1
            }
            let more = groups[index...].contains(where: filter.matches)
            let next = more ? last.map { PageToken(kind: "groups", lastKey: "\($0)", filterKey: filter.key).encoded } : nil
            return ListBody.make(items: items, nextPageToken: next)
        }
        return withCursor(conditional(body, request), encoded)
    }
}
