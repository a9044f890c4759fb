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

    /// Runs `warmup` + `steps` steps of the real training step (a `Session` on random tokens,
    /// AdamW as the peer configures it, no clipping since the peer does not clip) and reports the
    /// median step time.
    /// `overrides` are more `key=value` settings (e.g. `train.precision=bf16`, `run.isa=avx2`);
    /// the line names the kernel path, OpenBLAS's kernels, the precision and the checkpointing.
    public static func run(preset: Preset, pluginDirectories: [String] = [], attention: String = "flash",
                           threads: Int = 2, warmup: Int = 5, steps: Int = 20, overrides: [String] = []) throws -> Result {
        guard steps >= 1, warmup >= 0 else {
            throw ConfigError(origin: nil, message: "bench: --steps must be >= 1 and the warm-up >= 0, got \(steps) and \(warmup)")
        }
        let cfg = preset.model
        let runDir = FileManager.default.temporaryDirectory.appendingPathComponent("autoglm-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: runDir) }
        var options = SessionOptions()
        options.pluginDirectories = pluginDirectories
        options.overrides = [
            "model.n_layer=\(cfg.nLayer)", "model.n_head=\(cfg.nHead)", "model.n_embd=\(cfg.nEmbd)",
            "model.block_size=\(cfg.blockSize)", "train.batch_size=\(preset.batch)", "train.steps=\(warmup + steps)",
            "train.threads=\(threads)", "train.grad_clip=0", "train.warmup_steps=0", "train.lr_schedule=constant",
            "train.eval_interval=0", "train.eval_batches=1", "train.seed=0", "attention.name=\(attention)",
            "optimizer.name=adamw", "optimizer.lr=1e-3", "optimizer.betas=0.9,0.99", "optimizer.weight_decay=0.1",
            "evaluators=", "run.dir=\(runDir.path)",
        ] + overrides
        options.data = .tokens(try randomTokens(vocab: cfg.vocabSize, count: 1 << 20), CharTokenizer(vocabulary: (0..<UInt32(cfg.vocabSize)).map { $0 + 32 }))
        var times: [Double] = []
        options.progress = { p in
            if p.kind == .step, p.step > warmup { times.append(p.stepSeconds) }
            return .proceed
        }
        let session = try Session(options)
        _ = try session.train()
        let median = times.sorted()[times.count / 2]
        let n = preset.batch * cfg.blockSize
        let tokensPerSecond = Double(n) / median
        let model = session.model
        let flopsPerToken = 6.0 * Double(model.parameterCount) + 12.0 * Double(cfg.nLayer * cfg.blockSize * cfg.nEmbd)
        let config = session.config, path = KernelReport.path(config)
        let peak = sgemmFlopsPerSecond(threads: threads, path: path)
        let fields: [(String, String)] = [
            ("system", "\"autoglm-\(HostInfo.version)\""), ("preset", "\"\(preset.name)\""), ("threads", "\(threads)"),
            ("attention", "\"\(attention)\""), ("params", "\(model.parameterCount)"),
            ("step_ms_median", String(format: "%.2f", median * 1e3)), ("tokens_per_s", String(format: "%.1f", tokensPerSecond)),
            ("peak_rss_mb", String(format: "%.1f", Double(ProcessStats.peakResidentBytes) / 1_048_576)),
            ("mfu", String(format: "%.4f", tokensPerSecond * flopsPerToken / peak)),
            ("sgemm_gflops", String(format: "%.1f", peak / 1e9)),
            ("isa", "\"\(path.name)\""), ("cpu_isa", "\"\(KernelPath.detected.name)\""),
            ("blas_core", "\"\(Kernels.blasCore)\""), ("precision", "\"\(config.train.precision.rawValue)\""),
            ("bf16_gemm", config.train.precision == .bf16 ? "\"\(KernelReport.bf16GEMM(path))\"" : "null"),
            ("activation_checkpointing", "\"\(config.train.activationCheckpointing.rawValue)\""),
        ]
        return Result(json: "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}",
                      stepMilliseconds: median * 1e3, tokensPerSecond: tokensPerSecond)
    }

    /// Uniform random tokens below `vocab`, split 90/10, as the peer draws its batches.
    static func randomTokens(vocab: Int, count: Int) throws -> TokenDataset {
        var rng = RandomGenerator(seed: 0)
        let tokens = (0..<count).map { _ in Int32(rng.below(vocab)) }
        return try TokenDataset(tokens: tokens, valFraction: 0.1, blockSize: 1024)
    }

    /// Measured single-precision GEMM rate on this machine: best of 5 runs of 1024³ sgemm, on a
    /// pool of `path`.
    public static func sgemmFlopsPerSecond(threads: Int, size: Int = 1024, path: KernelPath = .preferred) -> Double {
        let pool = WorkerPool(threads: threads)
        pool.path = path
        return pool.run { gemmRate(size: size) }
    }

    /// Best of 5 runs of a size³ sgemm on the current pool, in FLOP/s.
    private static func gemmRate(size: Int) -> Double {
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
