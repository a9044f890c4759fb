import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// Incremental decoding (ABI 1.2 `decode` against the host's KV cache) in sampling: for every
/// bundled attention that has it, cached greedy generation gives exactly the tokens of the
/// recomputing sampler, the next-token logits agree to float rounding at every step, and past
/// the block size (where the window moves with every token) and for a component without
/// `decode` sampling recomputes.
final class IncrementalDecodingTests: XCTestCase {
    private static let registry = try! PluginBuilder.bundledRegistry(adding: ["attention_1_0.c"])

    /// The attentions that decode, with the parameters that make them differ from plain causal
    /// attention, and whether they are used without position embeddings.
    private static let variants: [(name: String, overrides: [String: ParameterValue], positions: Bool)] = [
        ("causal_dense", [:], true),
        ("flash", ["block_q": .number(4), "block_k": .number(8)], true),
        ("flash", ["rope_base": .number(10000)], false),
        ("gqa", ["kv_heads": .number(2)], true),
        ("alibi", [:], false),
        ("sliding_window", ["window": .number(5)], true),
        ("rope", [:], false),
        ("rope", ["kv_heads": .number(1), "rotation": .string("tables")], false),
    ]

    /// A small random model whose logits are spread widely (weights scaled up from the N(0, 0.02)
    /// initialisation), so that greedy choices are not decided by rounding; the blocks' matrices
    /// more than the tied embedding, so that the output depends on the context rather than
    /// repeating the last token.
    private func model(_ name: String, _ overrides: [String: ParameterValue], positions: Bool) throws -> GPT {
        var parameters = Self.registry.defaultParameters(kind: .attention, name: name)
        for (k, v) in overrides { parameters[k] = v }
        let config = GPTConfig(nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 16, vocabSize: 23, positionEmbedding: positions)
        let gpt = try GPT(config: config, attention: ComponentSelection(kind: .attention, name: name, parameters: parameters),
                          registry: Self.registry, seed: 11)
        for p in gpt.parameters where p.ndim == 2 {
            let factor: Float = p === gpt.tokenEmbedding ? 10 : 25
            for i in 0..<p.count { p.data[i] *= factor }
        }
        return gpt
    }

    private func greedy(_ gpt: GPT, cached: Bool, count: Int) throws -> [Int32] {
        var rng = RandomGenerator(seed: 1)
        return try Sampler.generate(model: gpt, prompt: [3, 1, 4], count: count, temperature: 1, topK: 1, rng: &rng, cached: cached)
    }

    func testCachedGreedyGenerationIsTokenIdenticalForEveryDecodingAttention() throws {
        for (name, overrides, positions) in Self.variants {
            let gpt = try model(name, overrides, positions: positions)
            XCTAssertTrue(gpt.decodes, "\(name) decodes")
            let label = "\(name) \(overrides)"
            // 30 tokens after a prompt of 3: 13 within the block size of 16, the rest past it.
            let cached = try greedy(gpt, cached: true, count: 30)
            let recomputed = try greedy(gpt, cached: false, count: 30)
            XCTAssertEqual(cached, recomputed, label)
            XCTAssertGreaterThan(Set(cached).count, 3, "\(label): the model should not repeat one token")

            // The logits themselves, step by step within the block size.
            let next = NextTokenLogits(model: gpt), reference = NextTokenLogits(model: gpt, cached: false)
            XCTAssertTrue(next.isCached)
            XCTAssertFalse(reference.isCached)
            var tokens: [Int32] = [3, 1, 4]
            try Autograd.withNoGrad {
                while tokens.count <= 16 {
                    let a = try next.logits(after: tokens), b = try reference.logits(after: tokens)
                    let scale = b.map { abs($0) }.max() ?? 1
                    let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(diff, 2e-5 * scale, "\(label): logits after \(tokens.count) tokens")
                    tokens.append(Int32(tokens.count * 7 % 23))  // a sequence of its own, not the greedy one
                }
            }
        }
    }

    func testSamplingWithTemperatureDrawsTheSameTokensCachedOrNot() throws {
        let gpt = try model("rope", [:], positions: false)
        for cached in [true, false] {
            var rng = RandomGenerator(seed: 8)
            let tokens = try Sampler.generate(model: gpt, prompt: [2], count: 12, temperature: 0.9, topK: 5, rng: &rng, cached: cached)
            var again = RandomGenerator(seed: 8)
            let other = try Sampler.generate(model: gpt, prompt: [2], count: 12, temperature: 0.9, topK: 5, rng: &again, cached: !cached)
            XCTAssertEqual(tokens, other)
        }
    }

    func testAComponentWithoutDecodeMakesSamplingRecompute() throws {
        // attention_1_0 has an ABI 1.0 vtable (no decode field, a stray pointer after it) and
        // sparse_topk has none: both sample by recomputation, with the same tokens as before.
        for name in ["attention_1_0", "sparse_topk"] {
            let gpt = try model(name, [:], positions: true)
            XCTAssertFalse(gpt.decodes, name)
            XCTAssertFalse(NextTokenLogits(model: gpt).isCached, name)
            XCTAssertEqual(try greedy(gpt, cached: true, count: 10), try greedy(gpt, cached: false, count: 10), name)
        }
    }

    func testACacheFedAnotherSequenceStartsOver() throws {
        let gpt = try model("causal_dense", [:], positions: true)
        let next = NextTokenLogits(model: gpt), reference = NextTokenLogits(model: gpt, cached: false)
        try Autograd.withNoGrad {
            _ = try next.logits(after: [1, 2, 3, 4])
            // Not a continuation of [1, 2, 3, 4]: the cache must not reuse its rows.
            let a = try next.logits(after: [5, 6]), b = try reference.logits(after: [5, 6])
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 1e-3)
        }
    }
}
