import Foundation

/// The outcome of loading: the typed configuration plus every resolved key with its source.
public struct ResolvedConfig: Sendable {
    /// The typed, validated configuration.
    public let config: RunConfig
    /// Every key, in `config show` order: host sections, attention, optimizer, evaluators,
    /// callbacks, their `params.*`, plugins.
    public let entries: [ConfigEntry]

    /// The entry of a dotted key.
    public func entry(forKey key: String) -> ConfigEntry? {
        entries.first { $0.key == key }
    }

    /// `config show` lines, aligned: `key = value  # source`.
    public func render() -> [String] {
        let keyWidth = entries.map(\.key.count).max() ?? 0
        let valueWidth = entries.map(\.value.count).max() ?? 0
        return entries.map { entry in
            let key = entry.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
            let value = entry.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0)
            return "\(key) = \(value)  # \(entry.source)"
        }
    }

    /// The resolved configuration as one line of JSON: an object nested like the YAML, keys
    /// sorted, numbers as numbers, bools as true/false (for the first line of the run log).
    public var jsonObject: String {
        JSONText.object(dottedKeys: entries.map { ($0.key, $0.json) })
    }
}
