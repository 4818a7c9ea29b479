import Foundation

/// Where to connect, resolved the way the GreyOak seed document says.
///
/// Priority: an explicit URL (the `--database-url` flag), then `DATABASE_URL`, then libpq's
/// own `PG*` variables (`PGUSER`, `PGPASSWORD`, `PGHOST`, `PGPORT`, `PGDATABASE`), which
/// libpq reads itself, together with `.pgpass`, `PGSSLMODE` and the rest. URL parameters
/// such as `sslmode` pass through to libpq untouched.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// The conninfo or URL handed to libpq; empty means "libpq's environment defaults".
    let conninfo: String
    /// Where the settings came from, for messages.
    public let source: Source
    /// Passwords we know of, scrubbed from every libpq message before it is shown.
    let secrets: [String]

    public enum Source: String, Sendable {
        case flag = "--database-url"
        case databaseURL = "DATABASE_URL"
        case libpqEnvironment = "PG* environment"
    }

    /// Resolves the settings.
    ///
    /// - Parameters:
    ///   - url: The `--database-url` value, if given.
    ///   - environment: The process environment (injectable for tests).
    public init(url: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let url, !url.isEmpty {
            conninfo = Self.libpqURL(url)
            source = .flag
        } else if let url = environment["DATABASE_URL"], !url.isEmpty {
            conninfo = Self.libpqURL(url)
            source = .databaseURL
        } else {
            conninfo = ""
            source = .libpqEnvironment
        }
        var secrets: [String] = []
        for range in RedactedURL.passwordRanges(in: conninfo) where !range.isEmpty { secrets.append(String(conninfo[range])) }
        if let password = environment["PGPASSWORD"], !password.isEmpty { secrets.append(password) }
        self.secrets = secrets
    }

    /// The target with any password replaced by `***`.
    public var description: String {
        conninfo.isEmpty ? "the PG* environment" : RedactedURL.redact(conninfo)
    }

    /// Removes every known password from a message that libpq or the server produced.
    func scrub(_ text: String) -> String {
        var text = text
        for secret in secrets { text = text.replacingOccurrences(of: secret, with: "***") }
        return text
    }

    /// SQLAlchemy URLs name a driver (`postgresql+psycopg2://`); libpq knows only the
    /// plain schemes, so the driver part is dropped.
    static func libpqURL(_ url: String) -> String {
        guard let plus = url.firstIndex(of: "+"), let scheme = url.range(of: "://"),
              plus < scheme.lowerBound else { return url }
        return String(url[..<plus]) + String(url[scheme.lowerBound...])
    }
}

/// Redaction of passwords in PostgreSQL URLs and key/value conninfo strings.
public enum RedactedURL {
    /// Replaces the password in a URL's user info, a `password=` URL parameter or a
    /// `password=` conninfo keyword with `***`, and nothing else.
    public static func redact(_ conninfo: String) -> String {
        var text = conninfo
        for range in passwordRanges(in: conninfo).reversed() where !range.isEmpty {
            text.replaceSubrange(range, with: "***")
        }
        return text
    }

    /// The password a URL or conninfo string carries, if any.
    static func password(in conninfo: String) -> String? {
        passwordRanges(in: conninfo).first.map { String(conninfo[$0]) }
    }

    /// Where passwords stand in the text, in order.
    static func passwordRanges(in conninfo: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        if let schemeEnd = conninfo.range(of: "://") {
            let rest = conninfo[schemeEnd.upperBound...]
            // The user info ends at the last '@' before the path; a '?' or '#' in an
            // unencoded password must not end it early.
            let beforePath = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
            if let at = beforePath.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                ranges.append(rest.index(after: colon)..<at)
            }
            // The query starts at the first '?' after the user info (one inside the password
            // does not count, nor hide a `password=` parameter after it).
            let afterUserInfo = ranges.first.map { rest.index(after: $0.upperBound) } ?? rest.startIndex
            if let query = rest[afterUserInfo...].firstIndex(of: "?") {
                var index = rest.index(after: query)
                while index < rest.endIndex {
                    let end = rest[index...].firstIndex(of: "&") ?? rest.endIndex
                    let pair = rest[index..<end]
                    if let equals = pair.firstIndex(of: "="), pair[..<equals] == "password" {
                        ranges.append(pair.index(after: equals)..<end)
                    }
                    index = end < rest.endIndex ? rest.index(after: end) : end
                }
            }
            return ranges
        }
        // key=value conninfo: the keyword `password` exactly, then '=', then a plain or quoted value.
        var index = conninfo.startIndex
        while index < conninfo.endIndex {
            while index < conninfo.endIndex, conninfo[index].isWhitespace { index = conninfo.index(after: index) }
            let keyStart = index
            while index < conninfo.endIndex, !conninfo[index].isWhitespace, conninfo[index] != "=" { index = conninfo.index(after: index) }
            let key = conninfo[keyStart..<index]
            while index < conninfo.endIndex, conninfo[index].isWhitespace { index = conninfo.index(after: index) }
            guard index < conninfo.endIndex, conninfo[index] == "=" else { continue }
            index = conninfo.index(after: index)
            while index < conninfo.endIndex, conninfo[index].isWhitespace { index = conninfo.index(after: index) }
            let valueStart: String.Index, valueEnd: String.Index
            if index < conninfo.endIndex, conninfo[index] == "'" {
                valueStart = conninfo.index(after: index)
                var end = valueStart
                while end < conninfo.endIndex, conninfo[end] != "'" {
                    if conninfo[end] == "\\" { end = conninfo.index(after: end) }
                    if end < conninfo.endIndex { end = conninfo.index(after: end) }
                }
                valueEnd = end
                index = end < conninfo.endIndex ? conninfo.index(after: end) : end
            } else {
                valueStart = index
                while index < conninfo.endIndex, !conninfo[index].isWhitespace { index = conninfo.index(after: index) }
                valueEnd = index
            }
            if key == "password" { ranges.append(valueStart..<valueEnd) }
        }
        return ranges
    }
}
