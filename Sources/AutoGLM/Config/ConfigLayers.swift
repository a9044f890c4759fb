import Configuration
import Foundation

/// The configuration's layers as parsed (phase 1 of `ConfigLoader`), highest precedence first:
/// `--set` options, `AUTOGLM_*` variables, the config file (below them all: each key's built-in
/// default, taken from the schema when no layer has the key). Each layer is a
/// swift-configuration provider read through one `ConfigReader`, whose access reporter tells
/// which layer supplied a value. Enough to find plugins (`pluginPaths`); `resolve(schemas:)`
/// validates everything once the plugins' schemas are known.
public struct ConfigLayers: Sendable {
    /// The config file path, when one was given (or the label of an in-memory config text).
    public let configFile: String?
    /// The directory of the config file on disk (relative paths in it resolve against it).
    public var configDirectory: String? { file?.directory }
    /// `plugins.paths` resolved through the layers: extra plugin directories.
    public internal(set) var pluginPaths: [String] = []
    /// Where `pluginPaths` came from.
    public internal(set) var pluginPathsSource: ConfigSource = .default

    /// The host keys the layers are read against.
    let schema: ConfigSchema
    /// Layers, highest precedence first.
    let layers: [ConfigLayer]
    /// The parsed file.
    let file: ConfigFile?
    /// `--set` options in order.
    let overrides: [Override]
    /// `--set` options by key (the last of a key).
    let overridesByKey: [String: Override]
    /// The `AUTOGLM_*` variables read as config (see `ConfigEnvironment.split`).
    let environment: [String: String]
    /// Reads through every layer.
    private let reader: ConfigReader
    /// Learns from the reader which layer supplied each value.
    private let recorder: ProvenanceRecorder

    /// Layers over `file`, `environment` (config variables only) and `overrides`.
    init(schema: ConfigSchema, file: ConfigFile?, environment: [String: String], overrides: [Override]) {
        self.schema = schema
        self.file = file
        self.configFile = file?.path
        self.environment = environment
        self.overrides = overrides
        overridesByKey = Dictionary(overrides.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        var layers: [ConfigLayer] = [
            ConfigLayer(kind: .commandLine, provider: OverridesProvider(values: overridesByKey.mapValues(\.value))),
            ConfigLayer(kind: .environment,
                        provider: EnvironmentVariablesProvider(environmentVariables: environment)
                            .prefixKeys(with: Configuration.ConfigKey(["autoglm"]))),
        ]
        if let file, let snapshot = file.snapshot {
            layers.append(ConfigLayer(kind: .file(file.path), provider: SnapshotProvider(fixed: snapshot)))
        }
        self.layers = layers
        let recorder = ProvenanceRecorder()
        self.recorder = recorder
        reader = ConfigReader(providers: layers.map(\.provider), accessReporter: recorder)
    }

    /// Phase 2: resolves every key against the component schemas and validates it, giving the
    /// typed `RunConfig` and the `config show` entries.
    /// - Throws: `ConfigError` naming the key and where its value came from, for an unknown key
    ///   (with a "did you mean" hint), an unknown component, a bad value, or inconsistent values.
    public func resolve(schemas: some ComponentSchemaSource) throws -> ResolvedConfig {
        var resolver = ConfigResolver(layers: self, schemas: schemas)
        return try resolver.resolve()
    }

    /// The value of a dotted key from the highest layer that has it, with its source; nil when no
    /// layer has it. `list` reads it as a list (string array) rather than a single string.
    /// - Throws: `ConfigError` when the supplying layer cannot produce the value at all.
    func lookup(_ key: String, list: Bool) throws -> (raw: RawConfigValue, source: ConfigSource)? {
        let components = key.split(separator: ".").map(String.init)
        if list {
            _ = reader.stringArray(forKey: Configuration.ConfigKey(components))
        } else {
            _ = reader.string(forKey: Configuration.ConfigKey(components))
        }
        guard let event = recorder.event(forKey: key) else { return nil }
        // The reader asks providers in order and stops at the first with a value (or error),
        // reporting one result per provider asked: the result's index is the layer's.
        for (index, result) in event.providerResults.enumerated() where index < layers.count {
            let layer = layers[index]
            switch result.result {
            case .success(let lookup):
                guard let value = lookup.value else { continue }
                return (Self.raw(value.content), source(of: layer, key: key))
            case .failure(let error):
                // The file holds a list where a single value is wanted, or the reverse: read it
                // in the other shape so validation can say what was there.
                let other = try? layer.provider.value(forKey: AbsoluteConfigKey(components),
                                                      type: list ? .string : .stringArray)
                if let value = other?.value { return (Self.raw(value.content), source(of: layer, key: key)) }
                throw source(of: layer, key: key).error(key: key, "cannot read the value: \(error)")
            }
        }
        return nil
    }

    /// The argument names some layer gives under the hook key `key` (`<key>.args.<name>`), sorted.
    func argumentNames(of key: String) -> [String] {
        let prefix = "\(key).\(HookBinding.argsField)."
        var names = Set<String>()
        for fileKey in file?.keys ?? [] where fileKey.key.hasPrefix(prefix) { names.insert(String(fileKey.key.dropFirst(prefix.count))) }
        for override in overrides where override.key.hasPrefix(prefix) { names.insert(String(override.key.dropFirst(prefix.count))) }
        let variablePrefix = ConfigEnvironment.variableName(forKey: prefix.dropLast().description) + "_"
        for variable in environment.keys where variable.hasPrefix(variablePrefix) {
            names.insert(variable.dropFirst(variablePrefix.count).lowercased())
        }
        return names.sorted()
    }

    /// The source of a value of `key` supplied by `layer`.
    private func source(of layer: ConfigLayer, key: String) -> ConfigSource {
        switch layer.kind {
        case .commandLine: return .commandLine(overridesByKey[key]?.argument ?? key)
        case .environment: return .environment(ConfigEnvironment.variableName(forKey: key))
        case .file(let path): return .file(path)
        }
    }

    /// Provider content as a raw value.
    private static func raw(_ content: ConfigContent) -> RawConfigValue {
        switch content {
        case .string(let s): return .scalar(s)
        case .stringArray(let items): return .list(items)
        case .int(let i): return .scalar(String(i))
        case .double(let d): return .scalar(String(d))
        case .bool(let b): return .scalar(String(b))
        case .intArray(let items): return .list(items.map(String.init))
        case .doubleArray(let items): return .list(items.map { String($0) })
        case .boolArray(let items): return .list(items.map(String.init))
        case .bytes, .byteChunkArray: return .scalar("")
        }
    }
}

/// An `AccessReporter` that keeps the latest access event per key, so `ConfigLayers.lookup` can
/// tell which provider (layer) supplied each value it read, or which one failed.
private final class ProvenanceRecorder: AccessReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var latest: [String: AccessEvent] = [:]

    /// Records the event under its dotted key.
    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.joined(separator: ".")
        lock.withLock { latest[key] = event }
    }

    /// The latest event for a dotted key.
    func event(forKey key: String) -> AccessEvent? {
        lock.withLock { latest[key] }
    }
}
