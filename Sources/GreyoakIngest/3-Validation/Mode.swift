import GreyoakPostgres
/// A score's mode: the GreyOak engine scores every ticker for traders and for investors.
public enum Mode: Int, CaseIterable, Sendable, CustomStringConvertible {
    case trader, investor

    /// As stored in `scores.mode`.
    public var name: String { Self.names[rawValue] }
    public var description: String { name }

    private static let names = ["Trader", "Investor"]
    static let list = names.joined(separator: ", ")
    /// ``name`` as bytes, for the COPY encoder.
    package var bytes: [UInt8] { Self.nameBytes[rawValue] }
    private static let nameBytes = names.map { Array($0.utf8) }

    /// The mode an input spelling names, in any letter case.
    package static func parse(_ p: UnsafePointer<UInt8>, _ n: Int) -> Mode? {
        for (index, name) in nameBytes.enumerated() where name.count == n {
            var same = true
            for i in 0..<n where p[i] | 0x20 != name[i] | 0x20 { same = false; break }
            if same { return Mode(rawValue: index) }
        }
        return nil
    }
}
