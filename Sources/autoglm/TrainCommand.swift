import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm train`: train a model as the config says.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT on a text corpus with the components the config selects.")

    @OptionGroup var plugins: PluginOptions
    @OptionGroup var config: ConfigOptions

    @Flag(help: "No progress output (the run's log.jsonl is still written).")
    var quiet = false

    func run() throws {
        let progress = ProgressPrinter(quiet: quiet)
        var options = config.sessionOptions(plugins: plugins)
        options.progress = { progress.report($0); return .proceed }
        let session = try Session(options)
        for failure in session.registry.failures { printError("warning: plugin not loaded: \(failure)") }
        let c = session.config
        if !quiet {
            printError("training \(session.model.parameterCount) parameters on \(session.dataset.train.count) tokens "
                       + "(vocab \(session.tokenizer.count)) with \(c.attention.name) + \(c.optimizer.name) → \(c.run.dir)")
        }
        let result = try session.train()
        progress.finish()
        let metrics = result.metrics.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")
        print("done: \(result.steps) steps in \(String(format: "%.1f", result.seconds)) s (training \(String(format: "%.1f", result.trainSeconds)) s), train loss \(String(format: "%.4f", result.finalLoss)), \(metrics)")
        print("run directory: \(c.run.dir)")
    }
}

/// Progress on standard error: one updating line on a terminal, plain lines otherwise.
final class ProgressPrinter {
    private let quiet: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private var pendingLine = false

    init(quiet: Bool) { self.quiet = quiet }

    /// Prints one progress update (steps only as often as they are logged).
    func report(_ p: TrainingProgress) {
        guard !quiet else { return }
        switch p.kind {
        case .step:
            guard p.logged else { return }
            let line = String(format: "step %5d/%d | loss %.4f | lr %.2e | %8.0f tok/s | ETA %@",
                              p.step, p.maxSteps, p.loss, p.lr, p.tokensPerSecond, Self.duration(p.eta))
            if terminal { FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8)); pendingLine = true } else { printError(line) }
        case .evaluation:
            finish()
            printError("eval at step \(p.step): " + p.metrics.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: ", "))
        }
    }

    /// Ends an updating line.
    func finish() {
        if pendingLine { FileHandle.standardError.write(Data("\n".utf8)); pendingLine = false }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
