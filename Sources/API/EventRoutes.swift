import Foundation
import HTTPServer
import EventStream
import Inventory
import Store
import VFIOCore

extension RouteTable {
    mutating func addEventRoutes() {
        // Authenticated inside: by `?ticket=` (a browser's EventSource) or like every other route.
        route("GET", "/v1/events", .open) { [context] request, _ throws(APIError) in
            try await context.openEventStream(request)
        }
        route("POST", "/v1/events/tickets", .read) { [context] request, principal throws(APIError) in
            _ = try QueryParameters(request.query, allowed: [])
            let (ticket, expiresAt) = context.tickets.issue(for: principal)
            var json = JSONWriter()
            json.beginObject()
            json.key("ticket"); json.string(ticket)
            json.key("expiresAt"); json.string(Timestamp.format(expiresAt))
            json.endObject()
            return .json(json.bytes, status: 201, headers: [("Cache-Control", "no-store")])
        }
    }
}

extension APIContext {
    /// `GET /v1/events`: a Server-Sent Events stream for the caller, resumed after `Last-Event-ID` (or
    /// `?since=`) when given, filtered by `types`, `device`, `group`, `assignment`.
    func openEventStream(_ request: HTTPRequest) async throws(APIError) -> HTTPResponse {
        let query = try QueryParameters(request.query, allowed: ["since", "types", "device", "group", "assignment", "ticket"])
        let principal: Principal
        if let ticket = query["ticket"] {
            guard let found = tickets.redeem(ticket) else { throw .invalidTicket }
            principal = found
        } else {
            principal = try await authenticate(request, .read)
        }
        let reader = try Self.eventReader(query, principal)
        var cursor: EventCursor?
        if let text = request.header("Last-Event-ID") ?? query["since"], !text.isEmpty {
            guard let parsed = EventCursor(parsing: text) else { throw .invalidCursor("\"\(text.prefix(80))\" is not a cursor") }
            cursor = parsed
        }
        let stream = ResponseStream(capacityBytes: eventBufferBytes, heartbeat: EventFrame.heartbeat, farewell: EventFrame.shutdown)
        let ending = SubscriptionEnd()
        stream.onEnd { _ in ending.ended() }
        stream.send(EventFrame.preamble)
        let sink = StreamSink(stream)
        let subscription: EventSubscription
        do {
            if let cursor {
                // A resume reads the audit history: on the store's thread, never the cooperative pool.
                subscription = try await assignments.store { [events] _ in try events.subscribe(reader, sink: sink, after: cursor) }
            } else {
                subscription = try events.subscribe(reader, sink: sink, after: nil)
            }
        } catch let error as EventStreamError {
            switch error {
            case .invalidCursor(let why): throw .invalidCursor(why)
            case .auditUnavailable(let why):
                throw APIError(503, "storage_unavailable", "Storage unavailable", "the audit history cannot be read to resume: \(why)",
                               headers: [("Retry-After", "5")])
            }
        } catch {
            throw .store(error)
        }
        ending.attach(subscription)
        var response = HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])
        response.payload = .stream(stream)
        return response
    }

    /// The reader `principal` is, with the filters of `query`.
    static func eventReader(_ query: QueryParameters, _ principal: Principal) throws(APIError) -> EventReader {
        var reader = EventReader(tenant: principal.role == .operator ? principal.tenant : nil,
                                 seesAudit: Permission.audit.admits(principal.role))
        if let text = query["types"] {
            var types: Set<String> = []
            for name in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                guard EventTypes.filterable.contains(name) else { throw .invalidEventType(name) }
                types.insert(name)
            }
            reader.types = types
        }
        if let device = query["device"] {
            guard PCIAddress(device) != nil else { throw .invalidAddress(device) }
            reader.device = device
        }
        if let text = query["group"] {
            guard let group = Int(text), group >= 0 else { throw .invalidParameter("group", "must be a group number") }
            reader.group = group
        }
        reader.assignment = query["assignment"]
        return reader
    }
}
