import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm config`: inspect the resolved configuration.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect the resolved configuration.", subcommands: [ShowConfig.self])
}

/// `autoglm config show`.
struct ShowConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print every resolved key with its value and source (default, file, env or --set).")

    @OptionGroup var plugins: PluginOptions
    @OptionGroup var config: ConfigOptions

    @Flag(help: "Print the resolved config as one JSON object instead.")
    var json = false

    func run() throws {
        let (_, resolved) = try config.resolve(plugins: plugins)
        if json { print(resolved.jsonObject) } else { resolved.render().forEach { print($0) } }
    }
}
