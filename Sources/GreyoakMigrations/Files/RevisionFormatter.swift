/// Alembic's text formats for revisions, so that people and scripts used to
/// `alembic history`, `show`, `heads` and `current` read greyoak's output unchanged.
public struct RevisionFormatter: Sendable {
    public let graph: RevisionGraph
    /// Revisions to mark `(current)` (`history -i`).
    public var current: Set<String> = []

    public init(graph: RevisionGraph, current: Set<String> = []) {
        self.graph = graph
        self.current = current
    }

    /// `<base>` or the comma-separated parents.
    public func parentsText(_ id: String) -> String {
        let parents = graph.parents(of: id)
        return parents.isEmpty ? "<base>" : parents.joined(separator: ", ")
    }

    /// Alembic's one-line form (`Script._head_only`):
    /// `<parents> -> <id> (head) (current) (branchpoint) (mergepoint), <message>`.
    public func line(_ id: String, parents: Bool = false, treeIndicators: Bool = true, message: Bool = false) -> String {
        var text = parents ? "\(parentsText(id)) -> \(id)" : id
        if graph.isHead(id) { text += " (head)" }
        if current.contains(id) { text += " (current)" }
        if treeIndicators {
            if graph.isBranchPoint(id) { text += " (branchpoint)" }
            if graph.isMergePoint(id) { text += " (mergepoint)" }
        }
        if message { text += ", \(graph.migrations[id]!.message)" }
        return text
    }

    /// Alembic's verbose block (`Script.log_entry`), ending with a newline.
    public func block(_ id: String) -> String {
        let migration = graph.migrations[id]!
        var text = "Rev: \(id)"
        if graph.isHead(id) { text += " (head)" }
        if graph.isBranchPoint(id) { text += " (branchpoint)" }
        if graph.isMergePoint(id) { text += " (mergepoint)" }
        if current.contains(id) { text += " (current)" }
        text += "\n"
        text += graph.isMergePoint(id) ? "Merges: \(parentsText(id))\n" : "Parent: \(parentsText(id))\n"
        if graph.isBranchPoint(id) { text += "Branches into: \(graph.children[id, default: []].joined(separator: ", "))\n" }
        text += "Path: \(migration.path)\n\n"
        text += migration.docLines.map { "    \($0)" }.joined(separator: "\n") + "\n"
        return text
    }
}
