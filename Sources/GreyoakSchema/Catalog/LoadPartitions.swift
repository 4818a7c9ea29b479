import GreyoakPostgres

/// Partitions that loads make are data, not schema: the one rule `verify` and
/// `revision --autogenerate` share about them.
///
/// A partitioned `scores` gains a partition each time a load brings a new month (and
/// pg_partman's maintenance makes some ahead and drops old ones), so the live database and
/// the migrations replayed from nothing never hold the same set. For `scores`, and for every
/// parent pg_partman manages, a partition (with its columns, constraints, the indexes its
/// parent's indexes put on it, and what hangs on it: grants, comments, cloned triggers) is
/// left out of both sides; present on one side only, or with other bounds, it is no
/// difference and generates nothing. The parent itself, its partition key and its
/// partitioned indexes are compared as before, and an index made by hand on one partition
/// (no index of the parent owns it) still counts: it is kept in
/// ``SchemaCatalog/handMadePartitionIndexes``. Partitions of any other partitioned table
/// stay schema objects, with their bounds.
public enum LoadPartitions {
    /// The table greyoak loads into.
    static let loadTarget = "scores"

    /// Both catalogs with the partitions of `scores` and of pg_partman's parents left out.
    ///
    /// A parent counts when either side says pg_partman manages it (retention may have run
    /// on one side only); a partition that is itself partitioned takes its partitions along.
    public static func leftOut(of first: SchemaCatalog, _ second: SchemaCatalog) -> (SchemaCatalog, SchemaCatalog) {
        let parents = first.partmanParents.union(second.partmanParents).union([loadTarget])
        return (first.leavingOutPartitions(of: parents), second.leavingOutPartitions(of: parents))
    }

    /// Where pg_partman is installed (its schema quoted, and that schema's OID), and whether
    /// this role may read its `part_config`; nil without the extension.
    ///
    /// The privileges are asked by OID: by name, a role without USAGE on the schema gets
    /// "permission denied for schema" (an error, which also aborts the transaction it runs
    /// in), not false.
    package static func partman(_ connection: Connection) throws -> (schema: String, oid: String, readsConfig: Bool)? {
        guard let row = try connection.execute("""
            SELECT quote_ident(n.nspname), n.oid::text, has_schema_privilege(n.oid, 'USAGE') AND coalesce((
                       SELECT has_table_privilege(c.oid, 'SELECT') FROM pg_class c
                       WHERE c.relnamespace = n.oid AND c.relname = 'part_config'), false)
            FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'
            """).rows.first, let schema = row[0], let oid = row[1] else { return nil }
        return (schema, oid, row[2] == "t")
    }

    /// The parents pg_partman manages in `schema`, from its `part_config`; none without the extension.
    ///
    /// A role that may not read `part_config` (a loader verifying) gets them from the
    /// template tables pg_partman 4 makes for each parent (`template_<schema>_<table>` in its
    /// own schema), which `pg_class` shows to anyone.
    package static func partmanParents(_ connection: Connection, schema: String) throws -> Set<String> {
        guard let partman = try partman(connection) else { return [] }
        guard partman.readsConfig else {
            let prefix = "template_\(schema)_"
            return Set(try connection.execute("""
                SELECT relname FROM pg_class WHERE relnamespace = $1::oid AND starts_with(relname, $2)
                """, [partman.oid, prefix]).column.map { String($0.dropFirst(prefix.count)) })
        }
        let qualified = try connection.execute("SELECT parent_table FROM \(partman.schema).part_config").column
        // part_config names parents `schema.table` as the user wrote them to create_parent.
        return Set(qualified.compactMap { name in
            let parts = name.split(separator: ".", maxSplits: 1).map { $0.trimmingCharacters(in: ["\""]) }
            return parts.count == 2 && parts[0] == schema ? parts[1] : nil
        })
    }
}

extension SchemaCatalog {
    fileprivate func leavingOutPartitions(of parents: Set<String>) -> SchemaCatalog {
        var copy = self
        var dataParents = parents.filter { tables[$0]?.partitionKey != nil }
        var removed: Set<String> = []
        while let partition = copy.tables.values.first(where: { $0.partitionOf.map(dataParents.contains) == true }) {
            copy.tables[partition.name] = nil
            removed.insert(partition.name)
            if partition.partitionKey != nil { dataParents.insert(partition.name) }
            for index in partition.indexes.values where !index.attachedToParent {
                copy.handMadePartitionIndexes[index.name] = index
            }
        }
        copy.objects = copy.objects.filter { $0.value.hangsOn.isDisjoint(with: removed) }
        return copy
    }
}
