/// A key staged more than once, as a writer's duplicate check finds it: where it occurs
/// first and second (file index and line or record number), and in how many places.
struct DuplicateGroup: Sendable, Equatable {
    var ticker: String
    /// `YYYY-MM-DD HH24:MI:SS`, as the server prints the staged timestamp.
    var scoringDate: String
    var mode: String
    var first: (file: Int, ordinal: Int)
    var second: (file: Int, ordinal: Int)
    var places: Int

    static func == (lhs: DuplicateGroup, rhs: DuplicateGroup) -> Bool {
        lhs.ticker == rhs.ticker && lhs.scoringDate == rhs.scoringDate && lhs.mode == rhs.mode
            && lhs.first == rhs.first && lhs.second == rhs.second && lhs.places == rhs.places
    }

    /// The error for the group, reported at its second place and naming the first.
    func rowError(files: [InputFile]) -> RowError {
        let shownDate = scoringDate.hasSuffix(" 00:00:00") ? String(scoringDate.dropLast(9)) : scoringDate
        return RowError(file: files[second.file].name, fileIndex: second.file, location: files[second.file].location(second.ordinal),
                        column: "ticker", value: ticker,
                        rule: .duplicateKey(ticker: ticker, date: shownDate, mode: mode, firstFile: files[first.file].name,
                                            firstLocation: files[first.file].location(first.ordinal), morePlaces: places - 2))
    }
}
