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

    func validate() throws {
        if quiet && logFormat == .json { throw ValidationError("--quiet and --log-format json exclude each other") }
    }

    func run() throws {
        let display = ProgressDisplay.commandLine(quiet: quiet, format: logFormat)
        defer { display.end() }  // an error message starts on a line of its own
        var options = config.sessionOptions(plugins: plugins)
        options.progress = { display.report($0); return .proceed }
        options.log = display.log
        let session = try Session(options)
        for failure in session.registry.failures { display.warning("plugin not loaded: \(failure)") }
        display.started(session)
        display.finished(try session.train(), runDirectory: session.config.run.dir)
    }
}
