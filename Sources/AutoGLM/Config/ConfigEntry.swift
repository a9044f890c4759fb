import Foundation

/// One resolved key for `autoglm config show`: its value as text and where it came from.
public struct ConfigEntry: Sendable, Equatable {
    /// Dotted key, e.g. `optimizer.lr`.
    public let key: String
    /// The value as text (lists as `[a, b]`, bools as true/false).
    public let value: String
    /// The layer that supplied it.
    public let source: ConfigSource
    /// The value as JSON text.
    let json: String
}
