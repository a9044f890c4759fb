import Foundation

/// A configuration value as written, before validation against its type: a single scalar
/// (a YAML scalar, an environment value, a `--set` value), or a list of scalars (a YAML
/// sequence, or a comma-separated environment / `--set` value read as a list).
public enum RawConfigValue: Sendable, Equatable, CustomStringConvertible {
    /// One value as text.
    case scalar(String)
    /// A list of values as text.
    case list([String])

    /// The value as the user wrote it (lists comma-separated).
    public var description: String {
        switch self {
        case .scalar(let text): return text
        case .list(let items): return items.joined(separator: ",")
        }
    }

    /// The items of a list; a scalar is split at commas. Items are trimmed, brackets around the
    /// whole list (`[0.9, 0.95]`) removed and empty items dropped, so `""` and `[]` are the empty
    /// list.
    public var items: [String] {
        let raw: [String]
        switch self {
        case .scalar(let text): raw = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        case .list(let items): raw = items
        }
        var items = raw.map { $0.trimmingCharacters(in: .whitespaces) }
        // `--set optimizer.betas=[0.9,0.95]`: brackets around a comma-separated list are allowed.
        if let first = items.first, let last = items.last, first.hasPrefix("["), last.hasSuffix("]") {
            items[0].removeFirst()
            items[items.count - 1].removeLast()
            items = items.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return items.filter { !$0.isEmpty }
    }
}
