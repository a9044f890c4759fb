import Foundation

/// Character-level tokenizer: the sorted set of Unicode scalars of the training text (as
/// nanoGPT's `sorted(set(text))`), one id each. Saved with the run as `tokenizer.json`.
public struct CharTokenizer: Sendable, Codable, Equatable {
    /// Unicode scalar values, sorted; the index is the token id.
    public let vocabulary: [UInt32]
    private var ids: [UInt32: Int32] = [:]

    private enum CodingKeys: String, CodingKey { case vocabulary }

    /// Builds the vocabulary of `text`.
    public init(text: String) {
        var meter = WorkMeter(total: text.utf8.count, report: nil)
        self.init(vocabulary: Self.vocabulary(of: text, meter: &meter))
    }

    /// The tokenizer of `text` and the ids of `text`, as `init(text:)` and then `encode(_:)`
    /// give them, reporting (done, total) to `progress` every `WorkMeter.interval` units and at
    /// the end: each UTF-8 byte of the text is a unit once in the vocabulary pass and once in
    /// the encoding pass.
    public static func tokenize(_ text: String, progress: ((Int, Int) -> Void)?) throws -> (CharTokenizer, [Int32]) {
        var meter = WorkMeter(total: 2 * text.utf8.count, report: progress)
        let tokenizer = CharTokenizer(vocabulary: vocabulary(of: text, meter: &meter))
        let ids = try tokenizer.encode(text, meter: &meter)
        progress?(meter.total, meter.total)
        return (tokenizer, ids)
    }

    /// The sorted scalar values of `text` (a bitmap over the Unicode code space, so the text is
    /// walked once without a copy).
    private static func vocabulary(of text: String, meter: inout WorkMeter) -> [UInt32] {
        var seen = [UInt64](repeating: 0, count: 0x110000 / 64)
        for scalar in text.unicodeScalars {
            seen[Int(scalar.value >> 6)] |= 1 << UInt64(scalar.value & 63)
            meter.advance(UTF8.width(scalar))
        }
        var values: [UInt32] = []
        for (word, bits) in seen.enumerated() where bits != 0 {
            for bit in 0..<64 where bits & (1 << UInt64(bit)) != 0 { values.append(UInt32(word * 64 + bit)) }
        }
        return values
    }

    /// A tokenizer with a given vocabulary.
    public init(vocabulary: [UInt32]) {
        self.vocabulary = vocabulary
        for (i, v) in vocabulary.enumerated() { ids[v] = Int32(i) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vocabulary: try c.decode([UInt32].self, forKey: .vocabulary))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabulary, forKey: .vocabulary)
    }

    /// Number of tokens.
    public var count: Int { vocabulary.count }

    /// Token ids of `text`; characters outside the vocabulary are reported.
    public func encode(_ text: String) throws -> [Int32] {
        var meter = WorkMeter(total: text.utf8.count, report: nil)
        return try encode(text, meter: &meter)
    }

    /// Token ids of `text`, counting its UTF-8 bytes on `meter`.
    private func encode(_ text: String, meter: inout WorkMeter) throws -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let id = ids[scalar.value] else {
                throw DataError(message: "character '\(scalar.escaped(asASCII: true))' is not in the vocabulary of this run")
            }
            out.append(id)
            meter.advance(UTF8.width(scalar))
        }
        return out
    }

    /// Text of `tokens`.
    public func decode(_ tokens: [Int32]) -> String {
        var s = String.UnicodeScalarView()
        for t in tokens where t >= 0 && Int(t) < vocabulary.count {
            if let u = Unicode.Scalar(vocabulary[Int(t)]) { s.append(u) }
        }
        return String(s)
    }

    /// Writes the tokenizer as JSON.
    public func save(to url: URL) throws {
        try JSONEncoder().encode(self).write(to: url, options: .atomic)
    }

    /// Reads a tokenizer written by `save`.
    public static func load(from url: URL) throws -> CharTokenizer {
        try JSONDecoder().decode(CharTokenizer.self, from: Data(contentsOf: url))
    }
}

/// Counts units of work and reports (done, total) every `interval` units.
private struct WorkMeter {
    /// Units between two reports.
    static let interval = 1 << 22
    /// Units of the whole job.
    let total: Int
    /// Receives (done, total); nil: nothing is reported.
    let report: ((Int, Int) -> Void)?
    /// Units done.
    private(set) var done = 0
    /// When the next report is due.
    private var next = WorkMeter.interval

    init(total: Int, report: ((Int, Int) -> Void)?) {
        self.total = total
        self.report = report
    }

    /// Counts `units` more.
    mutating func advance(_ units: Int) {
        done += units
        if done >= next {
            next = done + Self.interval
            report?(done, total)
        }
    }
}
