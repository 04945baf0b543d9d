import Testing
@testable import Client

/// The client's `text/event-stream` parser, on frames as vfiod sends them and as the standard allows.
@Suite struct ServerSentEventParserTests {
    static let stream = "retry: 2000\n\n: heartbeat\n\n"
        + "id: 5-12-ab\nevent: device.changed\ndata: {\"address\":\"0000:05:00.0\",\"state\":\"binding\"}\n\n"
        + "id: 5-13-ab\nevent: operation.step\ndata: {\"seq\":1}\n\n"
        + "event: shutdown\ndata: {\"reason\":\"shutdown\"}\n\n"

    static let expected = [
        ServerEvent(id: "5-12-ab", type: "device.changed", data: "{\"address\":\"0000:05:00.0\",\"state\":\"binding\"}"),
        ServerEvent(id: "5-13-ab", type: "operation.step", data: "{\"seq\":1}"),
        // No id of its own: the last one stays, as the standard's "last event ID" does.
        ServerEvent(id: "5-13-ab", type: "shutdown", data: "{\"reason\":\"shutdown\"}"),
    ]

    @Test func framesSplitAtEveryByteGiveTheSameEvents() {
        let bytes = Array(Self.stream.utf8)
        for cut in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == Self.expected, "split at \(cut)")
            #expect(parser.retryMilliseconds == 2000)
        }
    }

    @Test func crlfAndCrLineEndsAndMultiLineData() {
        var parser = ServerSentEventParser()
        let events = parser.feed(Array("id: 1\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\nid: 2\revent: b\rdata:z\r\r".utf8))
        #expect(events == [ServerEvent(id: "1", type: "a", data: "x\ny"), ServerEvent(id: "2", type: "b", data: "z")])
    }

    @Test func commentsAndEmptyFramesDispatchNothing() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array(": heartbeat\n\n\n\nretry: x\n\n".utf8)).isEmpty)
        #expect(parser.retryMilliseconds == nil, "a retry that is not a number is ignored")
        let message = parser.feed(Array("data: plain\n\n".utf8))
        #expect(message == [ServerEvent(id: nil, type: "message", data: "plain")])
    }

    @Test func aJSONLineKeepsTheDataAsSent() {
        let line = EventsCommand.jsonLine(ServerEvent(id: "7-1-ff", type: "reset", data: "{\"cursor\":\"7-0-ff\",\"reason\":\"restarted\"}"))
        #expect(line == "{\"id\":\"7-1-ff\",\"event\":\"reset\",\"data\":{\"cursor\":\"7-0-ff\",\"reason\":\"restarted\"}}")
    }
}
