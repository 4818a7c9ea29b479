import Foundation

/// Splits a SQL script into statements the way the server would read them.
///
/// Needed because `CREATE INDEX CONCURRENTLY` cannot run inside the implicit transaction
/// of a multi-statement query string, and because an error should name the statement that
/// failed. It understands quoted strings, `E''` escapes, quoted identifiers, dollar
/// quoting, `--` comments and nested `/* */` comments.
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

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if let startLine, !text.isEmpty { statements.append(Statement(text: text, line: startLine)) }
            current = String.UnicodeScalarView()
            startLine = nil
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
            } else if c == ";" {
                i += 1
                flush()
            } else {
                take()
            }
        }
        flush()
        return statements
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
