import Testing
@testable import GreyoakIngest

/// The status line and reason of a Pushgateway's answer (``HTTPPost/parseResponse(_:)``).
@Suite("HTTP response: the status and the body's reason")
struct HTTPResponseTests {
    static func parse(_ text: String) -> (status: Int, message: String)? { HTTPPost.parseResponse(Array(text.utf8)) }

    @Test("a status line with or without its reason phrase, and the body's first 200 characters")
    func statusAndMessage() throws {
        let ok = try #require(Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(ok.status == 200 && ok.message == "")
        // No reason phrase: read as characters, "\r\n" ran the status line on into the headers.
        #expect(Self.parse("HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n")?.status == 202)
        let refused = try #require(Self.parse("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n bad metric \"x\"\n"))
        #expect(refused.status == 400 && refused.message == "bad metric \"x\"")
        let long = try #require(Self.parse("HTTP/1.0 500 Oops\r\n\r\n" + String(repeating: "é", count: 300)))
        #expect(long.message.count == 200)
    }

    @Test("no status line: nothing, a status not of three digits, another protocol", arguments: [
        "", "\r\n", "HTTP/1.1", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 -20 OK\r\n", "HTTP/1.1 +20 OK\r\n", "SMTP 200 OK\r\n", "HTTP/1.1  200 OK\r\n",
    ])
    func noStatusLine(_ text: String) {
        #expect(Self.parse(text) == nil)
    }
}
