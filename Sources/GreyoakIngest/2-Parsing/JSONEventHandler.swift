/// What a ``JSONScanner`` reports, token by token, to the code that gives the tokens a
/// meaning (``JSONRecordParser`` for score files, ``JSONParser`` for a tree).
///
/// Byte arguments are valid only during the call: strings arrive unescaped and checked
/// UTF-8, numbers as the exact text of an RFC 8259 number.
protocol JSONEventHandler: AnyObject {
    func beginObject() throws
    func endObject() throws
    func beginArray() throws
    func endArray() throws
    /// A member name; the member's value follows.
    func key(_ bytes: UnsafeRawBufferPointer) throws
    func string(_ bytes: UnsafeRawBufferPointer) throws
    func number(_ bytes: UnsafeRawBufferPointer) throws
    /// `true`, `false` or `null`.
    func literal(_ value: JSONLiteral) throws
    /// A top-level value is complete (NDJSON: one per line).
    func endValue() throws
}

enum JSONLiteral: Sendable {
    case `true`, `false`, null

    var text: StaticString {
        switch self {
        case .true: "true"
        case .false: "false"
        case .null: "null"
        }
    }
}
