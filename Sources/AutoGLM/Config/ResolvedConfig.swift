import Foundation

/// The outcome of loading: the typed configuration plus every resolved key with its source, in
/// `config show` order (host keys in table order, each component's parameters after the keys of
/// the section that selects it, listed components' `params.*` after the last list).
public struct ResolvedConfig: Sendable {
    /// One resolved key for `autoglm config show`: its value as text and where it came from.
    public struct Entry: Sendable, Equatable {
        /// Dotted key, e.g. `optimizer.lr`.
        public let key: String
        /// The value as text (lists as `[a, b]`, bools as true/false).
        public let value: String
        /// The layer that supplied it.
        public let source: ConfigSource
        /// The value as JSON text.
        let json: String
    }

    /// The typed, validated configuration.
    public let config: RunConfig
    /// Every key, in `config show` order.
    public let entries: [Entry]

    /// The entries of `config` laid out by `layout`, with `sources` (a key without one is a
    /// default).
    init(config: RunConfig, layout: [ConfigResolver.Slot], sources: [String: ConfigSource]) {
        self.config = config
        entries = layout.map { slot in
            let value = slot.value(in: config)
            let source = sources[slot.key] ?? slot.defaultSource
            return Entry(key: slot.key, value: slot.spec.displayText(value), source: source, json: slot.json(in: config))
        }
    }

    /// The entry of a dotted key.
    public func entry(forKey key: String) -> Entry? {
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
