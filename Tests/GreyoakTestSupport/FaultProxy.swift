import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 that forwards the PostgreSQL protocol to a real server and resets
/// a connection at a chosen frontend message, as Citus's failure tests do with mitmproxy.
///
/// It reads the client's side as PostgreSQL frames (the untyped startup packet, then a type
/// byte and a length per message), so a fault lands exactly on a message: the Nth CopyData
/// (`d`) of all connections, or the Nth simple query (`Q`) that starts with a given text
/// (`COMMIT`, `PREPARE TRANSACTION`, `COMMIT PREPARED`). The fault fires once; connections made
/// after it pass untouched, so the client's own recovery can reach the server.
///
/// `@unchecked Sendable` rule: mutable state (`counts`, `fired`, `listener`) is touched only
/// under `lock`; each connection's sockets belong to its two pump threads.
package final class FaultProxy: @unchecked Sendable {
    package enum Message: Sendable, Equatable, CustomStringConvertible {
        /// The Nth CopyData message, counting from 1 across all connections.
        case copyData(Int)
        /// The Nth simple query starting with `prefix` (case-insensitive), from 1.
        case query(String, Int)

        package var description: String {
            switch self {
            case let .copyData(n): "CopyData #\(n)"
            case let .query(prefix, n): "\(prefix) #\(n)"
            }
        }
    }

    package enum When: Sendable, CustomStringConvertible {
        /// Reset before the server sees the message.
        case before
        /// Forward it, reset the client's side at once, and the server's side once the server
        /// answers: the server acts on the message but the client never hears how.
        case afterServerGotIt

        package var description: String { self == .before ? "before the server got it" : "after the server got it" }
    }

    let port: UInt16
    private let upstreamPort: UInt16
    private let fault: Message?
    private let when: When
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var fired = false
    private var listener: Int32

    /// Starts listening on an ephemeral port of 127.0.0.1, forwarding to `upstreamPort`.
    package init(upstreamPort: UInt16, fault: Message?, when: When = .before) throws {
        self.upstreamPort = upstreamPort
        self.fault = fault
        self.when = when
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError("socket: \(errno)") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw ProxyError("bind/listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Whether the fault has fired.
    package var hasFired: Bool { lock.withLock { fired } }

    /// Stops accepting; connections already open run until their peers close them.
    package func stop() {
        lock.withLock {
            if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
            listener = -1
        }
    }

    deinit { stop() }

    /// `url` with its port replaced by the proxy's.
    package func url(for url: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw ProxyError("not a URL") }
        components.host = "127.0.0.1"
        components.port = Int(port)
        guard let text = components.string else { throw ProxyError("cannot rebuild the URL") }
        return text
    }

    // MARK: - Forwarding

    private func acceptLoop() {
        while true {
            let fd = lock.withLock { listener }
            guard fd >= 0 else { return }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            let link = Link(client: client, server: server)
            Thread { [self] in pumpFrontend(link) }.start()
            Thread { [self] in pumpBackend(link) }.start()
        }
    }

    /// The two sockets of one proxied connection and how it is being cut.
    private final class Link: @unchecked Sendable {
        // `cutAfterAnswer` and `closed` are guarded by `lock`.
        let client: Int32
        let server: Int32
        let lock = NSLock()
        var cutAfterAnswer = false
        var closed = false
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        /// Resets a socket (SO_LINGER 0 sends RST instead of FIN).
        static func reset(_ fd: Int32) {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            shutdown(fd, Int32(SHUT_RDWR))
        }

        func resetBoth() {
            lock.withLock {
                guard !closed else { return }
                closed = true
                Link.reset(client)
                Link.reset(server)
            }
        }
    }

    private func pumpFrontend(_ link: Link) {
        var buffer: [UInt8] = []
        var startupDone = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        defer { link.resetBoth(); close(link.client) }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(link.client, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            buffer += chunk[0..<n]
            var forward = 0  // bytes of `buffer` that are whole messages to pass on
            while true {
                let header = startupDone ? 5 : 4
                guard buffer.count - forward >= header else { break }
                let lengthAt = forward + (startupDone ? 1 : 0)
                let length = Int(UInt32(buffer[lengthAt]) << 24 | UInt32(buffer[lengthAt + 1]) << 16
                    | UInt32(buffer[lengthAt + 2]) << 8 | UInt32(buffer[lengthAt + 3]))
                let total = length + (startupDone ? 1 : 0)
                guard buffer.count - forward >= total else { break }
                if startupDone, decide(type: buffer[forward], body: buffer[(forward + 5)..<(forward + total)]) {
                    if when == .before {
                        // Pass on what came before the chosen message, then cut.
                        sendAll(link.server, buffer[0..<forward])
                        return
                    }
                    sendAll(link.server, buffer[0..<(forward + total)])
                    link.lock.withLock { link.cutAfterAnswer = true }
                    Link.reset(link.client)
                    // The backend pump cuts the server's side when the answer arrives (bounded:
                    // a server that never answers is cut after 30 s).
                    for _ in 0..<30_000 where link.lock.withLock({ !link.closed }) { usleep(1000) }
                    return
                }
                if !startupDone {
                    // SSLRequest / GSSENCRequest: the answer is one byte and the startup follows.
                    let code = buffer.count - forward >= 8
                        ? UInt32(buffer[forward + 4]) << 24 | UInt32(buffer[forward + 5]) << 16 | UInt32(buffer[forward + 6]) << 8 | UInt32(buffer[forward + 7])
                        : 0
                    if code != 80_877_103 && code != 80_877_104 { startupDone = true }
                }
                forward += total
            }
            if forward > 0 {
                guard sendAll(link.server, buffer[0..<forward]) else { return }
                buffer.removeFirst(forward)
            }
        }
    }

    private func pumpBackend(_ link: Link) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        defer { link.resetBoth(); close(link.server) }
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(link.server, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            if link.lock.withLock({ link.cutAfterAnswer }) { return }
            guard sendAll(link.client, chunk[0..<n]) else { return }
        }
    }

    /// Counts the message and says whether the fault fires on it.
    private func decide(type: UInt8, body: ArraySlice<UInt8>) -> Bool {
        guard let fault else { return false }
        return lock.withLock {
            guard !fired else { return false }
            switch fault {
            case let .copyData(n):
                guard type == UInt8(ascii: "d") else { return false }
                counts["d", default: 0] += 1
                fired = counts["d"] == n
            case let .query(prefix, n):
                guard type == UInt8(ascii: "Q") else { return false }
                let text = String(decoding: body.prefix(while: { $0 != 0 }), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
                guard text.hasPrefix(prefix.uppercased()) else { return false }
                // "COMMIT" must not match "COMMIT PREPARED".
                if prefix.uppercased() == "COMMIT", text.hasPrefix("COMMIT PREPARED") { return false }
                counts[prefix, default: 0] += 1
                fired = counts[prefix] == n
            }
            return fired
        }
    }

    @discardableResult
    private func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    struct ProxyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
