import ArgumentParser
import AutoGLM
import Foundation

/// The config file and `--set` overrides, shared by `train` and `config show`.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("YAML config file (optional: defaults are nanoGPT's CPU recipe).", valueName: "FILE"))
    var file: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set optimizer.lr=3e-4 (lists: a,b); repeatable; wins over the file and AUTOGLM_* variables.", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    /// Session options for this command line: the file, the overrides, the process environment
    /// and the `--plugins` directories.
    func sessionOptions(plugins: PluginOptions) -> SessionOptions {
        var options = SessionOptions()
        options.configFile = file
        options.overrides = overrides
        options.environment = ProcessInfo.processInfo.environment
        options.pluginDirectories = plugins.directories
        return options
    }
}
