/// How a dry run, which has no database to ask, finds keys that occur more than once.
///
/// Exactly, a table of every key costs memory in proportion to the input (about 32 bytes a
/// key). So a dry run over files first *screens* the keys in fixed memory (``KeyScreen``),
/// which names the keys that may repeat and reports nothing; only when it names some does the
/// run read its input a second time, remembering exactly just those keys (standard input
/// from its kept copy, ``StdinSpool``).
package enum InMemoryDuplicateCheck: Sendable {
    /// First pass: collect the keys that may repeat, in fixed memory.
    case screen
    /// Remember keys exactly and report repeats: all of them, or only `candidates` (key hashes).
    case exact(candidates: Set<UInt64>?)
}
