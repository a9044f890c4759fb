import AutoGLMCore
import Foundation

/// Token ids of the corpus, split into train and validation parts (the first 1 − val_fraction
/// for training, like nanoGPT), and random-offset batch sampling.
public struct TokenDataset: Sendable {
    /// Training tokens.
    public let train: [Int32]
    /// Validation tokens.
    public let validation: [Int32]

    /// No tokens: a session that only samples.
    static let empty = TokenDataset(train: [], validation: [])

    /// Both parts as given.
    private init(train: [Int32], validation: [Int32]) {
        self.train = train
        self.validation = validation
    }

    /// Splits `tokens`; both parts must hold more than `blockSize` tokens.
    public init(tokens: [Int32], valFraction: Double, blockSize: Int) throws {
        let n = Int(Double(tokens.count) * (1 - valFraction))
        train = Array(tokens[..<n])
        validation = Array(tokens[n...])
        guard train.count > blockSize + 1, validation.count > blockSize + 1 else {
            throw DataError(message: "the corpus has \(tokens.count) tokens: too few for block_size \(blockSize) with val_fraction \(valFraction) (each split needs more than block_size + 1)")
        }
    }

    /// A batch of `batch` windows of `seq` tokens at uniform random offsets in
    /// [0, count − seq − 1), with targets shifted by one.
    public static func batch(from tokens: [Int32], batch: Int, seq: Int,
                             rng: inout RandomGenerator) -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](repeating: 0, count: batch * seq)
        var targets = inputs
        for b in 0..<batch {
            let start = rng.below(tokens.count - seq - 1)
            for t in 0..<seq {
                inputs[b * seq + t] = tokens[start + t]
                targets[b * seq + t] = tokens[start + t + 1]
            }
        }
        return (inputs, targets)
    }
}
