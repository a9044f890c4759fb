import AutoGLMCore
import Foundation

/// The logits of the token after a growing sequence, for autoregressive sampling. While the
/// sequence fits the block size and every block's attention has the incremental `decode` entry
/// (ABI 1.2), it feeds only the tokens added since the last call through the model, against a
/// `KVCache`; otherwise (a component without `decode`, or a sequence longer than the block size,
/// whose window moves on every token) it recomputes the model over the last block_size tokens,
/// which is what sampling always did. Both give the same logits up to float rounding.
public final class NextTokenLogits {
    /// The model.
    let model: GPT
    /// The cache, when incremental decoding is possible and wanted.
    private let cache: KVCache?
    /// The tokens the cache holds.
    private var cachedTokens: [Int32] = []

    /// Next-token logits of `model`, incrementally when `cached` and the model can decode.
    public init(model: GPT, cached: Bool = true) {
        self.model = model
        cache = cached && model.decodes ? KVCache(model: model) : nil
    }

    /// Whether the logits come from incremental decoding (while the sequence fits).
    public var isCached: Bool { cache != nil }

    /// The logits (vocabulary-sized) of the token that follows `tokens` (the whole sequence so
    /// far, at least one token). Call it under `Autograd.withNoGrad`.
    public func logits(after tokens: [Int32]) throws -> [Float] {
        precondition(!tokens.isEmpty, "logits(after:) needs at least one token")
        if let cache, tokens.count <= cache.capacity {
            if cachedTokens.count >= tokens.count || !tokens.starts(with: cachedTokens) {
                cache.reset()  // not a continuation of what the cache holds: start over
                cachedTokens = []
            }
            let fresh = Array(tokens[cachedTokens.count...])
            let logits = try model.decode(ids: fresh, cache: cache)
            cachedTokens = tokens
            return lastRow(logits, rows: fresh.count)
        }
        let context = Array(tokens.suffix(model.config.blockSize))
        return lastRow(try model.logits(ids: context, batch: 1, seq: context.count), rows: context.count)
    }

    /// Row `rows - 1` of logits [1, rows, vocab].
    private func lastRow(_ logits: Tensor, rows: Int) -> [Float] {
        let vocab = model.config.vocabSize
        return Array(UnsafeBufferPointer(start: logits.data + (rows - 1) * vocab, count: vocab))
    }
}
