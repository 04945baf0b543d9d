import EventStream
import HTTPServer

extension APIError {
    static func invalidCursor(_ why: String) -> APIError {
        APIError(400, "invalid_cursor", "Invalid cursor",
                 "\(why); send a cursor this server gave (an event's id, or a list's X-Vfiod-Cursor), or none to start live")
    }

    static func invalidEventType(_ type: String) -> APIError {
        APIError(400, "invalid_event_type", "Invalid event type",
                 "\"\(type.prefix(64))\" is not an event type; types: " + EventTypes.filterable.sorted().joined(separator: ", "))
    }

    static let invalidTicket = APIError(401, "invalid_ticket", "Invalid ticket",
                                        "the ticket is unknown, used or expired; POST /v1/events/tickets makes one (valid 60 s, one use)")
}

extension APIContext {
    /// `response` with `X-Vfiod-Cursor`: the cursor `encoded`'s events were published with.
    func withCursor(_ response: HTTPResponse, _ encoded: EncodedInventory) -> HTTPResponse {
        var response = response
        response.headers.append(("X-Vfiod-Cursor", (encoded.cursor ?? events.current).description))
        return response
    }

    /// `response` with `X-Vfiod-Cursor` for a database read that saw audit seq `auditSeq`, with the event
    /// number taken (`before`) before the read.
    func withCursor(_ response: HTTPResponse, auditSeq: Int64, before: EventCursor) -> HTTPResponse {
        var response = response
        response.headers.append(("X-Vfiod-Cursor", events.cursor(auditSeq: auditSeq, before: before).description))
        return response
    }
}
