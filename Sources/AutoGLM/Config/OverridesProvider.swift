import Configuration
import Foundation

/// The `--set` layer as a swift-configuration provider. swift-configuration's
/// `CommandLineArgumentsProvider` reads `--some-key value` options, not `--set key=value`, and
/// `InMemoryProvider` needs each value's type up front (component parameter types are only
/// known once plugins are loaded), so this provider keeps the text and, like
/// `EnvironmentVariablesProvider`, converts it when asked: as itself for a string, split at
/// commas (trimmed) for a string array.
struct OverridesProvider: FixedConfigProvider, ConfigSnapshot {
    /// Value text by dotted key (the last `--set` of a key wins).
    let values: [String: String]

    /// Provider name in access events.
    var providerName: String { "--set" }

    /// Looks up `key` as `type` (string or string array).
    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let encoded = key.components.joined(separator: ".")
        guard let text = values[encoded] else { return LookupResult(encodedKey: encoded, value: nil) }
        let content: ConfigContent
        switch type {
        case .string: content = .string(text)
        case .stringArray:
            content = .stringArray(text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) })
        default:
            throw ConfigError(origin: "--set \(encoded)=\(text)", message: "cannot be read as \(type)")
        }
        return LookupResult(encodedKey: encoded, value: ConfigValue(content, isSecret: false))
    }

    /// The provider is its own snapshot.
    func snapshot() -> any ConfigSnapshot { self }
}
