import Foundation

/// Splits a SQL script into statements the way the server would read them.
///
/// Needed because `CREATE INDEX CONCURRENTLY` cannot run inside the implicit transaction
/// of a multi-statement query string, and because an error should name the statement that
/// failed. It understands quoted strings, `E''` escapes, quoted identifiers, dollar
/// quoting, `--` comments and nested `/* */` comments; like psql, a semicolon inside
/// parentheses, or inside the `BEGIN ATOMIC … END` body of `CREATE [OR REPLACE] FUNCTION`
/// or `PROCEDURE`, does not end the statement.
public enum SQLSplitter {
    public struct Statement: Equatable, Sendable {
        /// The statement without its terminating semicolon, trimmed.
        public var text: String
        /// The 1-based line of the statement's first character within the script.
        public var line: Int
    }

    public static func split(_ script: String, firstLine: Int = 1) -> [Statement] {
        let chars = Array(script.unicodeScalars)
        var statements: [Statement] = []
        var current = String.UnicodeScalarView()
        var line = firstLine
        // The line of the statement's first character that is not a comment or space: a
        // statement made only of comments is no statement.
        var startLine: Int?
        var i = 0
        var body = BodyTracker()

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if let startLine, !text.isEmpty { statements.append(Statement(text: text, line: startLine)) }
            current = String.UnicodeScalarView()
            startLine = nil
            body = BodyTracker()
        }
        func take(_ count: Int = 1) {
            for _ in 0..<count where i < chars.count {
                if chars[i] == "\n" { line += 1 }
                current.append(chars[i])
                i += 1
            }
        }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            let isComment = (c == "-" && next == "-") || (c == "/" && next == "*")
            if startLine == nil, !c.properties.isWhitespace, !isComment, c != ";" { startLine = line }
            if c == "-", next == "-" {
                while i < chars.count, chars[i] != "\n" { take() }
            } else if c == "/", next == "*" {
                var depth = 0
                repeat {
                    if chars[i] == "/", i + 1 < chars.count, chars[i + 1] == "*" { depth += 1; take(2) }
                    else if chars[i] == "*", i + 1 < chars.count, chars[i + 1] == "/" { depth -= 1; take(2) }
                    else { take() }
                } while i < chars.count && depth > 0
            } else if c == "'" || c == "\"" {
                let backslashEscapes = c == "'" && i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                take()
                while i < chars.count {
                    if backslashEscapes, chars[i] == "\\" { take(2); continue }
                    if chars[i] == c {
                        if i + 1 < chars.count, chars[i + 1] == c { take(2); continue }
                        take()
                        break
                    }
                    take()
                }
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                take(tag.count)
                while i < chars.count {
                    if chars[i] == "$", Array(chars[i..<min(chars.count, i + tag.count)]) == tag { take(tag.count); break }
                    take()
                }
            } else if c == "_" || c.properties.isAlphabetic {
                var word = ""
                while i < chars.count, chars[i] == "_" || chars[i] == "$" || chars[i].properties.isAlphabetic || ("0"..."9").contains(chars[i]) {
                    word.unicodeScalars.append(chars[i])
                    take()
                }
                body.see(word.lowercased())
            } else if c == "(" || c == ")" {
                body.parentheses = max(0, body.parentheses + (c == "(" ? 1 : -1))
                take()
            } else if c == ";", body.parentheses == 0, body.depth == 0 {
                i += 1
                flush()
            } else {
                take()
            }
        }
        flush()
        return statements
    }

    /// psql's heuristic for SQL-standard function bodies: in a statement that starts
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, outside parentheses, `BEGIN` opens a block,
    /// `CASE` inside one opens another, and `END` closes one.
    private struct BodyTracker {
        var parentheses = 0
        var depth = 0
        private var leading: [Character] = []
        private var count = 0

        mutating func see(_ word: String) {
            if count < 4, ["create", "function", "procedure", "or", "replace"].contains(word) { leading.append(word.first!) }
            else if count < 4 { leading.append(" ") }
            count += 1
            let routine = leading.starts(with: ["c", "f"]) || leading.starts(with: ["c", "p"])
                || leading.starts(with: ["c", "o", "r", "f"]) || leading.starts(with: ["c", "o", "r", "p"])
            guard routine, parentheses == 0 else { return }
            switch word {
            case "begin": depth += 1
            case "case" where depth >= 1: depth += 1
            case "end" where depth > 0: depth -= 1
            default: break
            }
        }
    }

    /// `$tag$` starting at `index`, if there is one (a positional parameter `$1` is not).
    private static func dollarTag(_ chars: [Unicode.Scalar], at index: Int) -> [Unicode.Scalar]? {
        var j = index + 1
        while j < chars.count, chars[j] == "_" || chars[j].properties.isAlphabetic || (j > index + 1 && ("0"..."9").contains(chars[j])) {
            j += 1
        }
        guard j < chars.count, chars[j] == "$" else { return nil }
        if index > 0, chars[index - 1].properties.isAlphabetic || ("0"..."9").contains(chars[index - 1]) { return nil }
        return Array(chars[index...j])
    }
}
