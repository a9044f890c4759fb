import Foundation

/// Loads the run configuration in two phases, because plugin search paths come from the
/// config while component schemas come from the loaded plugins:
///
/// 1. `ConfigLoader.load(file:environment:overrides:)` (or `load(text:…)`) parses the layers and
///    resolves `plugins.paths` (`ConfigLayers.pluginPaths`);
/// 2. `ConfigLayers.resolve(schemas:)` resolves and validates everything else against the
///    component schemas.
///
/// Layers, lowest to highest precedence: built-in defaults < config file (YAML) < environment
/// (`AUTOGLM_<KEY>`, dots as underscores, upper-case) < command line (`--set key=value`). The
/// keys, their types, defaults and bounds come from the schema (`ConfigSchema.host`: the key
/// table `HostKeys`).
public enum ConfigLoader {
    /// Phase 1: parses the config file at `file` (when given), the `AUTOGLM_*` environment
    /// variables and the `--set` option values (`key=value`, a list comma-separated), and
    /// resolves `plugins.paths`.
    /// - Throws: `ConfigError` for an unreadable file or a YAML syntax error (naming the file and
    ///   line), a malformed `--set`, an unknown key in a host-owned section (`train.stpes`,
    ///   `trian.steps`), a near-miss `AUTOGLM_*` variable, or a bad `plugins.paths`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            overrides: [String] = [], schema: ConfigSchema = .host) throws -> ConfigLayers {
        try load(parsed: file.map(ConfigFile.load(path:)), environment: environment, overrides: overrides,
                 schema: schema)
    }

    /// Phase 1 for a config given as YAML text rather than a file; `label` stands for the file
    /// in messages (`label:3: YAML syntax error …`).
    public static func load(text: String, label: String, environment: [String: String] = [:],
                            overrides: [String] = [], schema: ConfigSchema = .host) throws -> ConfigLayers {
        try load(parsed: ConfigFile.parse(text: text, path: label), environment: environment, overrides: overrides,
                 schema: schema)
    }

    /// Phase 1 on a parsed file.
    private static func load(parsed file: ConfigFile?, environment: [String: String], overrides: [String],
                             schema: ConfigSchema) throws -> ConfigLayers {
        let parsed = try overrides.map(Override.init(parsing:))
        let variables = try ConfigEnvironment.configVariables(in: environment, schema: schema)
        var layers = ConfigLayers(schema: schema, file: file, environment: variables, overrides: parsed)
        try UnknownKeyCheck(layers: layers, schemas: nil).checkHostSections()
        let paths = HostKeys.table.plugins.paths.name
        if let (raw, source) = try layers.lookup(paths, list: true) {
            layers.pluginPaths = raw.items.map { ConfigPaths.resolve($0, source: source, configDirectory: layers.configDirectory) }
            layers.pluginPathsSource = source
        }
        return layers
    }
}
