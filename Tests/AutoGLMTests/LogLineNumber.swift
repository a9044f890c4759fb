import Foundation

/// Exact numbers of `log.jsonl` records, for the tests that compare logged values bit for bit.
enum LogLineNumber {
    /// The number under `key` in one record's text (NaN when absent): read with `Double(text)`,
    /// which is exact where Foundation's JSON number parsing may round on Linux.
    static func value<Line: StringProtocol>(_ key: String, in line: Line) -> Double {
        guard let range = line.range(of: "\"\(key)\":([^,}]+)", options: .regularExpression) else { return .nan }
        return Double(line[range].dropFirst(key.count + 3)) ?? .nan
    }
}
