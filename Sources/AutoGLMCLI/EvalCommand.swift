import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm eval`: the loss and every evaluator's metrics of a trained run over a whole split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score a trained run over a whole split: mean loss and every evaluator's metrics.",
        discussion: "The split is cut into consecutive block_size windows from its start (every token but the first "
            + "is predicted once), not the random batches of the evaluations logged during training, so the "
            + "numbers are deterministic. The evaluators are the run's.")

    @OptionGroup var plugins: PluginOptions

    @Argument(help: ArgumentHelp("A run directory written by `autoglm train`, or one of its checkpoint directories.", valueName: "RUN"))
    var runDirectory: String

    @Option(help: ArgumentHelp("Which checkpoint of the run: latest, best, or a step number.", valueName: "latest|best|STEP"))
    var checkpoint: String = "latest"

    @Option(help: ArgumentHelp("Which tokens: val (held out), train, or all (default: val of the run's corpus, all of a --data file).", valueName: "val|train|all"))
    var split: EvaluationSplit?

    @Option(help: ArgumentHelp("Evaluate this text file instead of the run's corpus (data.path); its characters must be in the run's vocabulary.", valueName: "FILE"))
    var data: String?

    @Flag(help: "One JSON object on standard output instead of text.")
    var json = false

    func validate() throws { _ = try TrainedRun.checkpoint(checkpoint) }

    func run() throws {
        let session = try TrainedRun.open(runDirectory, checkpoint: checkpoint, plugins: plugins)
        let text = try data.map { path in (content: try TrainedRun.readText(path, option: "--data"), source: path) }
        let result = try session.evaluate(split: split ?? (data == nil ? .val : .all), text: text)
        if json {
            TrainedRun.printJSON([
                "run": runDirectory, "step": result.step, "split": result.split.rawValue, "source": result.source,
                "tokens": result.tokens, "targets": result.targets, "blocks": result.blocks,
                "metrics": Dictionary(result.metrics.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
            ])
            return
        }
        print("\(runDirectory) step \(result.step), \(result.split.rawValue) split of \(result.source): \(result.tokens) tokens in \(result.blocks) blocks")
        let width = result.metrics.map(\.name.count).max() ?? 0
        for metric in result.metrics {
            print("  " + metric.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(format: "%.6f", metric.value))
        }
    }
}

extension EvaluationSplit: ExpressibleByArgument {}
