extension WriterPool {
    /// Commits every writer at the load's one commit point: see ``LoadCommit``.
    func commit(with commit: LoadCommit, summary: IngestSummary, attach: String? = nil) throws {
        try commit.commit(writers, summary: summary, attach: attach)
    }
}
