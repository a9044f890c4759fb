import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm bench`: training throughput on the PyTorch peer's shapes, one JSON line.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training throughput on the PyTorch peer's presets; prints one JSON line.",
        discussion: "Compare with ../shared/bench/torch_peer.py in the same run: bench/compare.sh alternates both.")

    @OptionGroup var plugins: PluginOptions

    @Option(help: "small (4 layers, 128 wide, block 128, batch 16) or medium (6 layers, 384 wide, block 256, batch 8).")
    var preset: String = "small"

    @Option(help: "Threads for GEMM and kernels.")
    var threads: Int = 2

    @Option(help: "Timed steps (after 5 warm-up steps).")
    var steps: Int = 20

    @Option(help: "Attention component.")
    var attention: String = "causal_dense"

    func run() throws {
        guard let p = ThroughputBenchmark.presets[preset] else {
            throw ValidationError("unknown preset '\(preset)'; use small or medium")
        }
        print(try ThroughputBenchmark.run(preset: p, registry: plugins.registry(), attention: attention,
                                          threads: threads, steps: steps).json)
    }
}
