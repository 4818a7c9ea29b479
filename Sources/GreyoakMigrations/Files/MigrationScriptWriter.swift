import Foundation
import GreyoakPostgres

/// Writes new migration files for `greyoak db revision` and `greyoak db merge`.
///
/// The text comes from `script.sql.template` in the migrations directory when there is one
/// (placeholders `${message}`, `${revision}`, `${parents}`, `${create_date}`,
/// `${transactional}`), else from the built-in template below.
public struct MigrationScriptWriter {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    static let builtinTemplate = """
    -- ${message}
    --
    -- Revision ID: ${revision}
    -- Revises: ${parents}
    -- Create Date: ${create_date}
    ${transactional}
    -- migrate:upgrade


    -- migrate:downgrade


    """

    /// Creates the file and returns its path.
    ///
    /// - Parameters:
    ///   - revision: The new id; `nil` makes a fresh 12-hex-digit one as Alembic does.
    ///   - parents: Empty for a new base, several for a merge.
    ///   - upgrade: SQL put under the upgrade marker (`--autogenerate`); empty leaves the template's.
    ///   - downgrade: SQL put under the downgrade marker.
    /// - Throws: If the id is invalid or already used, or the file cannot be written.
    public func write(message: String, revision: String?, parents: [String], transactional: Bool = true,
                      graph: RevisionGraph, upgrade: String = "", downgrade: String = "", now: Date = Date()) throws -> String {
        let id = revision ?? Self.freshID()
        guard Migration.isValidRevisionID(id) else {
            throw GreyoakError(.usage, "revision id \"\(id)\" must be 1-32 letters, digits or _")
        }
        if let existing = graph.migrations[id] {
            throw GreyoakError(.usage, "Revision \(id) is already present in \(existing.path)")
        }
        let templatePath = (directory as NSString).appendingPathComponent("script.sql.template")
        let template = (try? String(contentsOfFile: templatePath, encoding: .utf8)) ?? Self.builtinTemplate
        let text = template
            .replacingOccurrences(of: "${message}", with: message.replacingOccurrences(of: "\n", with: " "))
            .replacingOccurrences(of: "${revision}", with: id)
            .replacingOccurrences(of: "${parents}", with: parents.joined(separator: ", "))
            .replacingOccurrences(of: "${create_date}", with: Self.createDate(now))
            .replacingOccurrences(of: "${transactional}", with: transactional ? "" : "-- Transactional: no\n")
            .inserting(upgrade, after: Migration.upgradeMarker)
            .inserting(downgrade, after: Migration.downgradeMarker)
        let path = (directory as NSString).appendingPathComponent("\(id)_\(Self.slug(message)).sql")
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw GreyoakError(.failure, "cannot write \(path)")
        }
        return path
    }

    /// Alembic's file-name slug: the message's words joined by `_`, lower case, cut at
    /// 40 characters on a word boundary.
    package static func slug(_ message: String) -> String {
        let words = message.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") || !$0.isASCII })
        var slug = words.joined(separator: "_").lowercased()
        if slug.count > 40 {
            let cut = String(slug.prefix(40))
            slug = (cut.range(of: "_", options: .backwards).map { String(cut[..<$0.lowerBound]) } ?? cut) + "_"
        }
        return slug
    }

    package static func freshID() -> String {
        (0..<12).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
    }

    static func createDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        func pad(_ v: Int?, _ width: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2)) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)).\(pad((c.nanosecond ?? 0) / 1000, 6))"
    }
}

private extension String {
    /// The text with `body` on the lines after the first line that is `marker`.
    func inserting(_ body: String, after marker: String) -> String {
        guard !body.isEmpty, let range = range(of: marker + "\n") else { return self }
        return replacingCharacters(in: range, with: marker + "\n" + body + "\n")
    }
}
