import Foundation

/// Which tokens a full evaluation (`Session.evaluate(split:text:)`, `autoglm eval`) scores.
public enum EvaluationSplit: String, CaseIterable, Sendable {
    /// The first 1 − `data.val_fraction` of the tokens, which the run trained on.
    case train
    /// The last `data.val_fraction` of the tokens, held out during training.
    case val
    /// Every token (the natural choice for a text of one's own).
    case all

    /// This split of `tokens`, cut as the run's training cut its corpus.
    func tokens(of tokens: [Int32], valFraction: Double) -> ArraySlice<Int32> {
        let cut = TokenDataset.trainCount(tokens.count, valFraction: valFraction)
        switch self {
        case .train: return tokens[..<cut]
        case .val: return tokens[cut...]
        case .all: return tokens[...]
        }
    }
}

/// The result of evaluating a whole split in consecutive blocks: the mean loss over every
/// target and every evaluator's metrics, with what was scored.
public struct SplitEvaluation: Sendable, Equatable {
    /// The split scored.
    public var split: EvaluationSplit
    /// Where the text came from: `data.path`'s value, or the file given.
    public var source: String
    /// The step of the model's checkpoint.
    public var step: Int
    /// Tokens in the split.
    public var tokens: Int
    /// Targets predicted (tokens − 1: every token but the first).
    public var targets: Int
    /// Windows evaluated (full block_size windows, then one shorter window for what is left).
    public var blocks: Int
    /// `loss` (mean cross-entropy per target, nats) first, then each evaluator's metrics by
    /// their own names.
    public var metrics: [Metric]

    /// The tokens of `split` of `text` (read from `config.data.path` when nil) in the run's
    /// vocabulary, and a description of where they came from.
    /// - Throws: `DataError` naming the text, for a corpus that cannot be read, a character the
    ///   run's vocabulary lacks, or a split of fewer than two tokens.
    static func tokens(_ split: EvaluationSplit, text: (content: String, source: String)?, config: RunConfig,
                       tokenizer: CharTokenizer) throws -> (tokens: [Int32], source: String) {
        let source = text?.source ?? "data.path '\(config.data.path)'"
        let content: String
        do {
            content = try text?.content ?? Corpus.load(path: config.data.path)
        } catch let error as DataError {
            throw DataError(message: "\(error.message); the run's corpus is needed for its splits: give the text with --data FILE (all of it is evaluated)")
        }
        let ids: [Int32]
        do {
            ids = try tokenizer.encode(content)
        } catch let error as DataError {
            throw DataError(message: "\(source): \(error.message) (\(tokenizer.count) characters): evaluate a text written in the run's characters")
        }
        let part = Array(split.tokens(of: ids, valFraction: config.data.valFraction))
        guard part.count >= 2 else {
            throw DataError(message: "\(source): the \(split.rawValue) split holds \(part.count) token\(part.count == 1 ? "" : "s"): at least 2 are needed (one input, one target)")
        }
        return (part, source)
    }
}
