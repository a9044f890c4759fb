import AutoGLMCore
import Foundation

/// Autoregressive text generation from a trained model.
public enum Sampler {
    /// Continues `prompt` (token ids, at least one) by `count` tokens, sampling each from the
    /// softmax of the last position's logits / `temperature`, restricted to the `topK` most
    /// likely tokens (0 = all). The context is cropped to the model's block size.
    /// `onToken` receives each new token as it is made and may return false to stop early.
    public static func generate(model: GPT, prompt: [Int32], count: Int, temperature: Double, topK: Int,
                                rng: inout RandomGenerator, onToken: ((Int32) -> Bool)? = nil) throws -> [Int32] {
        precondition(!prompt.isEmpty && temperature > 0)
        var tokens = prompt
        let vocab = model.config.vocabSize
        try Autograd.withNoGrad {
            for _ in 0..<count {
                let context = Array(tokens.suffix(model.config.blockSize))
                let logits = try model.logits(ids: context, batch: 1, seq: context.count)
                let last = UnsafeBufferPointer(start: logits.data + (context.count - 1) * vocab, count: vocab)
                let token = Int32(pick(Array(last), temperature: temperature, topK: topK, rng: &rng))
                tokens.append(token)
                if let onToken, !onToken(token) { break }
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
        guard !prompt.isEmpty else { throw DataError(message: "the prompt is empty: give at least one character") }
        guard temperature > 0, temperature.isFinite else {
            throw DataError(message: "temperature must be a positive number, got \(temperature)")
        }
        let ids = try tokenizer.encode(prompt)
        var rng = RandomGenerator(seed: seed)
        var out: [Int32] = []
        _ = try generate(model: model, prompt: ids, count: count, temperature: temperature, topK: topK, rng: &rng) { token in
            out.append(token)
            return onText?(tokenizer.decode([token])) ?? true
        }
        return tokenizer.decode(out)
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
