import Foundation

/// The migrations of a directory as Alembic's revision DAG: several heads, branch points
/// and merge points are all allowed; duplicate ids, unknown parents and cycles are not.
public struct RevisionGraph: Sendable {
    public let directory: String
    /// Every migration by revision id.
    public let migrations: [String: Migration]
    /// Revision ids in file-name order: the tie-break wherever Alembic uses load order.
    public let loadOrder: [String]
    /// Children of each revision, in load order.
    public let children: [String: [String]]

    /// Reads every `*.sql` file of `directory`.
    ///
    /// - Throws: ``MigrationFileError`` for an unreadable or malformed file, a revision
    ///   defined twice, a parent no file defines, or a cycle.
    public init(directory: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MigrationFileError(path: directory, line: nil,
                                     message: "is not a directory of migrations (set --migrations or GREYOAK_MIGRATIONS)")
        }
        let names = try fm.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }.sorted()
        var list: [Migration] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = fm.contents(atPath: path) else {
                throw MigrationFileError(path: path, line: nil, message: "cannot be read")
            }
            list.append(try Migration.parse(Array(data), path: path))
        }
        try self.init(directory: directory, migrations: list)
    }

    /// Builds the graph from parsed migrations, checking it.
    public init(directory: String, migrations list: [Migration]) throws {
        var byID: [String: Migration] = [:]
        for migration in list {
            if let other = byID[migration.revision] {
                throw MigrationFileError(path: migration.path, line: nil,
                                         message: "revision \(migration.revision) is also defined in \(other.fileName)")
            }
            byID[migration.revision] = migration
        }
        var children: [String: [String]] = [:]
        for migration in list {
            for parent in migration.parents {
                guard byID[parent] != nil else {
                    throw MigrationFileError(path: migration.path, line: nil,
                                             message: "revises \(parent), which no migration file defines")
                }
                children[parent, default: []].append(migration.revision)
            }
        }
        self.directory = directory
        self.migrations = byID
        self.loadOrder = list.map(\.revision)
        self.children = children
        if let cycle = findCycle() {
            throw MigrationFileError(path: byID[cycle[0]]!.path, line: nil,
                                     message: "revisions form a cycle: \(cycle.joined(separator: " -> "))")
        }
    }

    // MARK: - Shape

    public var heads: [String] { loadOrder.filter { children[$0, default: []].isEmpty } }
    public var bases: [String] { loadOrder.filter { migrations[$0]!.parents.isEmpty } }
    public func isHead(_ id: String) -> Bool { children[id, default: []].isEmpty }
    public func isBranchPoint(_ id: String) -> Bool { children[id, default: []].count > 1 }
    public func isMergePoint(_ id: String) -> Bool { (migrations[id]?.parents.count ?? 0) > 1 }

    public func parents(of id: String) -> [String] { migrations[id]?.parents ?? [] }

    /// All revisions reachable downwards from `ids`, including them.
    public func ancestorsOrSelf(_ ids: some Sequence<String>) -> Set<String> {
        closure(ids) { parents(of: $0) }
    }

    /// All revisions reachable upwards from `ids`, including them.
    public func descendantsOrSelf(_ ids: some Sequence<String>) -> Set<String> {
        closure(ids) { children[$0, default: []] }
    }

    private func closure(_ ids: some Sequence<String>, next: (String) -> [String]) -> Set<String> {
        var seen = Set<String>()
        var stack = Array(ids)
        while let id = stack.popLast() {
            if seen.insert(id).inserted { stack.append(contentsOf: next(id)) }
        }
        return seen
    }

    /// `subset` ordered newest first, the way `alembic history` walks: a port of Alembic's
    /// `_topological_sort`, which keeps walking down one branch until another head still
    /// depends on the revision it would emit next.
    public func newestFirst(_ subset: Set<String>) -> [String] {
        var todo = subset
        var currentHeads = loadOrder.filter { id in
            subset.contains(id) && !children[id, default: []].contains(where: subset.contains)
        }
        var ancestors = currentHeads.map { ancestorsOrSelf([$0]) }
        var output: [String] = []
        var candidateIndex = 0
        while !currentHeads.isEmpty {
            let candidate = currentHeads[candidateIndex]
            if let other = ancestors.indices.first(where: { $0 != candidateIndex && ancestors[$0].contains(candidate) }) {
                candidateIndex = other
                continue
            }
            if todo.remove(candidate) != nil { output.append(candidate) }
            let toAdd = parents(of: candidate).filter { todo.contains($0) && !currentHeads.contains($0) }
            if toAdd.isEmpty {
                currentHeads.remove(at: candidateIndex)
                ancestors.remove(at: candidateIndex)
                candidateIndex = max(candidateIndex - 1, 0)
            } else {
                currentHeads[candidateIndex] = toAdd[0]
                ancestors[candidateIndex] = ancestorsOrSelf([toAdd[0]])
                for extra in toAdd.dropFirst() {
                    currentHeads.append(extra)
                    ancestors.append(ancestorsOrSelf([extra]))
                }
            }
        }
        // Anything left is reachable only through revisions outside the subset.
        output.append(contentsOf: loadOrder.filter { todo.contains($0) }.reversed())
        return output
    }

    private func findCycle() -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            if marks[id] == .done { return nil }
            if marks[id] == .visiting {
                let start = path.firstIndex(of: id)!
                return Array(path[start...]) + [id]
            }
            marks[id] = .visiting
            path.append(id)
            for parent in parents(of: id) {
                if let cycle = visit(parent) { return cycle }
            }
            path.removeLast()
            marks[id] = .done
            return nil
        }
        for id in loadOrder {
            if let cycle = visit(id) { return cycle }
        }
        return nil
    }
}
