/// Parsing `YYYY-MM-DD` and ISO 8601 date-times straight into PostgreSQL's binary
/// timestamp: microseconds since 2000-01-01 00:00:00, in UTC when an offset is given.
package enum CivilTime {
    package enum Failure: Error { case syntax, impossible(String) }

    /// - Throws: ``Failure/syntax`` when the text has no date shape,
    ///   ``Failure/impossible(_:)`` for a well-formed but impossible date or time.
    package static func parse(_ p: UnsafePointer<UInt8>, _ length: Int) throws(Failure) -> Int64 {
        var i = 0
        func digits(_ count: Int) throws(Failure) -> Int {
            guard i + count <= length else { throw .syntax }
            var value = 0
            for _ in 0..<count {
                let d = Int(p[i]) - 48
                guard d >= 0 && d <= 9 else { throw .syntax }
                value = value * 10 + d
                i += 1
            }
            return value
        }
        func expect(_ char: UInt8) throws(Failure) {
            guard i < length, p[i] == char else { throw .syntax }
            i += 1
        }
        let year = try digits(4)
        try expect(UInt8(ascii: "-"))
        let month = try digits(2)
        try expect(UInt8(ascii: "-"))
        let day = try digits(2)
        guard (1...12).contains(month) else { throw .impossible("month \(month) does not exist") }
        let monthDays = daysIn(month: month, year: year)
        guard day >= 1 && day <= monthDays else {
            throw .impossible("\(year)-\(pad(month)) has \(monthDays) days")
        }
        var micros: Int64 = 0
        if i < length {
            guard p[i] == UInt8(ascii: "T") || p[i] == UInt8(ascii: "t") || p[i] == UInt8(ascii: " ") else { throw .syntax }
            i += 1
            let hour = try digits(2)
            try expect(UInt8(ascii: ":"))
            let minute = try digits(2)
            var second = 0
            var fraction: Int64 = 0
            if i < length, p[i] == UInt8(ascii: ":") {
                i += 1
                second = try digits(2)
                if i < length, p[i] == UInt8(ascii: ".") || p[i] == UInt8(ascii: ",") {
                    i += 1
                    var scale: Int64 = 100_000
                    let start = i
                    while i < length, p[i] >= 48, p[i] <= 57 {
                        fraction += Int64(p[i] - 48) * scale
                        scale /= 10
                        i += 1
                    }
                    guard i > start else { throw .syntax }
                }
            }
            guard hour <= 23, minute <= 59, second <= 59 else { throw .impossible("\(pad(hour)):\(pad(minute)):\(pad(second)) is not a time of day") }
            micros = Int64(hour * 3600 + minute * 60 + second) * 1_000_000 + fraction
            if i < length {
                if p[i] == UInt8(ascii: "Z") || p[i] == UInt8(ascii: "z") {
                    i += 1
                } else if p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") {
                    let sign: Int64 = p[i] == UInt8(ascii: "+") ? 1 : -1
                    i += 1
                    let offsetHours = try digits(2)
                    var offsetMinutes = 0
                    if i < length {
                        if p[i] == UInt8(ascii: ":") { i += 1 }
                        offsetMinutes = try digits(2)
                    }
                    guard offsetHours <= 15, offsetMinutes <= 59 else { throw .impossible("offset \(offsetHours):\(pad(offsetMinutes)) is out of range") }
                    micros -= sign * Int64(offsetHours * 3600 + offsetMinutes * 60) * 1_000_000
                } else {
                    throw .syntax
                }
            }
        }
        guard i == length else { throw .syntax }
        guard year >= 1 else { throw .impossible("year 0 does not exist") }
        return (Int64(daysFromCivil(year, month, day)) - 10_957) * 86_400_000_000 + micros
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff` for microseconds since 2000-01-01, as PostgreSQL reads it.
    package static func format(_ micros: Int64, dateOnly: Bool = false) -> String {
        let day = Int64(86_400_000_000)
        var days = micros / day
        var rest = micros % day
        if rest < 0 { rest += day; days -= 1 }
        let (year, month, dayOfMonth) = civilFromDays(Int(days) + 10_957)
        func pad(_ v: Int, _ width: Int = 2) -> String {
            let text = String(v)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let date = "\(pad(year, 4))-\(pad(month))-\(pad(dayOfMonth))"
        if dateOnly { return date }
        let seconds = Int(rest / 1_000_000), fraction = Int(rest % 1_000_000)
        return "\(date) \(pad(seconds / 3600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60)).\(pad(fraction, 6))"
    }

    /// The inverse of ``daysFromCivil(_:_:_:)``.
    static func civilFromDays(_ z: Int) -> (Int, Int, Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
