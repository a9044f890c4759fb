import ArgumentParser
import AutoGLM
import AutoGLMCore
import Foundation

/// `autoglm sample`: generate text from a trained run.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Generate text from a trained run.")

    @OptionGroup var plugins: PluginOptions

    @Option(name: .customLong("run"), help: "The run directory written by `autoglm train`.")
    var runDirectory: String = "runs/latest"

    @Option(help: "Text to continue (every character must be in the run's vocabulary).")
    var prompt: String = "\n"

    @Option(help: "Number of tokens to generate.")
    var tokens: Int = 300

    @Option(help: "Softmax temperature (> 0).")
    var temperature: Double = 0.8

    @Option(name: .customLong("top-k"), help: "Sample among the k most likely tokens (0 = all).")
    var topK: Int = 0

    @Option(help: "Random seed.")
    var seed: UInt64 = 1337

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be > 0") }
        guard tokens >= 0 else { throw ValidationError("--tokens must be >= 0") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
    }

    func run() throws {
        let trained = try TrainedRun(path: runDirectory, registry: plugins.registry())
        let ids = try trained.tokenizer.encode(prompt)
        var rng = RandomGenerator(seed: seed)
        let out = try Sampler.generate(model: trained.model, prompt: ids, count: tokens, temperature: temperature,
                                       topK: topK, rng: &rng)
        print(prompt + trained.tokenizer.decode(out))
    }
}
