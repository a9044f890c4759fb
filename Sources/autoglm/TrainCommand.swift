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

    @Option(help: ArgumentHelp("Continue a run bit for bit from its latest checkpoint (a run directory or a checkpoint directory).", valueName: "RUN_DIR"))
    var resume: String?

    @Flag(name: .customLong("allow-config-change"), help: "With --resume: accept (and log) differences from the checkpoint's config and plugins.")
    var allowConfigChange = false

    @Flag(help: "Replace a previous run found in run.dir instead of refusing it.")
    var overwrite = false

    func validate() throws {
        if resume != nil && overwrite { throw ValidationError("--resume continues a run and --overwrite replaces it: give one") }
        if allowConfigChange && resume == nil { throw ValidationError("--allow-config-change only applies with --resume") }
    }

    func run() throws {
        let progress = ProgressPrinter(quiet: quiet)
        var options = config.sessionOptions(plugins: plugins)
        options.progress = { progress.report($0); return .proceed }
        options.resume = resume
        options.allowConfigChange = allowConfigChange
        options.overwrite = overwrite
        let session = try Session(options)
        for failure in session.registry.failures { printError("warning: plugin not loaded: \(failure)") }
        let c = session.config
        if !quiet {
            let from = resume.map { " from step \(session.state.step) of \($0)" } ?? ""
            printError("training \(session.model.parameterCount) parameters on \(session.dataset.train.count) tokens "
                       + "(vocab \(session.tokenizer.count)) with \(c.attention.name) + \(c.optimizer.name)\(from) → \(c.run.dir)")
        }
        let signals = StopOnSignals(session)
        let result: TrainingResult
        do {
            result = try session.train()
        } catch {
            progress.finish()
            printError("error: \(error)")
            printError("the run directory keeps the last good state: resume with `autoglm train --resume \(c.run.dir)`")
            throw ExitCode(1)
        }
        progress.finish()
        let metrics = result.metrics.map { "\($0.name) \(String(format: "%.4f", $0.value))" }.joined(separator: ", ")
        print("done: \(result.steps) steps in \(String(format: "%.1f", result.seconds)) s (training \(String(format: "%.1f", result.trainSeconds)) s), train loss \(String(format: "%.4f", result.finalLoss)), \(metrics)")
        print("run directory: \(c.run.dir)")
        if let signal = signals.received {
            printError("stopped by \(signal) at step \(result.steps), checkpointed: resume with `autoglm train --resume \(c.run.dir)`")
            throw ExitCode(128 + signals.number)
        }
    }
}

/// Turns SIGINT and SIGTERM into a stop request: the session finishes its step, checkpoints and
/// returns (a second signal ends the process at once).
final class StopOnSignals {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var name: String?
    private var signalNumber: Int32 = 0

    /// Watches the signals for `session`.
    init(_ session: Session) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self, weak session] in
                guard let self else { return }
                let first = self.lock.withLock { () -> Bool in
                    defer { if self.name == nil { self.name = name; self.signalNumber = number } }
                    return self.name == nil
                }
                if first {
                    printError("\n\(name): finishing the current step and checkpointing (again to quit at once)")
                    session?.requestStop()
                } else {
                    exit(128 + number)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    /// The signal that stopped training, if any.
    var received: String? { lock.withLock { name } }
    /// Its number.
    var number: Int32 { lock.withLock { signalNumber } }
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
