import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm sample`: generate text from a trained run.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sample", abstract: "Generate text from a trained run.")

    @OptionGroup var plugins: PluginOptions

    @Option(name: .customLong("run"), help: "A run directory written by `autoglm train`, or one of its checkpoint directories.")
    var runDirectory: String = "runs/latest"

    @Option(help: ArgumentHelp("Which checkpoint of the run: latest, best, or a step number.", valueName: "latest|best|STEP"))
    var checkpoint: String = "latest"

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

    @Flag(name: .customLong("no-echo"), help: "Print only the continuation, not the prompt before it.")
    var noEcho = false

    @Flag(help: "One JSON object on standard output: the prompt's and the continuation's token ids, and each new token's log-probability.")
    var json = false

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be > 0") }
        guard tokens >= 0 else { throw ValidationError("--tokens must be >= 0") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
        _ = try TrainedRun.checkpoint(checkpoint)
        if json && noEcho { throw ValidationError("--no-echo applies to text output; --json always gives the prompt and the continuation apart") }
    }

    func run() throws {
        let session = try TrainedRun.open(runDirectory, checkpoint: checkpoint, plugins: plugins)
        if json {
            let made = try session.sampleTokens(prompt: prompt, tokens: tokens, temperature: temperature, topK: topK, seed: seed)
            TrainedRun.printJSON([
                "prompt": prompt, "prompt_ids": try session.tokenizer.encode(prompt).map(Int.init),
                "text": made.map(\.text).joined(), "ids": made.map { Int($0.id) }, "logprobs": made.map(\.logProb),
                "temperature": temperature, "top_k": topK, "seed": NSNumber(value: seed), "step": session.state.step,
            ])
            return
        }
        let out = FileHandle.standardOutput
        if !noEcho { out.write(Data(prompt.utf8)) }
        _ = try session.sample(prompt: prompt, tokens: tokens, temperature: temperature, topK: topK, seed: seed) { piece in
            out.write(Data(piece.utf8))  // streamed: a long sample shows as it is made
            return true
        }
        out.write(Data("\n".utf8))
    }
}
