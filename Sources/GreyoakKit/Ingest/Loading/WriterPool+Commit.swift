extension WriterPool {
    /// Commits every writer, one after another.
    ///
    /// - Throws: ``GreyoakError/Code/databaseError`` when one fails, after rolling back
    ///   those not yet committed, saying how many had committed already.
    func commit() throws {
        for (index, writer) in writers.enumerated() {
            do {
                try writer.commit()
            } catch {
                writers[(index + 1)...].forEach { $0.rollback() }
                throw GreyoakError(.databaseError,
                                   "writer \(index + 1) of \(writers.count) failed to commit after \(index) had committed: \(error)",
                                   hint: index > 0 ? "run the same files again: rows already committed read as unchanged and the rest load" : nil)
            }
        }
    }
}
