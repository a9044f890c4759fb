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
    /// The environment the process was started with, which tells whether an MPI launcher
    /// (`mpirun`) started it (`MPILaunch`: the session then trains data-parallel) and which MPI
    /// library to open (`AUTOGLM_MPI_LIBRARY`). The process environment whatever `environment`
    /// holds: the launch is the process's, not the config's. `[:]` trains alone under mpirun.
    public var launchEnvironment: [String: String] = ProcessInfo.processInfo.environment
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
    /// Continue from a checkpoint: a run directory (its `checkpoint` choice) or a checkpoint
    /// directory. The config is the checkpoint's unless `configFile`/`configText` is given; any
    /// difference from it (and any component of another version) is refused unless
    /// `allowConfigChange`. Training continues bit for bit in the same run directory.
    public var resume: String?
    /// Which checkpoint of the run `resume` names.
    public var checkpoint: RunDirectory.CheckpointChoice = .latest
    /// Accept (and log) differences between the config or components and the checkpoint's.
    public var allowConfigChange = false
    /// Replace a previous run found in `run.dir` (otherwise a new run refuses a folder that holds
    /// one).
    public var overwrite = false

    /// Options for the defaults: no config file, no environment, the bundled plugins.
    public init() {}

    /// The checkpoint `resume` names.
    func resumedCheckpoint() throws -> URL? {
        try resume.map { try RunDirectory.checkpoint(at: $0, checkpoint) }
    }

    /// The run directory holding the checkpoint `resume` names (nil: a checkpoint on its own).
    func resumedRunDirectory() throws -> URL? {
        guard let checkpoint = try resumedCheckpoint() else { return nil }
        let run = checkpoint.deletingLastPathComponent().deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: run.appendingPathComponent("run.json").path) ? run : nil
    }

    /// The record of the run `resume` names.
    func resumedRecord() throws -> RunRecord? {
        try resumedRunDirectory().map(RunDirectory.readRecord)
    }

    /// The checkpoint's config as the config text, when resuming without a config of one's own.
    private func resumedConfig() throws -> (text: String, label: String)? {
        guard configFile == nil, let checkpoint = try resumedCheckpoint() else { return nil }
        let file = checkpoint.appendingPathComponent(Checkpoint.File.config.rawValue)
        guard let data = FileManager.default.contents(atPath: file.path), let text = String(data: data, encoding: .utf8) else {
            throw CheckpointError(message: "\(file.path): cannot be read; the checkpoint is damaged")
        }
        return (text, file.path)
    }

    /// The first half of building a session, which `autoglm config show` also needs: loads the
    /// config layers, the plugins on the search path (`pluginDirectories`, `AUTOGLM_PLUGIN_PATH`,
    /// the config's `plugins.paths`, the bundled ones) and the program's own components, then
    /// resolves and validates the config against them.
    /// - Throws: `ConfigError` naming the key and its source (listing the plugins that failed to
    ///   load, when a component is missing).
    public func resolve() throws -> (ResolvedConfig, PluginRegistry) {
        let layers: ConfigLayers
        var overrides = self.overrides
        if let run = try resumedRunDirectory() { overrides.append("run.dir=\(run.path)") }  // continue where it is
        if let (text, label) = try configText ?? resumedConfig() {
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
        } catch let error as ConfigError where !registry.failures.isEmpty || resume != nil {
            if resume != nil {
                let searched = (try? resumedRecord()?.pluginPaths) ?? []
                throw ConfigError(origin: error.origin, message: error.message + (searched.isEmpty ? "" :
                    "\nthe run was trained with plugins from \(searched.joined(separator: ", ")): pass those folders with --plugins"))
            }
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
    /// None: a session opened from a checkpoint (`resume`) to sample; it cannot train, and writes
    /// nothing into the run directory.
    case none
}
