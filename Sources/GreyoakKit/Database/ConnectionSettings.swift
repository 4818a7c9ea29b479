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
        if let password = RedactedURL.password(in: conninfo), !password.isEmpty { secrets.append(password) }
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
    /// `password=` conninfo keyword with `***`.
    public static func redact(_ conninfo: String) -> String {
        var text = conninfo
        if let password = password(in: text), !password.isEmpty {
            text = text.replacingOccurrences(of: password, with: "***")
        }
        return text
    }

    /// The password a URL or conninfo string carries, if any (percent-decoding is not
    /// needed for redaction: the text is replaced as written).
    static func password(in conninfo: String) -> String? {
        if let schemeEnd = conninfo.range(of: "://") {
            let rest = conninfo[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    return String(userInfo[userInfo.index(after: colon)...])
                }
            }
            if let query = conninfo.firstIndex(of: "?") {
                for pair in conninfo[conninfo.index(after: query)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0] == "password" { return String(parts[1]) }
                }
            }
            return nil
        }
        // key=value conninfo: password=secret or password='se cret'
        guard let range = conninfo.range(of: "password") else { return nil }
        var index = range.upperBound
        while index < conninfo.endIndex, conninfo[index] == " " { index = conninfo.index(after: index) }
        guard index < conninfo.endIndex, conninfo[index] == "=" else { return nil }
        index = conninfo.index(after: index)
        while index < conninfo.endIndex, conninfo[index] == " " { index = conninfo.index(after: index) }
        if index < conninfo.endIndex, conninfo[index] == "'" {
            let start = conninfo.index(after: index)
            let end = conninfo[start...].firstIndex(of: "'") ?? conninfo.endIndex
            return String(conninfo[start..<end])
        }
        let end = conninfo[index...].firstIndex(of: " ") ?? conninfo.endIndex
        return String(conninfo[index..<end])
    }
}
