import Foundation
import GreyoakPostgres
import GreyoakMigrations

/// One HTTP/1.1 POST over a plain TCP socket, with a deadline: what pushing to a Pushgateway
/// needs, and nothing more (`http://` only; user and password in the URL become Basic auth).
///
/// Why not FoundationNetworking's URLSession, the well-kept choice: it is libcurl underneath.
/// Measured with `swift build -c release --static-swift-stdlib` (Swift 6.3.1, Debian 12):
/// - it does not link without libcurl's development package (`-lcurl`: libcurl4-openssl-dev),
///   a new build dependency for every static build (scripts/bench, scripts/demo, releases);
/// - the binary then needs libcurl4 and, through it, 8 more shared libraries (nghttp2,
///   librtmp, libssh2, libpsl, brotli, ...) wherever it runs, beside libpq5, libcsv3, zlib1g;
/// - every start pays for loading them: `greyoak --help` took 1.0-1.6 ms more CPU (about
///   12.2 against 11.0 ms, hyperfine, 3 x 60 runs on a loaded 2-core machine), `db check`
///   probes every few seconds included; the binary grew by 1.4 MB (82.2 to 83.6 MB).
/// For one POST of a few hundred bytes to a service inside the cluster, this is the smaller
/// cost. What it gives up is TLS and proxies: a TLS Pushgateway is reached through a sidecar,
/// or node_exporter's textfile collector (`--metrics-file`) is used instead.
package struct HTTPPost {
    let url: String
    let body: [UInt8]
    let contentType: String
    let timeout: Double

    /// The URL with any password replaced by `***`, for messages.
    var redactedURL: String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// Sends the request and reads the response's status line.
    ///
    /// - Returns: The status code and the response body's first 200 bytes (a Pushgateway's reason).
    /// - Throws: ``GreyoakError`` when the URL is not `http://host[:port]/path`, the host does
    ///   not resolve or answer, or the deadline passes.
    func send() throws -> (status: Int, message: String) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
              let host = components.host, !host.isEmpty else {
            throw GreyoakError(.usage, "\(redactedURL) is not an http:// URL (https is not supported: use a TLS sidecar, or --metrics-file)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        let socket = try Self.connect(host: host, port: components.port ?? 80, deadline: deadline, describing: redactedURL)
        defer { close(socket) }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        var head = "POST \(path)\(components.percentEncodedQuery.map { "?" + $0 } ?? "") HTTP/1.1\r\n"
        head += "Host: \(host.contains(":") ? "[\(host)]" : host)\(components.port.map { ":\($0)" } ?? "")\r\n"
        head += "User-Agent: greyoak/\(Greyoak.version)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if let user = components.user {
            let credentials = Data("\(user):\(components.password ?? "")".utf8).base64EncodedString()
            head += "Authorization: Basic \(credentials)\r\n"
        }
        try Self.write(Array((head + "\r\n").utf8) + body, to: socket, deadline: deadline, describing: redactedURL)
        let response = try Self.readAll(socket, deadline: deadline, describing: redactedURL)
        guard let parsed = Self.parseResponse(response) else {
            throw GreyoakError(.failure, "\(redactedURL) answered with no HTTP status line")
        }
        return parsed
    }

    /// The status code (three digits) of an HTTP response and its body's first 200
    /// characters, trimmed; nil when it does not begin with a status line.
    ///
    /// Read as bytes up to the first CR or LF: as `Character`s, "\r\n" is one character that
    /// is neither "\r" nor "\n", so the status line ran on into the headers, and a status
    /// line without a reason phrase ("HTTP/1.1 202\r\n") was no status line at all (fuzz
    /// target `httpresponse`).
    package static func parseResponse(_ response: [UInt8]) -> (status: Int, message: String)? {
        let line = response.prefix { $0 != 0x0D && $0 != 0x0A }
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/".utf8)), parts[1].count == 3,
              parts[1].allSatisfy({ (0x30...0x39).contains($0) }),
              let status = Int(String(decoding: parts[1], as: UTF8.self)) else { return nil }
        let separator = Array("\r\n\r\n".utf8)
        guard let end = response.indices.first(where: { response[$0...].starts(with: separator) }) else { return (status, "") }
        let body = String(decoding: response[(end + separator.count)...], as: UTF8.self)
        return (status, String(body.prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A connected, blocking TCP socket whose reads and writes end at `deadline`.
    private static func connect(host: String, port: Int, deadline: Date, describing url: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw GreyoakError(.failure, "cannot resolve the host of \(url): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let socket = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard socket >= 0 else { continue }
            // Non-blocking for the connect only, so that poll can bound it.
            let flags = fcntl(socket, F_GETFL)
            _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
            var result = Glibc.connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen)
            if result != 0, errno == EINPROGRESS {
                var poller = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, milliseconds(until: deadline))
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
                if ready == 1, error == 0 { result = 0 } else { errno = ready == 0 ? ETIMEDOUT : error }
            }
            if result == 0 {
                _ = fcntl(socket, F_SETFL, flags)
                return socket
            }
            reason = String(cString: strerror(errno))
            close(socket)
        }
        throw GreyoakError(.failure, "cannot connect to \(url): \(reason)")
    }

    private static func milliseconds(until deadline: Date) -> Int32 {
        Int32(max(0, min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000)).rounded(.up))
    }

    /// Bounds the next blocking send or receive by what is left until `deadline`.
    private static func bound(_ socket: Int32, _ option: Int32, deadline: Date, describing url: String) throws {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { throw GreyoakError(.failure, "\(url) did not answer in time") }
        var limit = timeval(tv_sec: Int(left), tv_usec: max(1, Int((left - left.rounded(.down)) * 1_000_000)))
        setsockopt(socket, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func write(_ bytes: [UInt8], to socket: Int32, deadline: Date, describing url: String) throws {
        var sent = 0
        while sent < bytes.count {
            try bound(socket, SO_SNDTIMEO, deadline: deadline, describing: url)
            // MSG_NOSIGNAL: a peer that closed early is an error to report, not SIGPIPE.
            let count = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw GreyoakError(.failure, "cannot send to \(url): \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    /// Everything the server sends until it closes (the request said `Connection: close`).
    private static func readAll(_ socket: Int32, deadline: Date, describing url: String) throws -> [UInt8] {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while response.count < 1 << 20 {
            try bound(socket, SO_RCVTIMEO, deadline: deadline, describing: url)
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count == 0 { break }
            guard count > 0 else { throw GreyoakError(.failure, "no answer from \(url): \(String(cString: strerror(errno)))") }
            response += buffer[0..<count]
        }
        return response
    }
}
