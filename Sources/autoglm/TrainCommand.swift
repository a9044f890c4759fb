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

    @Flag(help: "No progress output, only warnings, errors and the summary (the run's log.jsonl is still written).")
    var quiet = false

    @Option(help: "Progress as text (a redrawn bar on a terminal, plain lines otherwise) or json (one object per line on standard output).")
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("Continue a run bit for bit from its latest checkpoint (a run directory or a checkpoint directory).", valueName: "RUN_DIR"))
    var resume: String?

    @Flag(name: .customLong("allow-config-change"), help: "With --resume: accept (and log) differences from the checkpoint's config and plugins.")
    var allowConfigChange = false

    @Flag(help: "Replace a previous run found in run.dir instead of refusing it.")
    var overwrite = false

    func validate() throws {
        if resume != nil && overwrite { throw ValidationError("--resume continues a run and --overwrite replaces it: give one") }
        if allowConfigChange && resume == nil { throw ValidationError("--allow-config-change only applies with --resume") }
        if quiet && logFormat == .json { throw ValidationError("--quiet and --log-format json exclude each other") }
    }

    func run() throws {
        let display = ProgressDisplay.commandLine(quiet: quiet, format: logFormat)
        defer { display.end() }  // an error message starts on a line of its own
        var options = config.sessionOptions(plugins: plugins)
        options.progress = { display.report($0); return .proceed }
        options.log = display.log
        options.resume = resume
        options.allowConfigChange = allowConfigChange
        options.overwrite = overwrite
        let session = try Session(options)
        for failure in session.registry.failures { display.warning("plugin not loaded: \(failure)") }
        let c = session.config
        display.started(session, resumedFrom: resume)
        let signals = StopOnSignals(session)
        let result: TrainingResult
        do {
            result = try session.train()
        } catch {
            display.end()
            printError("error: \(error)")
            printError("the run directory keeps the last good state: resume with `autoglm train --resume \(c.run.dir)`")
            throw ExitCode(1)
        }
        display.finished(result, runDirectory: c.run.dir)
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
