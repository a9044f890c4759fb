import Foundation

/// One token of a sample (`Session.sampleTokens`, `autoglm sample --json`): its id, its text and
/// its log-probability under the model.
public struct SampledToken: Sendable, Equatable {
    /// Token id.
    public var id: Int32
    /// Its text (one character).
    public var text: String
    /// Natural log of the probability the model gave it: log-softmax of the raw logits, before
    /// the temperature and top-k that shaped the draw, so it scores the text whatever sampled it.
    public var logProb: Double

    /// Creates a token.
    public init(id: Int32, text: String, logProb: Double) {
        self.id = id; self.text = text; self.logProb = logProb
    }

    /// log softmax(`logits`)[`index`], in double precision (max-shifted).
    public static func logProbability(of index: Int, in logits: UnsafeBufferPointer<Float>) -> Double {
        let top = Double(logits.max() ?? 0)
        let sum = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(logits[index]) - top - log(sum)
    }
}
