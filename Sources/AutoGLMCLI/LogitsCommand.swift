import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm logits`: the model's logits for a given input, for debugging and for comparing
/// with another implementation.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print a trained run's logits for an input: the most likely next characters per position, or every logit as JSON.",
        discussion: "Row i scores the character after the first i + 1 characters of the input (one forward pass, "
            + "no sampling). --json gives the input's ids, the vocabulary and every logit, float32 values written "
            + "exactly, for comparing with another implementation (see `autoglm export`).")

    @OptionGroup var plugins: PluginOptions

    @Argument(help: ArgumentHelp("A run directory written by `autoglm train`, or one of its checkpoint directories.", valueName: "RUN"))
    var runDirectory: String

    @Option(help: ArgumentHelp("Which checkpoint of the run: latest, best, or a step number.", valueName: "latest|best|STEP"))
    var checkpoint: String = "latest"

    @Option(help: "The input: 1 to block_size characters of the run's vocabulary.")
    var input: String

    @Option(help: "Characters listed per position in the text output.")
    var top: Int = 5

    @Flag(help: "One JSON object on standard output: ids, vocabulary, and logits [position][token].")
    var json = false

    func validate() throws {
        _ = try TrainedRun.checkpoint(checkpoint)
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let session = try TrainedRun.open(runDirectory, checkpoint: checkpoint, plugins: plugins)
        let (ids, logits) = try session.logits(of: input)
        let tokenizer = session.tokenizer
        if json {
            TrainedRun.printJSON([
                "input": input, "ids": ids.map(Int.init), "step": session.state.step,
                "vocabulary": (0..<tokenizer.count).map { tokenizer.decode([Int32($0)]) },
                "logits": logits.map { $0.map(Double.init) },
            ])
            return
        }
        for (position, row) in logits.enumerated() {
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(self.top)
            let listed = top.map { i in
                let p = exp(row.withUnsafeBufferPointer { SampledToken.logProbability(of: i, in: $0) })
                return "\(Self.quoted(tokenizer.decode([Int32(i)]))) \(String(format: "%.3f", p))"
            }
            print("\(position) \(Self.quoted(tokenizer.decode([ids[position]]))) -> " + listed.joined(separator: "  "))
        }
    }

    /// A character in quotes, escaped where it would not show (newline, tab).
    private static func quoted(_ text: String) -> String {
        "'" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "'"
    }
}
