import Foundation
import Yams

/// A search space file as written, before it is checked against the config's keys: YAML whose
/// leaves are config keys (nested, dotted, or both, like a config file) with a distribution
/// each, or `auto`:
///
///     optimizer:
///       lr: { loguniform: [1e-4, 1e-2] }
///       weight_decay: { uniform: [0, 0.2] }
///     train.warmup_steps: { int: [0, 100], step: 10 }
///     attention:
///       name: { choice: [flash, alibi, sliding_window] }
///       window: { int: [8, 64] }       # sliding_window's: searched in trials that choose it
///     # or: name: { choice: [...], params: auto }  searches every declared parameter
struct SearchSpaceFile: Sendable {
    /// What one entry asks for.
    enum Form: Sendable, Equatable {
        /// `auto`: the key's declared bounds.
        case auto
        /// `{ NAME: [values], log: …, step: …, params: auto }`.
        case distribution(name: String, values: [String], log: Bool?, step: String?, autoParams: Bool)
    }

    /// One searched key of the file.
    struct Entry: Sendable, Equatable {
        /// Dotted config key.
        let key: String
        /// 1-based line of its value.
        let line: Int
        /// Its distribution.
        let form: Form
    }

    /// The file (as given), for messages.
    let path: String
    /// Entries in document order.
    let entries: [Entry]

    /// The distributions a space file may use.
    static let distributionNames = ["choice", "uniform", "loguniform", "int"]
    /// The options a distribution may carry.
    static let optionNames = ["log", "step", "params"]
    /// What a value must look like, for messages.
    static let expected = "a distribution ({ choice: [a, b] }, { uniform: [low, high] }, { loguniform: [low, high] } "
        + "or { int: [low, high] }, with optional log: true and step: N) or auto"

    /// Reads and parses the space file at `path`.
    /// - Throws: `ConfigError` naming the file (and line) for an unreadable file, a YAML error or
    ///   an entry that is not a distribution.
    static func load(path: String) throws -> SearchSpaceFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(origin: path, message: "cannot read the search space file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(origin: path, message: "the search space file is not valid UTF-8")
        }
        return try parse(text: text, path: path)
    }

    /// Parses space `text`; `path` names it in messages.
    static func parse(text: String, path: String) throws -> SearchSpaceFile {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw ConfigFile.syntaxError(error, path: path, text: text)
        }
        guard let root else { throw ConfigError(origin: path, message: "the search space has no keys to search") }
        guard let mapping = root.mapping else {
            throw ConfigError(origin: path, message: "a search space is a mapping of config keys to distributions, "
                              + "e.g. `optimizer.lr: { loguniform: [1e-4, 1e-2] }`")
        }
        var entries: [Entry] = []
        try collect(mapping, prefix: [], path: path, into: &entries)
        if let twice = Dictionary(grouping: entries, by: \.key).first(where: { $0.value.count > 1 })?.value {
            throw ConfigError(origin: "\(path):\(twice[1].line)", message: "\(twice[1].key): searched twice (also at line \(twice[0].line))")
        }
        guard !entries.isEmpty else { throw ConfigError(origin: path, message: "the search space has no keys to search") }
        return SearchSpaceFile(path: path, entries: entries)
    }

    /// Walks sections; a mapping holding a distribution name is an entry, other mappings nest.
    private static func collect(_ mapping: Node.Mapping, prefix: [String], path: String, into entries: inout [Entry]) throws {
        for (keyNode, value) in mapping {
            let line = value.mark?.line ?? keyNode.mark?.line ?? 0
            guard let name = keyNode.scalar?.string, !name.isEmpty else {
                throw ConfigError(origin: "\(path):\(line)", message: "keys must be plain names")
            }
            let components = prefix + name.split(separator: ".").map(String.init)
            let key = components.joined(separator: ".")
            func fail(_ message: String) -> ConfigError { ConfigError(origin: "\(path):\(line)", message: "\(key): \(message)") }
            switch value {
            case .mapping(let nested):
                let names = nested.compactMap { $0.key.scalar?.string }
                if names.contains(where: distributionNames.contains) {
                    entries.append(Entry(key: key, line: line, form: try distribution(nested, fail: fail)))
                } else {
                    try collect(nested, prefix: components, path: path, into: &entries)
                }
            case .scalar(let scalar) where scalar.string == "auto":
                entries.append(Entry(key: key, line: line, form: .auto))
            case .scalar(let scalar):
                throw fail("expected \(expected), got \(quotedForMessage(scalar.string)); a fixed value belongs in the base config")
            case .sequence:
                let last = components.last ?? key
                throw fail("expected \(expected), got a list" + Suggestion.hint(for: last, in: distributionNames))
            case .alias:
                throw fail("YAML aliases are not supported")
            }
        }
    }

    /// The distribution of one entry's mapping.
    private static func distribution(_ fields: Node.Mapping, fail: (String) -> ConfigError) throws -> Form {
        var name: String?, values: [String] = [], log: Bool?, step: String?, autoParams = false
        for (keyNode, value) in fields {
            let field = keyNode.scalar?.string ?? "?"
            switch field {
            case let d where distributionNames.contains(d):
                if let name { throw fail("give one distribution, not both \(name) and \(d)") }
                guard let items = value.sequence, items.allSatisfy({ $0.scalar != nil }) else {
                    throw fail(d == "choice" ? "choice takes a list of values, e.g. { choice: [a, b] }"
                               : "\(d) takes [low, high], e.g. { \(d): [\(d == "int" ? "1, 8" : "0.001, 0.1")] }")
                }
                name = d
                values = items.compactMap { $0.scalar?.string }
            case "log":
                guard let flag = value.scalar.flatMap({ ParameterSpec.parseBool($0.string) }) else {
                    throw fail("log must be true or false")
                }
                log = flag
            case "step":
                guard let text = value.scalar?.string else { throw fail("step must be a number") }
                step = text
            case "params":
                guard value.scalar?.string == "auto" else {
                    throw fail("params takes auto (every declared parameter of the chosen component)")
                }
                autoParams = true
            default:
                throw fail("unknown field '\(field)'" + Suggestion.hint(for: field, in: distributionNames + optionNames)
                           + "; a distribution is one of \(distributionNames.joined(separator: ", ")), optionally with log, step "
                           + "(and params: auto on a component choice)")
            }
        }
        guard let name else { throw fail("expected \(expected)") }
        return .distribution(name: name, values: values, log: log, step: step, autoParams: autoParams)
    }
}
