import Foundation

/// How to build a `Session`: where the configuration comes from, where plugins are searched,
/// which components the program registers itself, and where the training text comes from.
public struct SessionOptions {
    /// A YAML config file (nil: defaults, plus `configText` and `overrides`).
    public var configFile: String?
    /// A YAML config given as text (instead of `configFile`), and the label naming it in messages.
    public var configText: (text: String, label: String)?
    /// `key=value` overrides, as `--set` options (the last of a key wins).
    public var overrides: [String] = []
    /// The process environment: its `AUTOGLM_<KEY>` variables are a config layer and
    /// `AUTOGLM_PLUGIN_PATH` adds plugin directories. Empty for none (the C API's default).
    public var environment: [String: String] = [:]
    /// Plugin directories (or `.so` files) searched first, in order.
    public var pluginDirectories: [String] = []
    /// The directory of the bundled plugins (nil: none). Defaults to the one found next to the
    /// running executable or the library (see `PluginSearchPath.bundledDirectory`).
    public var bundledPlugins: String? = PluginSearchPath.bundledDirectory
    /// Registers the program's own components (C descriptors, `PluginRegistry.register(inProcess:owner:)`)
    /// after the plugins are loaded and before the config is resolved against them.
    public var registerComponents: ((PluginRegistry) throws -> Void)?
    /// The host keys (the key table, plus any the embedder declares).
    public var schema: ConfigSchema = .host
    /// Where the training text comes from.
    public var data: SessionData = .configured
    /// Receives every step and evaluation (see `Session.progress`).
    public var progress: ((TrainingProgress) -> TrainingProgress.Reply)?
    /// Receives the host's and the plugins' log lines while the session runs (nil: swift-log).
    public var log: HostLog.Sink?

    /// Options for the defaults: no config file, no environment, the bundled plugins.
    public init() {}

    /// The first half of building a session, which `autoglm config show` also needs: loads the
    /// config layers, the plugins on the search path (`pluginDirectories`, `AUTOGLM_PLUGIN_PATH`,
    /// the config's `plugins.paths`, the bundled ones) and the program's own components, then
    /// resolves and validates the config against them.
    /// - Throws: `ConfigError` naming the key and its source (listing the plugins that failed to
    ///   load, when a component is missing).
    public func resolve() throws -> (ResolvedConfig, PluginRegistry) {
        let layers: ConfigLayers
        if let (text, label) = configText {
            layers = try ConfigLoader.load(text: text, label: label, environment: environment, overrides: overrides,
                                           schema: schema)
        } else {
            layers = try ConfigLoader.load(file: configFile, environment: environment, overrides: overrides, schema: schema)
        }
        let registry = PluginRegistry()
        registry.load(directories: PluginSearchPath.directories(
            commandLine: pluginDirectories, environment: environment, config: layers.pluginPaths, bundled: bundledPlugins))
        try registerComponents?(registry)
        do {
            return (try layers.resolve(schemas: registry), registry)
        } catch let error as ConfigError where !registry.failures.isEmpty {
            // A missing component is often a plugin that failed to load: say which did.
            let failed = registry.failures.map { "  \($0.file): \($0.reason)" }.joined(separator: "\n")
            throw ConfigError(origin: error.origin, message: error.message + "\nplugins that failed to load:\n" + failed)
        }
    }
}

/// Where a session's training text comes from.
public enum SessionData {
    /// The file or directory `data.path` names.
    case configured
    /// This text (a program's own corpus), tokenized like a file's.
    case text(String)
    /// Tokens already made, with their tokenizer (benchmarks on random tokens).
    case tokens(TokenDataset, CharTokenizer)
}
