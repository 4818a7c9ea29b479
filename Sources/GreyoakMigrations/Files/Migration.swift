import Foundation
import GreyoakPostgres

/// One SQL migration file: its revision, parents, message, and upgrade and downgrade SQL.
///
/// The format (documented in `migrations/README`) keeps Alembic's docstring header as SQL
/// comments, then two sections:
///
///     -- Add confidence column
///     --
///     -- Revision ID: 2b7e0c9d4a11
///     -- Revises: 183eb85141bf
///     -- Create Date: 2025-11-02 09:15:00.000000
///     -- Transactional: no            (optional; default yes)
///     -- Lock-Timeout: 30s            (optional; default --ddl-lock-timeout)
///
///     -- migrate:upgrade
///     ALTER TABLE scores ADD COLUMN confidence FLOAT;
///
///     -- migrate:downgrade
///     ALTER TABLE scores DROP COLUMN confidence;
public struct Migration: Sendable, Equatable {
    public let revision: String
    /// No parent for a base revision, several for a merge.
    public let parents: [String]
    public let message: String
    public let createDate: String?
    /// `false` for migrations that must run outside a transaction
    /// (`CREATE INDEX CONCURRENTLY`, `ALTER TYPE ... ADD VALUE` on old servers).
    public let transactional: Bool
    public let path: String
    public let upgrade: [SQLSplitter.Statement]
    public let downgrade: [SQLSplitter.Statement]
    /// The file's own `-- Lock-Timeout:` (such as `30s`), overriding `--ddl-lock-timeout`.
    public var lockTimeout: LockTimeout? = nil
    /// SHA-256 of the file's bytes, recorded in the audit table when it runs.
    public let checksum: String
    /// The header comment as written, without the `-- ` prefixes (what `show` prints).
    public let docLines: [String]

    public var fileName: String { (path as NSString).lastPathComponent }

    /// The SQL of one direction.
    public func statements(upgrade isUpgrade: Bool) -> [SQLSplitter.Statement] { isUpgrade ? upgrade : downgrade }
}

/// A migration file that cannot be read, with the file and line.
public struct MigrationFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var line: Int?
    public var message: String
    public var description: String {
        "\(path)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}

extension Migration {
    static let upgradeMarker = "-- migrate:upgrade"
    static let downgradeMarker = "-- migrate:downgrade"

    /// Parses a migration file's text.
    ///
    /// - Throws: ``MigrationFileError`` naming the line, for a missing revision id, a missing
    ///   section marker, or an invalid header value.
    public static func parse(_ data: [UInt8], path: String) throws -> Migration {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw MigrationFileError(path: path, line: nil, message: "is not valid UTF-8")
        }
        // Split on scalars: as Characters, "\r\n" is one grapheme and would never match "\n".
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(String.UnicodeScalarView(line.last == "\r" ? line.dropLast() : line[...]))
        }
        guard let upIndex = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == upgradeMarker }) else {
            throw MigrationFileError(path: path, line: nil, message: "has no '\(upgradeMarker)' line")
        }
        guard let downIndex = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == downgradeMarker }),
              downIndex > upIndex else {
            throw MigrationFileError(path: path, line: nil, message: "has no '\(downgradeMarker)' line after '\(upgradeMarker)'")
        }

        var docLines: [String] = []
        var fields: [String: (value: String, line: Int)] = [:]
        for (index, line) in lines[..<upIndex].enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("--") else {
                if trimmed.isEmpty { continue }
                throw MigrationFileError(path: path, line: index + 1, message: "SQL before '\(upgradeMarker)'")
            }
            var content = String(trimmed.dropFirst(2))
            if content.hasPrefix(" ") { content.removeFirst() }
            docLines.append(content)
            if let colon = content.firstIndex(of: ":") {
                let key = content[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                if ["revision id", "revises", "create date", "transactional", "lock-timeout"].contains(key) {
                    fields[key] = (content[content.index(after: colon)...].trimmingCharacters(in: .whitespaces), index + 1)
                }
            }
        }
        while docLines.last?.isEmpty == true { docLines.removeLast() }

        guard let revision = fields["revision id"], !revision.value.isEmpty else {
            throw MigrationFileError(path: path, line: nil, message: "has no 'Revision ID:' header line")
        }
        guard isValidRevisionID(revision.value) else {
            throw MigrationFileError(path: path, line: revision.line,
                                     message: "revision id \"\(revision.value)\" must be 1-32 letters, digits or _")
        }
        let parents = (fields["revises"]?.value ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let bad = parents.first(where: { !isValidRevisionID($0) }) {
            throw MigrationFileError(path: path, line: fields["revises"]?.line, message: "parent \"\(bad)\" is not a revision id")
        }
        var transactional = true
        if let flag = fields["transactional"] {
            switch flag.value.lowercased() {
            case "yes", "true": transactional = true
            case "no", "false": transactional = false
            default:
                throw MigrationFileError(path: path, line: flag.line, message: "Transactional: must be yes or no, not \"\(flag.value)\"")
            }
        }
        var lockTimeout: LockTimeout?
        if let value = fields["lock-timeout"] {
            guard let parsed = LockTimeout(parsing: value.value) else {
                throw MigrationFileError(path: path, line: value.line,
                                         message: "Lock-Timeout: must be a positive duration such as 30s or 500ms, not \"\(value.value)\"")
            }
            lockTimeout = parsed
        }
        let message = docLines.first.flatMap { line in
            line.contains(":") && fields.keys.contains(line.split(separator: ":")[0].lowercased()) ? nil : line
        } ?? ""

        return Migration(
            revision: revision.value,
            parents: parents,
            message: message,
            createDate: fields["create date"]?.value,
            transactional: transactional,
            path: path,
            upgrade: SQLSplitter.split(lines[(upIndex + 1)..<downIndex].joined(separator: "\n"), firstLine: upIndex + 2),
            downgrade: SQLSplitter.split(lines[(downIndex + 1)...].joined(separator: "\n"), firstLine: downIndex + 2),
            lockTimeout: lockTimeout,
            checksum: SHA256.hex(data),
            docLines: docLines
        )
    }

    /// Alembic's version column is `VARCHAR(32)`; we also keep ids to safe characters so
    /// they can be written into SQL and file names without quoting.
    public static func isValidRevisionID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 32 && id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}
