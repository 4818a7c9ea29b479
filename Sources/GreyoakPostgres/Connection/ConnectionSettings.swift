internal import CLibPQ
import Foundation

/// Where to connect, resolved the way the GreyOak seed document says.
///
/// Priority: an explicit URL (the `--database-url` flag), then `DATABASE_URL`, then libpq's
/// own `PG*` variables (`PGUSER`, `PGPASSWORD`, `PGHOST`, `PGPORT`, `PGDATABASE`), which
/// libpq reads itself, together with `.pgpass`, `PGSSLMODE` and the rest. URL parameters
/// such as `sslmode` pass through to libpq untouched.
public struct ConnectionSettings: Sendable, CustomStringConvertible {
    /// The conninfo or URL handed to libpq; empty means "libpq's environment defaults".
    package let conninfo: String
    /// Where the settings came from, for messages.
    public let source: Source
    /// Passwords we know of, scrubbed from every libpq message before it is shown.
    let secrets: [String]
    /// The `application_name` of the connection (`greyoak migrator`, `greyoak writer 2`), so
    /// that a DBA can tell greyoak's sessions apart in `pg_stat_activity`.
    public private(set) var applicationName = "greyoak"
    /// Server settings sent in the startup packet (`lock_timeout`): they become the session's
    /// defaults, so a `RESET` inside a migration returns to them rather than undoing them.
    public private(set) var startupSettings: [String: String] = [:]
    /// Another database on the same server, as the same user (a scratch database).
    public private(set) var databaseName: String?
    /// `--direct-url` or `GREYOAK_DIRECT_URL`: the server itself, past any connection pooler,
    /// for what needs a session of its own (see ``direct``); nil when not given.
    let directConninfo: String?

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
    ///   - directURL: The `--direct-url` value, if given; else `GREYOAK_DIRECT_URL`.
    public init(url: String? = nil, directURL: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let direct = [directURL, environment["GREYOAK_DIRECT_URL"]].compactMap { $0 }.first { !$0.isEmpty }
        directConninfo = direct.map(Self.libpqURL)
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
        for text in [conninfo, directConninfo ?? ""] where !text.isEmpty {
            // As written and as libpq decodes it: a message may quote either.
            for range in RedactedURL.passwordRanges(in: text) where !range.isEmpty { secrets.append(String(text[range])) }
            let parsed = RedactedURL.parse(text)
            for keyword in RedactedURL.secretKeywords {
                if let secret = parsed?[keyword], !secret.isEmpty, !secrets.contains(secret) { secrets.append(secret) }
            }
        }
        if let password = environment["PGPASSWORD"], !password.isEmpty { secrets.append(password) }
        self.secrets = secrets
    }

    private init(copying other: ConnectionSettings, conninfo: String) {
        self.conninfo = conninfo
        source = other.source
        secrets = other.secrets
        applicationName = other.applicationName
        startupSettings = other.startupSettings
        directConninfo = nil
    }

    /// The direct connection's settings (same part name and session defaults), for what a
    /// transaction pooler cannot carry: a non-transactional migration, `pg_dump`. Nil when
    /// no direct URL was given.
    public var direct: ConnectionSettings? {
        directConninfo.map { ConnectionSettings(copying: self, conninfo: $0) }
    }

    /// The same target for one part of greyoak: `application_name` becomes `greyoak <part>`.
    public func named(_ part: String) -> ConnectionSettings {
        var copy = self
        copy.applicationName = "greyoak \(part)"
        return copy
    }

    /// Another database of the same server, reached as the same user with the same options.
    public func database(_ name: String) -> ConnectionSettings {
        var copy = self
        copy.databaseName = name
        return copy
    }

    /// The same target with a server setting as the session's default (see ``startupSettings``).
    public func setting(_ name: String, to value: String) -> ConnectionSettings {
        var copy = self
        copy.startupSettings[name] = value
        return copy
    }

    /// The same target whose every lock wait ends after `milliseconds` (`lock_timeout` as the
    /// session's default).
    public func lockTimeout(milliseconds: Int) -> ConnectionSettings {
        setting("lock_timeout", to: "\(milliseconds)ms")
    }

    /// The target with any password replaced by `***`.
    public var description: String {
        conninfo.isEmpty ? "the PG* environment" : RedactedURL.redact(conninfo)
    }

