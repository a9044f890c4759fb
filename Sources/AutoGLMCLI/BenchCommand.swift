import ArgumentParser
import AutoGLM
import AutoGLMCore
import Foundation

/// `autoglm bench`: training throughput on the PyTorch peer's shapes, one JSON line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training throughput on the PyTorch peer's presets; prints one JSON line.",
        discussion: "Compare with ../shared/bench/torch_peer.py in the same run: bench/compare.py alternates both.")

    @OptionGroup var plugins: PluginOptions

    @Option(help: "small (4 layers, 128 wide, block 128, batch 16) or medium (6 layers, 384 wide, block 256, batch 8).")
    var preset: String = "small"

    @Option(help: "Threads for GEMM and kernels.")
    var threads: Int = 2

    @Option(help: "Timed steps (after 5 warm-up steps).")
    var steps: Int = 20

    @Option(help: "Attention component.")
    var attention: String = "flash"

    @Option(name: .customLong("attention-shape"), help: ArgumentHelp("Instead of training, time the attention's forward+backward on batch,heads,seq,head_dim.", valueName: "B,H,T,D"))
    var attentionShape: String?

    @Option(help: "GEMM operand precision: fp32 or bf16 (the training benchmark's train.precision; the attention benchmark's q, k, v).")
    var precision: String = "fp32"

    @Option(name: .customLong("set"), help: ArgumentHelp("A config override for the training benchmark (repeatable), e.g. train.precision=bf16, train.activation_checkpointing=blocks, run.isa=avx2.", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    @Flag(help: "Instead of training, measure the cost of crossing the plugin boundary.")
    var boundary = false

    @Flag(help: "Instead of training, measure one call of a function registered by prototype (libffi).")
    var ffi = false

    @Flag(help: "Instead of training, measure greedy sampling on the preset's model: KV-cached decoding against recomputation, alternating.")
    var sampling = false

    @Option(help: "With --sampling: tokens per generation (at most block_size - 1).")
    var tokens: Int = 200

    @Option(help: "With --sampling: rounds (each one cached and one recomputed generation).")
    var rounds: Int = 5

    func run() throws {
        guard let precision = Precision(rawValue: precision) else {
            throw ValidationError("unknown precision '\(precision)'; use fp32 or bf16")
        }
        if ffi {
            print(try FunctionCallBenchmark.run(registry: plugins.registry()))
            return
        }
        if boundary {
            print(try BoundaryBenchmark.run(registry: plugins.registry()))
            return
        }
        if let attentionShape {
            let shape = attentionShape.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            print(try AttentionBenchmark.run(registry: plugins.registry(), attention: attention, shape: shape,
                                             threads: threads, steps: steps, precision: precision))
            return
        }
        guard let p = ThroughputBenchmark.presets[preset] else {
            throw ValidationError("unknown preset '\(preset)'; use small or medium")
        }
        if sampling {
            for line in try SamplingBenchmark.run(registry: plugins.registry(), preset: p, attention: attention, tokens: tokens,
                                                  rounds: rounds, threads: threads) { print(line) }
            return
        }
        print(try ThroughputBenchmark.run(preset: p, pluginDirectories: plugins.directories, attention: attention,
                                          threads: threads, steps: steps,
                                          overrides: ["train.precision=\(precision.rawValue)"] + overrides).json)
    }
}
