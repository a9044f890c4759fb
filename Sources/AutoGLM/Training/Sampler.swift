import AutoGLMCore
import Foundation

/// Autoregressive text generation from a trained model.
public enum Sampler {
    /// Continues `prompt` (token ids, at least one) by `count` tokens, sampling each from the
    /// softmax of the last position's logits / `temperature`, restricted to the `topK` most
    /// likely tokens (0 = all). The context is cropped to the model's block size. With `cached`
    /// (the default) the logits come from incremental decoding against a key/value cache when
    /// every block's attention supports it (see `NextTokenLogits`); the tokens are the same.
    /// `onToken` receives each new token as it is made and may return false to stop early.
    public static func generate(model: GPT, prompt: [Int32], count: Int, temperature: Double, topK: Int,
                                rng: inout RandomGenerator, cached: Bool = true,
                                onToken: ((Int32) -> Bool)? = nil) throws -> [Int32] {
        try generate(model: model, prompt: prompt, count: count, temperature: temperature, topK: topK, rng: &rng,
                     cached: cached, onStep: { token, _ in onToken?(token) ?? true })
    }

    /// `generate(model:prompt:…)` handing `onStep` each new token with the logits it was drawn
    /// from (valid during the call only).
    static func generate(model: GPT, prompt: [Int32], count: Int, temperature: Double, topK: Int,
                         rng: inout RandomGenerator, cached: Bool = true,
                         onStep: (Int32, UnsafeBufferPointer<Float>) -> Bool) throws -> [Int32] {
        precondition(!prompt.isEmpty && temperature > 0)
        var tokens = prompt
        try Autograd.withNoGrad {
            let next = NextTokenLogits(model: model, cached: cached)
            for _ in 0..<count {
                let logits = try next.logits(after: tokens)
                let token = Int32(pick(logits, temperature: temperature, topK: topK, rng: &rng))
                tokens.append(token)
                if !logits.withUnsafeBufferPointer({ onStep(token, $0) }) { break }
            }
        }
        return Array(tokens.dropFirst(prompt.count))
    }

    /// Continues the text `prompt` by `count` characters (see `generate(model:prompt:…)`) from a
    /// generator seeded with `seed`; `onText` receives each new character as it is made and may
    /// return false to stop early. Returns the continuation.
    /// - Throws: `DataError` for an empty prompt or one with characters outside the vocabulary.
    public static func generate(model: GPT, tokenizer: CharTokenizer, prompt: String, count: Int, temperature: Double,
                                topK: Int, seed: UInt64, onText: ((String) -> Bool)? = nil) throws -> String {
        try tokens(model: model, tokenizer: tokenizer, prompt: prompt, count: count, temperature: temperature, topK: topK,
                   seed: seed) { onText?($0.text) ?? true }.map(\.text).joined()
    }

    /// The continuation of `generate(model:tokenizer:prompt:…)` token by token, each with its id
    /// and log-probability; `onToken` receives each as it is made and may return false to stop.
    /// - Throws: `DataError` for an empty prompt or one with characters outside the vocabulary.
    public static func tokens(model: GPT, tokenizer: CharTokenizer, prompt: String, count: Int, temperature: Double,
                              topK: Int, seed: UInt64, onToken: ((SampledToken) -> Bool)? = nil) throws -> [SampledToken] {
        guard !prompt.isEmpty else { throw DataError(message: "the prompt is empty: give at least one character") }
        guard temperature > 0, temperature.isFinite else {
            throw DataError(message: "temperature must be a positive number, got \(temperature)")
        }
        let ids = try tokenizer.encode(prompt)
        var rng = RandomGenerator(seed: seed)
        var out: [SampledToken] = []
        _ = try generate(model: model, prompt: ids, count: count, temperature: temperature, topK: topK, rng: &rng,
                         onStep: { token, logits in
            out.append(SampledToken(id: token, text: tokenizer.decode([token]),
                                    logProb: SampledToken.logProbability(of: Int(token), in: logits)))
            return onToken?(out[out.count - 1]) ?? true
        })
        return out
    }

    /// Index drawn from softmax(logits / temperature) over the top-k entries.
    static func pick(_ logits: [Float], temperature: Double, topK: Int, rng: inout RandomGenerator) -> Int {
        var order = Array(logits.indices)
        if topK > 0 && topK < logits.count {
            order.sort { logits[$0] > logits[$1] }
            order = Array(order.prefix(topK))
        }
        let maxLogit = order.map { Double(logits[$0]) }.max() ?? 0
        let weights = order.map { exp((Double(logits[$0]) - maxLogit) / temperature) }
        var r = rng.uniform() * weights.reduce(0, +)
        for (i, w) in zip(order, weights) {
            r -= w
            if r <= 0 { return i }
        }
        return order.last ?? 0
    }
}
