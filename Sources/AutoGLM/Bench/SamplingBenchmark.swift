import AutoGLMCore
import Foundation

/// Tokens per second of greedy sampling with incremental decoding (the KV cache) against
/// recomputing the whole context for every token, on one of the throughput presets' model
/// shapes with random weights, rounds alternating the two so that a disturbed machine slows
/// both alike. Each round generates `tokens` tokens after a one-token prompt, all within the
/// block size, and checks the two gave the same tokens.
public enum SamplingBenchmark {
    /// One JSON line per round and a summary line with the medians and their ratio.
    public static func run(registry: PluginRegistry, preset: ThroughputBenchmark.Preset, attention: String, tokens: Int,
                           rounds: Int, threads: Int) throws -> [String] {
        Kernels.setThreads(threads)
        var config = preset.model
        if ["alibi", "rope"].contains(attention) { config.positionEmbedding = false }
        let selection = ComponentSelection(kind: .attention, name: attention,
                                           parameters: registry.defaultParameters(kind: .attention, name: attention))
        let model = try GPT(config: config, attention: selection, registry: registry, seed: 7)
        let count = min(max(tokens, 1), config.blockSize - 1)
        guard model.decodes else {
            throw TensorError(message: "attention '\(attention)' has no incremental decode entry: nothing to compare")
        }
        /// Tokens per second of one generation, and the tokens.
        func generate(cached: Bool) throws -> (Double, [Int32]) {
            var rng = RandomGenerator(seed: 1)
            let start = DispatchTime.now().uptimeNanoseconds
            let out = try Sampler.generate(model: model, prompt: [1], count: count, temperature: 1, topK: 1, rng: &rng, cached: cached)
            return (Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9), out)
        }
        _ = try generate(cached: true)  // warm-up: buffers and pages
        var lines: [String] = [], cachedRates: [Double] = [], recomputedRates: [Double] = []
        for round in 1...max(rounds, 1) {
            let (cached, a) = try generate(cached: true)
            let (recomputed, b) = try generate(cached: false)
            guard a == b else { throw TensorError(message: "cached and recomputed sampling gave different tokens") }
            cachedRates.append(cached)
            recomputedRates.append(recomputed)
            lines.append(String(format: "{\"round\": %d, \"cached_tokens_per_s\": %.1f, \"recomputed_tokens_per_s\": %.1f}",
                                round, cached, recomputed))
        }
        func median(_ x: [Double]) -> Double { x.sorted()[x.count / 2] }
        lines.append("{\"system\": \"autoglm-\(HostInfo.version)\", \"preset\": \"\(preset.name)\", \"attention\": \"\(attention)\", "
                     + String(format: "\"tokens\": %d, \"threads\": %d, \"cached_tokens_per_s_median\": %.1f, "
                              + "\"recomputed_tokens_per_s_median\": %.1f, \"speedup\": %.2f}",
                              count, threads, median(cachedRates), median(recomputedRates), median(cachedRates) / median(recomputedRates)))
        return lines
    }
}
