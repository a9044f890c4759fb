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
        self.init(vocabulary: Set(text.unicodeScalars.map(\.value)).sorted())
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
        try text.unicodeScalars.map { scalar in
            guard let id = ids[scalar.value] else {
                throw DataError(message: "character '\(scalar.escaped(asASCII: true))' is not in the vocabulary of this run")
            }
            return id
        }
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
