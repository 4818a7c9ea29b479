import GreyoakPostgres
/// Rows of a catalog query whose columns are read by name of what they hold, so that a NULL
/// where the catalog should never give one is an error that says where, not a crash.
struct CatalogRow {
    let values: [String?]
    /// What the query reads, for the error (`columns of schema public`).
    let what: String

    /// Column `index`, which must not be NULL.
    func text(_ index: Int, _ column: String) throws -> String {
        guard index < values.count, let value = values[index] else {
            throw GreyoakError(.databaseError, "reading the catalog (\(what)): \(column) is NULL, which PostgreSQL 15's catalog never gives",
                               hint: "a catalog this version of greyoak does not know; please report it with the server version")
        }
        return value
    }

    /// Column `index`, NULL allowed.
    func optional(_ index: Int) -> String? { index < values.count ? values[index] : nil }

    func flag(_ index: Int) -> Bool { optional(index) == "t" }
}

extension Connection {
    /// Runs a catalog query; each row comes as a ``CatalogRow`` that names `what` in its errors.
    func catalogRows(_ sql: String, _ parameters: [String?] = [], reading what: String) throws -> [CatalogRow] {
        try execute(sql, parameters).rows.map { CatalogRow(values: $0, what: what) }
    }
}
