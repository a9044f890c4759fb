import Configuration
import Foundation

/// The parsed configuration layers (phase 1 of `ConfigLoader`): enough to find plugins, not yet
/// validated against component schemas.
public struct ConfigLayers: Sendable {
    /// The config file path, when one was given.
    public let configFile: String?
    /// `plugins.paths` resolved through the layers: extra plugin directories.
    public internal(set) var pluginPaths: [String]
    /// Where `pluginPaths` came from.
    public internal(set) var pluginPathsSource: ConfigSource

    /// Layers, highest precedence first.
    let layers: [ConfigLayer]
    /// The parsed file.
    let file: ConfigFile?
    /// `--set` options in order.
    let overrides: [Override]
    /// `--set` options by key (the last of a key).
    let overridesByKey: [String: Override]
    /// The `AUTOGLM_*` variables considered (ignored ones left out).
    let environment: [String: String]

    /// Phase 2: resolves every key against the component schemas and validates it, giving the
    /// typed `RunConfig` and the `config show` entries.
    /// - Throws: `ConfigError` naming the key and where its value came from, for an unknown key
    ///   (with a "did you mean" hint), an unknown component, a bad value, or inconsistent values.
    public func resolve(schemas: some ComponentSchemaSource) throws -> ResolvedConfig {
        var resolver = ConfigResolver(layers: self, schemas: schemas)
        return try resolver.resolve()
    }
}
