import Configuration
import Foundation
import Yams

/// A key present in the config file (a leaf: a scalar or a list), with its line.
struct FileKey: Sendable, Equatable {
    /// Dotted key.
    let key: String
    /// 1-based line of the value.
    let line: Int
    /// Whether the value is YAML null (`key:` with nothing after it).
    let isNull: Bool
}

/// The parsed config file: the swift-configuration `YAMLSnapshot` that serves its values, plus
/// the list of keys it contains. swift-configuration can only look keys up, not list them (the
/// snapshot's values are private), so the file is also walked with Yams directly to find
/// unknown keys; that walk also turns Yams' syntax errors into messages naming the file and line.
struct ConfigFile: Sendable {
    /// Path as given.
    let path: String
    /// The directory of the file on disk (absolute), against which relative paths in it are
    /// resolved; nil for a config text that is not a file.
    var directory: String?
    /// Leaf keys in document order.
    let keys: [FileKey]
    /// The values; nil for a file without any (empty, or only comments).
    let snapshot: YAMLSnapshot?

    /// Reads and parses the file at `path`.
    /// - Throws: `ConfigError` for an unreadable file, a YAML syntax error (`PATH:LINE:COLUMN: …`),
    ///   a top level that is not a mapping, or a list holding maps or lists.
    static func load(path: String) throws -> ConfigFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(origin: path, message: "config file not found")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(origin: path, message: "cannot read the config file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(origin: path, message: "the config file is not valid UTF-8")
        }
        var file = try parse(text: text, path: path)
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        file.directory = ((absolute as NSString).deletingLastPathComponent as NSString).standardizingPath
        return file
    }

    /// Parses YAML `text`; `path` names it in messages.
    /// - Throws: `ConfigError` as `load(path:)` does.
    static func parse(text: String, path: String) throws -> ConfigFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, path: path, text: text)
        }
        guard let root else { return ConfigFile(path: path, keys: [], snapshot: nil) }
        guard let mapping = root.mapping else {
            throw ConfigError(origin: "\(path):\(root.mark?.line ?? 1)",
                              message: "expected a mapping of config keys (key: value lines) at the top level")
        }
        var keys: [FileKey] = []
        try collect(mapping, prefix: [], path: path, into: &keys)
        let snapshot: YAMLSnapshot
        do {
            snapshot = try YAMLSnapshot(data: Data(text.utf8).bytes, providerName: path, parsingOptions: .default)
        } catch {
            throw ConfigError(origin: path, message: "\(error)")
        }
        return ConfigFile(path: path, keys: keys, snapshot: snapshot)
    }

    /// Walks nested mappings, recording leaves.
    private static func collect(_ mapping: Node.Mapping, prefix: [String], path: String,
                                into keys: inout [FileKey]) throws {
        for (keyNode, value) in mapping {
            let line = value.mark?.line ?? keyNode.mark?.line ?? 0
            guard let name = keyNode.scalar?.string else {
                throw ConfigError(origin: "\(path):\(keyNode.mark?.line ?? line)",
                                  message: "\((prefix + ["?"]).joined(separator: ".")): keys must be plain names")
            }
            let components = prefix + [name]
            let key = components.joined(separator: ".")
            switch value {
            case .mapping(let nested):
                try collect(nested, prefix: components, path: path, into: &keys)
            case .sequence(let items):
                if let bad = items.first(where: { $0.scalar == nil }) {
                    throw ConfigError(origin: "\(path):\(bad.mark?.line ?? line)",
                                      message: "\(key): list items must be plain values (numbers or names), not maps or lists")
                }
                keys.append(FileKey(key: key, line: line, isNull: false))
            case .scalar:
                keys.append(FileKey(key: key, line: line, isNull: value.null != nil))
            case .alias:
                throw ConfigError(origin: "\(path):\(line)", message: "\(key): YAML aliases are not supported")
            }
        }
    }

    /// `PATH:LINE:COLUMN: YAML syntax error: PROBLEM` (also for search space files).
    static func syntaxError(_ error: YamlError, path: String, text: String) -> ConfigError {
        func at(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> ConfigError {
            var message = "YAML syntax error: \(problem)"
            if let context, !context.text.isEmpty {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            return ConfigError(origin: "\(path):\(mark.line):\(mark.column)", message: message)
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return at(mark, problem, context)
        case let .duplicatedKeysInMapping(duplicates, context):
            return ConfigError(origin: "\(path):\(context.mark.line)",
                               message: "YAML error: duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))")
        case let .reader(problem, offset, _, _):
            let line = offset.map { off in
                text.utf8.prefix(off).reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            }
            return ConfigError(origin: line.map { "\(path):\($0)" } ?? path, message: "YAML syntax error: \(problem)")
        default:
            return ConfigError(origin: path, message: "YAML error: \(error)")
        }
    }
}
