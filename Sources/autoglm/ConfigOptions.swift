import ArgumentParser
import AutoGLM
import Foundation

/// The config file and `--set` overrides, shared by `train` and `config show`.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("YAML config file (optional: defaults are nanoGPT's CPU recipe).", valueName: "FILE"))
    var file: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set optimizer.lr=3e-4 (lists: a,b); repeatable; wins over the file and AUTOGLM_* variables.", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    /// Loads the layers, then the plugins on the search path (including the config's
    /// `plugins.paths`), then validates everything against the plugins' schemas.
    func resolve(plugins: PluginOptions) throws -> (PluginRegistry, ResolvedConfig) {
        let layers = try ConfigLoader.load(file: file, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        let registry = plugins.registry(configPaths: layers.pluginPaths)
        do {
            return (registry, try layers.resolve(schemas: registry))
        } catch {
            // A missing component is often a plugin that failed to load: say which did.
            if !registry.failures.isEmpty {
                let failed = registry.failures.map { "  \($0.file): \($0.reason)" }.joined(separator: "\n")
                throw ValidationError("\(error)\nplugins that failed to load:\n\(failed)")
            }
            throw error
        }
    }
}
