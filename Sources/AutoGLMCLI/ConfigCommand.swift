import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm config`: inspect the resolved configuration.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect the resolved configuration and the key reference.",
        subcommands: [ShowConfig.self, ConfigReferenceCommand.self])
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
        let (resolved, _) = try config.sessionOptions(plugins: plugins).resolve()
        if json { print(resolved.jsonObject) } else { resolved.render().forEach { print($0) } }
    }
}

/// `autoglm config reference`: the key table as documentation.
struct ConfigReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Print every config key with its default, accepted values and meaning (the README's reference).")

    /// What to print.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, yaml
    }

    @Option(help: "markdown (the README table) or yaml (the starter config of `autoglm init`).")
    var format: Format = .markdown

    func run() throws {
        switch format {
        case .markdown: print(ConfigReference.markdown())
        case .yaml: print(ConfigReference.starterYAML(), terminator: "")
        }
    }
}
