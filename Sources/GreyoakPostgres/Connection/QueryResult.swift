internal import CLibPQ

/// The rows of one statement's result, owned: it calls `PQclear` when released.
public final class QueryResult {
    private let raw: OpaquePointer

    init(_ raw: OpaquePointer) { self.raw = raw }
    deinit { PQclear(raw) }

    public var rowCount: Int { Int(PQntuples(raw)) }
    public var columnCount: Int { Int(PQnfields(raw)) }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY (0 when the command reports none).
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(raw))) ?? 0 }

    /// The text value at a row and column, or `nil` for NULL.
    public subscript(row: Int, column: Int) -> String? {
        precondition(row < rowCount && column < columnCount, "result index out of range")
        if PQgetisnull(raw, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(raw, Int32(row), Int32(column)))
    }

    /// Every row as text values; fine for the small results of catalog queries.
    public var rows: [[String?]] {
        (0..<rowCount).map { row in (0..<columnCount).map { self[row, $0] } }
    }

    /// The first column of every row, NULLs dropped.
    public var column: [String] { (0..<rowCount).compactMap { self[$0, 0] } }

    /// Builds the error this result carries, if it is an error result.
    func error(scrub: (String) -> String) -> PostgresError? {
        let status = PQresultStatus(raw)
        guard status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE else {
            return nil
        }
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(raw, Int32(code)) else { return nil }
            return scrub(String(cString: value))
        }
        // PG_DIAG_* are character macros Swift cannot import.
        let message = field(UInt8(ascii: "M")) ?? scrub(String(cString: PQresultErrorMessage(raw)))
        return PostgresError(
            code: .statementFailed,
            message: message.trimmingCharacters(in: .whitespacesAndNewlines),
            sqlState: field(UInt8(ascii: "C")),
            detail: field(UInt8(ascii: "D")),
            hint: field(UInt8(ascii: "H")),
            context: field(UInt8(ascii: "W"))
        )
    }
}
