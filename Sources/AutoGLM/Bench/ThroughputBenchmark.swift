import AutoGLMCore
import Foundation

/// Training-throughput benchmark on the shapes of the PyTorch peer (`../shared/bench/torch_peer.py`):
/// same presets, random tokens, AdamW (lr 1e-3, betas 0.9/0.99, weight decay 0.1), the same
/// warm-up and timed steps, one JSON line in the peer's format plus `mfu`.
public enum ThroughputBenchmark {
    /// A model shape and batch (the peer's presets).
    public struct Preset: Sendable {
        /// Preset name.
        public var name: String
        /// Model shape (vocabulary 128).
        public var model: GPTConfig
        /// Sequences per step.
        public var batch: Int
    }

    /// The peer's presets by name.
    public static let presets: [String: Preset] = [
        "small": Preset(name: "small", model: GPTConfig(nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 128, vocabSize: 128), batch: 16),
        "medium": Preset(name: "medium", model: GPTConfig(nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, vocabSize: 128), batch: 8),
    ]

    /// Result of one run.
    public struct Result: Sendable {
        /// The JSON line.
        public var json: String
        /// Median step time in milliseconds.
        public var stepMilliseconds: Double
        /// Tokens per second at the median step time.
        public var tokensPerSecond: Double
    }

    /// Runs `warmup` + `steps` training steps and reports the median step time.
    public static func run(preset: Preset, registry: PluginRegistry, attention: String = "flash",
                           threads: Int = 2, warmup: Int = 5, steps: Int = 20) throws -> Result {
        Kernels.setThreads(threads)
        let cfg = preset.model
        let model = try GPT(config: cfg, attention: ComponentSelection(kind: .attention, name: attention, parameters: registry.defaultParameters(kind: .attention, name: attention)),
                            registry: registry, seed: 0)
        var adamw = registry.defaultParameters(kind: .optimizer, name: "adamw")
        adamw["betas"] = .list([0.9, 0.99]); adamw["weight_decay"] = .number(0.1)
        let optimizer = try OptimizerInstance(registry: registry, name: "adamw", parameters: adamw, modelParameters: model.parameters)
        var rng = RandomGenerator(seed: 0)
        var times: [Double] = []
        let n = preset.batch * cfg.blockSize
        for i in 0..<(warmup + steps) {
            let tokens = (0..<(preset.batch * (cfg.blockSize + 1))).map { _ in Int32(rng.below(cfg.vocabSize)) }
            var x = [Int32](), y = [Int32]()
            x.reserveCapacity(n); y.reserveCapacity(n)
            for b in 0..<preset.batch {
                let row = tokens[(b * (cfg.blockSize + 1))..<((b + 1) * (cfg.blockSize + 1))]
                x += row.dropLast(); y += row.dropFirst()
            }
            let start = DispatchTime.now().uptimeNanoseconds
            for p in model.parameters { p.grad = nil }
            try model.loss(ids: x, targets: y, batch: preset.batch, seq: cfg.blockSize).loss.backward()
            try Autograd.withNoGrad { try optimizer.step(lr: 1e-3, step: i + 1) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if i >= warmup { times.append(seconds) }
        }
        let median = times.sorted()[times.count / 2]
        let tokensPerSecond = Double(n) / median
        let flopsPerToken = 6.0 * Double(model.parameterCount) + 12.0 * Double(cfg.nLayer * cfg.blockSize * cfg.nEmbd)
        let peak = sgemmFlopsPerSecond(threads: threads)
        let fields: [(String, String)] = [
            ("system", "\"autoglm-\(HostInfo.version)\""), ("preset", "\"\(preset.name)\""), ("threads", "\(threads)"),
            ("attention", "\"\(attention)\""), ("params", "\(model.parameterCount)"),
            ("step_ms_median", String(format: "%.2f", median * 1e3)), ("tokens_per_s", String(format: "%.1f", tokensPerSecond)),
            ("peak_rss_mb", String(format: "%.1f", Double(ProcessStats.peakResidentBytes) / 1_048_576)),
            ("mfu", String(format: "%.4f", tokensPerSecond * flopsPerToken / peak)),
            ("sgemm_gflops", String(format: "%.1f", peak / 1e9)),
        ]
        return Result(json: "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}",
                      stepMilliseconds: median * 1e3, tokensPerSecond: tokensPerSecond)
    }

    /// Measured single-precision GEMM rate on this machine: best of 5 runs of 1024³ sgemm.
    public static func sgemmFlopsPerSecond(threads: Int, size: Int = 1024) -> Double {
        Kernels.setThreads(threads)
        let a = Tensor(zeros: [size, size]), b = Tensor(zeros: [size, size]), c = Tensor(zeros: [size, size])
        for i in 0..<a.count { a.data[i] = Float(i % 7) * 0.1; b.data[i] = Float(i % 5) * 0.1 }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            Kernels.sgemm(transA: false, transB: false, m: size, n: size, k: size, alpha: 1, a: a.data, lda: size,
                          b: b.data, ldb: size, beta: 0, c: c.data, ldc: size)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(size * size * size) / best
    }
}

/// Facts about this build of the host.
public enum HostInfo {
    /// The host's version.
    public static let version = "0.1.0"
}
