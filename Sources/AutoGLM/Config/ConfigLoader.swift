import Configuration
import Foundation

/// Loads the run configuration in two phases, because plugin search paths come from the
/// config while component schemas come from the loaded plugins:
///
/// 1. `ConfigLoader.load(file:environment:overrides:)` parses the layers and resolves
///    `plugins.paths` (`ConfigLayers.pluginPaths`);
/// 2. `ConfigLayers.resolve(schemas:)` resolves and validates everything else against the
///    component schemas.
///
/// Layers, lowest to highest precedence: built-in defaults < config file (YAML) < environment
/// (`AUTOGLM_<KEY>`, dots as underscores, upper-case) < command line (`--set key=value`). Each
/// layer is a swift-configuration provider (`InMemoryProvider`, `YAMLSnapshot`,
/// `EnvironmentVariablesProvider` with keys prefixed by `autoglm`, and a `--set` provider), read
/// through one `ConfigReader` whose access reporter tells which layer supplied each value.
public enum ConfigLoader {
    /// Phase 1: parses the config file (when given), the `AUTOGLM_*` environment variables and
    /// the `--set` option values (`key=value`, a list comma-separated), and resolves
    /// `plugins.paths`.
    /// - Throws: `ConfigError` for an unreadable file or a YAML syntax error (naming the file and
    ///   line), a malformed `--set`, an unknown key in a host-owned section (`train.stpes`,
    ///   `trian.steps`), or a bad `plugins.paths`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            overrides: [String] = []) throws -> ConfigLayers {
        var byKey: [String: Override] = [:]
        var parsed: [Override] = []
        for argument in overrides {
            let override = try Override(parsing: argument)
            parsed.append(override)
            byKey[override.key] = override
        }
        let configFile = try file.map(ConfigFile.load(path:))
        let variables = ConfigEnvironment.relevant(environment)

        var layers: [ConfigLayer] = [
            ConfigLayer(kind: .commandLine, provider: OverridesProvider(values: byKey.mapValues(\.value))),
            ConfigLayer(kind: .environment,
                        provider: EnvironmentVariablesProvider(environmentVariables: variables)
                            .prefixKeys(with: ConfigKey(["autoglm"]))),
        ]
        if let configFile, let snapshot = configFile.snapshot {
            layers.append(ConfigLayer(kind: .file(configFile.path), provider: SnapshotProvider(fixed: snapshot)))
        }
        layers.append(ConfigLayer(kind: .builtIn, provider: HostKeys.defaultsProvider()))

        var result = ConfigLayers(configFile: file, pluginPaths: [], pluginPathsSource: .default, layers: layers,
                                  file: configFile, overrides: parsed, overridesByKey: byKey,
                                  environment: variables)
        let check = UnknownKeyCheck(layers: result, schemas: nil)
        try check.checkHostSections()
        let reader = LayeredReader(layers: layers, overrides: byKey)
        if let (raw, origin) = try reader.lookup("plugins.paths", list: true) {
            result.pluginPaths = raw.items
            result.pluginPathsSource = origin.source
        }
        return result
    }
}
