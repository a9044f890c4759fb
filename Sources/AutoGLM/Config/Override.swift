import Foundation

/// One parsed `--set key=value` option.
struct Override: Sendable, Equatable {
    /// The argument as given (`optimizer.lr=3e-4`).
    let argument: String
    /// Dotted key.
    let key: String
    /// Value text (a list is comma-separated).
    let value: String

    /// Parses `key=value`; the key is dot-separated words of letters, digits, `_` and `-`.
    /// - Throws: `ConfigError` naming the option when it is malformed.
    init(parsing argument: String) throws {
        guard let eq = argument.firstIndex(of: "=") else {
            throw ConfigError(origin: "--set \(argument)", message: "expected key=value, e.g. --set optimizer.lr=3e-4")
        }
        let key = argument[..<eq].trimmingCharacters(in: .whitespaces)
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        let wordChars = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-"))
        guard !key.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(wordChars.contains) })
        else {
            throw ConfigError(origin: "--set \(argument)",
                              message: "expected key=value with a dotted key such as optimizer.lr, got key \(quotedForMessage(key))")
        }
        self.argument = argument
        self.key = key
        self.value = String(argument[argument.index(after: eq)...])
    }
}
