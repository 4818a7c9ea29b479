/// What to do with a key that appears twice in one run.
public enum DuplicatePolicy: String, Sendable, CaseIterable {
    /// Refuse the run, naming both places.
    case error
    /// Keep the later row (file order, then line order).
    case last
}