    /// Removes every known password from a message that libpq or the server produced.
    package func scrub(_ text: String) -> String {
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
///
/// libpq's own parser (`PQconninfoParse`) decides what the password is; the text is only
/// searched for where it is written (as is, `%`-encoded in a URL, `\`-escaped in a quoted
/// value), and each place found is confirmed by asking libpq again with a probe written
/// there instead. A password that a later one overrides (`password=a password=b`, or a URL's
/// user info and its `?password=`) is found by asking about every prefix of the text.
public enum RedactedURL {
    /// What is shown instead of a string libpq cannot parse.
    package static let unparsable = "(a connection string libpq cannot parse)"

    /// The keywords whose values are secrets.
    static let secretKeywords = ["password", "sslpassword"]

    /// Replaces every password (and `sslpassword`) in a URL or conninfo string with `***`,
    /// and nothing else. A string libpq cannot parse is not shown at all.
    public static func redact(_ conninfo: String) -> String {
        // libpq reads a C string, so it would stop at a NUL that the text goes on past: no
        // such string comes from an environment variable or an argument, and none is shown.
        guard !conninfo.isEmpty, !conninfo.utf8.contains(0), parse(conninfo) != nil else {
            return conninfo.isEmpty ? conninfo : unparsable
        }
        var text = conninfo
        for range in passwordRanges(in: conninfo).reversed() where !range.isEmpty {
            text.replaceSubrange(range, with: "***")
        }
        return text
    }

    /// The password a URL or conninfo string carries, as libpq reads it, if any; "" for one
    /// written empty (`postgresql://u:@h/db`, which libpq reads as none).
    package static func password(in conninfo: String) -> String? {
        if let password = parse(conninfo)?["password"] { return password }
        let bytes = Array(conninfo.utf8)
        let written = (0...bytes.count).contains { at in
            parse(String(decoding: bytes[..<at] + probe + bytes[at...], as: UTF8.self))?["password"] == probeText
        }
        return written ? "" : nil
    }

    /// Written where a password may stand, to ask libpq whether it reads one there.
    private static let probeText = "GreyoakRedactionProbe"
    private static let probe = Array(probeText.utf8)

    /// The options libpq reads from a conninfo string or URL (without defaults); nil when it
    /// cannot parse it.
    package static func parse(_ conninfo: String) -> [String: String]? {
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &message) else {
            if let message { PQfreemem(message) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return values
    }

    /// Where passwords stand in the text, in order and not overlapping.
    static func passwordRanges(in conninfo: String) -> [Range<String.Index>] {
        let bytes = Array(conninfo.utf8)
        var spans: [Range<Int>] = []
        // Every prefix that ends before a separator, and the whole text: a password that a
        // later one overrides is the password of a shorter prefix.
        let separators: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "&"), UInt8(ascii: "?"), UInt8(ascii: "/"), UInt8(ascii: "@")]
        let ends = bytes.indices.filter { separators.contains(bytes[$0]) } + [bytes.count]
        var asked = Set<[UInt8]>()
        for end in ends {
            let prefix = Array(bytes[..<end])
            guard asked.insert(prefix).inserted, let options = parse(String(decoding: prefix, as: UTF8.self)) else { continue }
            for keyword in secretKeywords {
                guard let secret = options[keyword], !secret.isEmpty else { continue }
                spans += places(of: Array(secret.utf8), keyword: keyword, in: prefix)
            }
        }
        spans = widenedUserInfo(spans, bytes)
        // Sort and merge, so that replacing from the end keeps the earlier ranges valid.
        var merged: [Range<Int>] = []
        for span in spans.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, span.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, span.upperBound)
            } else {
                merged.append(span)
            }
        }
        let utf8 = conninfo.utf8
        return merged.map { utf8.index(utf8.startIndex, offsetBy: $0.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: $0.upperBound) }
    }

    /// The places in `text` where `secret` is written and libpq reads it as `keyword`.
    private static func places(of secret: [UInt8], keyword: String, in text: [UInt8]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        for start in text.indices {
            for end in ends(of: secret, in: text, from: start) {
                let probed = String(decoding: text[..<start] + probe + text[end...], as: UTF8.self)
                if parse(probed)?[keyword] == probeText { found.append(start..<end) }
            }
        }
        return found
    }

    /// Where a spelling of `secret` that starts at `start` can end: each byte as is,
    /// `%`-encoded (URLs) or `\`-escaped (quoted conninfo values).
    ///
    /// Each (text, secret) position is visited once: a run of backslashes matches both as is
    /// and escaped, and without that the spellings to try would double with every byte (a
    /// 111-byte string took minutes; found by the `conninfo` fuzz target).
    private static func ends(of secret: [UInt8], in text: [UInt8], from start: Int) -> [Int] {
        var positions: [(text: Int, secret: Int)] = [(start, 0)]
        var visited = Set<Int>()
        var ends: [Int] = []
        while let (at, matched) = positions.popLast() {
            guard visited.insert(at &* (secret.count + 1) &+ matched).inserted else { continue }
            if matched == secret.count {
                ends.append(at)
                continue
            }
            guard at < text.count else { continue }
            let want = secret[matched]
            if text[at] == want { positions.append((at + 1, matched + 1)) }
            if text[at] == UInt8(ascii: "\\"), at + 1 < text.count, text[at + 1] == want { positions.append((at + 2, matched + 1)) }
            if text[at] == UInt8(ascii: "%"), at + 2 < text.count, let high = hex(text[at + 1]), let low = hex(text[at + 2]),
               high << 4 | low == want {
                positions.append((at + 3, matched + 1))
            }
        }
        return ends
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// libpq ends a URL's user info at its first `@`, so an unencoded `@` in a password
    /// makes it read the rest as the host: that rest is still the secret the user wrote.
    /// A password span that stops at an `@` runs on to the last `@` before the path.
    private static func widenedUserInfo(_ spans: [Range<Int>], _ bytes: [UInt8]) -> [Range<Int>] {
        let scheme = Array("://".utf8)
        guard let schemeEnd = bytes.indices.first(where: { bytes[$0...].starts(with: scheme) }).map({ $0 + scheme.count }) else {
            return spans
        }
        let path = bytes[schemeEnd...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
        guard let lastAt = bytes[schemeEnd..<path].lastIndex(of: UInt8(ascii: "@")) else { return spans }
        return spans.map { span in
            span.upperBound < lastAt && bytes[span.upperBound] == UInt8(ascii: "@") ? span.lowerBound..<lastAt : span
        }
    }
}
