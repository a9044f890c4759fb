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

    func validate() throws {
        guard temperature > 0 else { throw ValidationError("--temperature must be > 0") }
        guard tokens >= 0 else { throw ValidationError("--tokens must be >= 0") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
        _ = try choice()
    }

    /// `--checkpoint` as a choice.
    func choice() throws -> RunDirectory.CheckpointChoice {
        guard let choice = RunDirectory.CheckpointChoice(text: checkpoint) else {
            throw ValidationError("--checkpoint must be latest, best or a step number, got '\(checkpoint)'")
        }
        return choice
    }

    func run() throws {
        var options = SessionOptions()
        options.resume = runDirectory
        options.checkpoint = try choice()
        options.data = .none
        options.pluginDirectories = plugins.directories
        options.environment = ProcessInfo.processInfo.environment.filter { $0.key == "AUTOGLM_PLUGIN_PATH" }
        let session = try Session(options)
        let out = FileHandle.standardOutput
        out.write(Data(prompt.utf8))
        _ = try session.sample(prompt: prompt, tokens: tokens, temperature: temperature, topK: topK, seed: seed) { piece in
            out.write(Data(piece.utf8))  // streamed: a long sample shows as it is made
            return true
        }
        out.write(Data("\n".utf8))
    }
}
