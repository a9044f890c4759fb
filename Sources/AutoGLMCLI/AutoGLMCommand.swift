import ArgumentParser
import AutoGLM
import Foundation

/// The `autoglm` command: train GPT language models whose components are C plugins.
public struct AutoGLMCommand: ParsableCommand {
    /// The command's name, version and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "autoglm",
        abstract: "Train GPT-style language models with attention variants, optimizers, evaluators and callbacks from C plugins.",
        version: "0.1.0",
        subcommands: [TrainCommand.self, SampleCommand.self, EvalCommand.self, LogitsCommand.self, ExportCommand.self, PluginsCommand.self, CallCommand.self, ConfigCommand.self,
                      InitCommand.self, BenchCommand.self, PlotCommand.self, SearchCommand.self]
    )

    /// An empty command (swift-argument-parser fills in the options).
    public init() {}

    /// Runs the command line (the build runs on any x86-64: kernels are chosen at run time).
    public static func main() {
        main(nil)
    }
}

/// Options shared by every command that loads plugins.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugins"), help: ArgumentHelp("A directory (or .so file) to search for plugins; repeatable, searched first.", valueName: "DIR"))
    var directories: [String] = []

    /// Loads every plugin on the search path (options, AUTOGLM_PLUGIN_PATH, `configPaths`, bundled).
    func registry(configPaths: [String] = []) -> PluginRegistry {
        let registry = PluginRegistry()
        registry.load(directories: PluginSearchPath.directories(
            commandLine: directories, environment: ProcessInfo.processInfo.environment, config: configPaths))
        return registry
    }
}

/// Writes `text` to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
