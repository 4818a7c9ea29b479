import GreyoakPostgres
/// What upgrading or downgrading does, step by step, including each step's change to
/// `alembic_version`, computed exactly as Alembic's `HeadMaintainer` would.
public struct MigrationStep: Sendable, Equatable {
    public let migration: Migration
    public let isUpgrade: Bool
    public let versionChanges: [VersionChange]
    public let headsBefore: [String]
    public let headsAfter: [String]
}

/// One statement against `alembic_version`: a linear step UPDATEs, a new branch INSERTs,
/// a merge DELETEs all parents but one, going to base DELETEs.
public enum VersionChange: Sendable, Equatable {
    case insert(String)
    case delete(String)
    case update(from: String, to: String)

    public var sql: String {
        switch self {
        case let .insert(id): "INSERT INTO alembic_version (version_num) VALUES ('\(id)')"
        case let .delete(id): "DELETE FROM alembic_version WHERE alembic_version.version_num = '\(id)'"
        case let .update(from, to):
            "UPDATE alembic_version SET version_num='\(to)' WHERE alembic_version.version_num = '\(from)'"
        }
    }

    package func apply(to heads: inout [String]) {
        switch self {
        case let .insert(id): heads.append(id)
        case let .delete(id): heads.removeAll { $0 == id }
        case let .update(from, to): heads = heads.map { $0 == from ? to : $0 }
        }
    }
}

extension RevisionGraph {
    /// The steps from `current` up to `targets`, oldest first.
    ///
    /// - Throws: ``GreyoakError`` when a target lies below the current heads.
    public func upgradePlan(from current: [String], to targets: [String]) throws -> [MigrationStep] {
        let have = ancestorsOrSelf(current)
        let pending = ancestorsOrSelf(targets).subtracting(have)
        if pending.isEmpty, let behind = targets.first(where: { have.contains($0) && !current.contains($0) }) {
            throw GreyoakError(.usage, "Destination \(behind) is not a valid upgrade target from current head(s) \(current.joined(separator: ", "))",
                               hint: "it is below the current revision: use `greyoak db downgrade \(behind)`")
        }
        var heads = current
        return newestFirst(pending).reversed().map { id in
            let changes = upgradeChanges(for: id, heads: heads)
            let before = heads
            changes.forEach { $0.apply(to: &heads) }
            return MigrationStep(migration: migrations[id]!, isUpgrade: true, versionChanges: changes, headsBefore: before, headsAfter: heads)
        }
    }

    /// The steps from `current` down to `targets` (empty: base), newest first.
    public func downgradePlan(from current: [String], to targets: [String]) throws -> [MigrationStep] {
        let have = ancestorsOrSelf(current)
        if let ahead = targets.first(where: { !have.contains($0) }) {
            throw GreyoakError(.usage, "Destination \(ahead) is not a valid downgrade target from current head(s) \(current.isEmpty ? "<base>" : current.joined(separator: ", "))",
                               hint: "it is not below the current revision: use `greyoak db upgrade \(ahead)`")
        }
        let undo = targets.isEmpty ? have : have.intersection(descendantsOrSelf(targets).subtracting(targets))
        var heads = current
        return newestFirst(undo).map { id in
            let changes = downgradeChanges(for: id, heads: heads)
            let before = heads
            changes.forEach { $0.apply(to: &heads) }
            return MigrationStep(migration: migrations[id]!, isUpgrade: false, versionChanges: changes, headsBefore: before, headsAfter: heads)
        }
    }

    /// How `stamp` moves the version table to `targets` without running any migration.
    ///
    /// A current head on the same line as a target is moved to it; a target unrelated to
    /// every current head is added. With `purge`, every row goes first.
    public func stampChanges(from current: [String], to targets: [String], purge: Bool) -> [VersionChange] {
        var heads = purge ? [] : current
        var changes: [VersionChange] = purge ? current.map { .delete($0) } : []
        if targets.isEmpty {
            changes += heads.map { .delete($0) }
            return changes
        }
        for target in targets where !heads.contains(target) {
            let related = heads.filter { ancestorsOrSelf([target]).contains($0) || descendantsOrSelf([target]).contains($0) }
            if let first = related.first {
                for extra in related.dropFirst() { changes.append(.delete(extra)); heads.removeAll { $0 == extra } }
                changes.append(.update(from: first, to: target))
                heads = heads.map { $0 == first ? target : $0 }
            } else {
                changes.append(.insert(target))
                heads.append(target)
            }
        }
        return changes
    }

    private func upgradeChanges(for id: String, heads: [String]) -> [VersionChange] {
        let parents = parents(of: id)
        let present = parents.filter(heads.contains)
        if parents.isEmpty || present.isEmpty { return [.insert(id)] }
        if parents.count > 1, present.count > 1 {
            let others = heads.filter { !parents.contains($0) }
            let shadowed = others.isEmpty ? Set() : ancestorsOrSelf(others)
            let merging = present.filter { !shadowed.contains($0) }
            guard let last = merging.last else { return [.insert(id)] }
            return merging.dropLast().map { .delete($0) } + [.update(from: last, to: id)]
        }
        return [.update(from: present[0], to: id)]
    }

    private func downgradeChanges(for id: String, heads: [String]) -> [VersionChange] {
        let parents = parents(of: id)
        let others = heads.filter { $0 != id }
        let shadowed = others.isEmpty ? Set() : ancestorsOrSelf(others)
        let unmergeTo = parents.filter { !shadowed.contains($0) }
        if parents.isEmpty || unmergeTo.isEmpty { return [.delete(id)] }
        if parents.count > 1 {
            return [.update(from: id, to: unmergeTo.last!)] + unmergeTo.dropLast().map { .insert($0) }
        }
        return [.update(from: id, to: parents[0])]
    }
}
