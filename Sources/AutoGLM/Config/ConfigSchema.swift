import Foundation

/// The host-owned keys one configuration is resolved against, and what follows from them: the
/// top-level names a config may use, which sections hold only host keys, and the defaults.
/// `ConfigSchema.host` is the key table (`HostKeys`); an embedder or a test may add keys of its
/// own with `adding(_:)`, and they then work like the host's in every layer, in `config show`
/// and in the generated reference.
public struct ConfigSchema: Sendable {
    /// Every key, in `config show` order.
    public let keys: [any AnyHostKey]
    /// `keys` by dotted name.
    let byName: [String: any AnyHostKey]

    /// The host's key table, read in declaration order.
    public static let host = ConfigSchema(keys: HostKeys.tableKeys)

    /// A schema of `keys` (names must be unique).
    public init(keys: [any AnyHostKey]) {
        self.keys = keys
        byName = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in
            preconditionFailure("config key \(first.name) is declared twice")
        })
    }

    /// This schema plus `extra` keys (placed after the keys of their section, or at the end).
    public func adding(_ extra: [any AnyHostKey]) -> ConfigSchema {
        var all = keys
        for key in extra {
            let index = all.lastIndex { $0.section == key.section }.map { $0 + 1 } ?? all.count
            all.insert(key, at: index)
        }
        return ConfigSchema(keys: all)
    }

    /// The section that holds the parameters of list-selected components (`params.<name>.<param>`).
    static let paramsSection = "params"

    /// Top-level names a config may use, in order.
    var topLevel: [String] {
        var names: [String] = []
        for key in keys where !names.contains(key.section) { names.append(key.section) }
        if keys.contains(where: { if case .lists = $0.role { return true } else { return false } }) {
            names.append(Self.paramsSection)
        }
        return names
    }

    /// Sections whose every key is host-owned (the others also hold component parameters).
    var hostSections: Set<String> {
        let component = Set(keys.compactMap { key -> String? in
            if case .selects = key.role { return key.section }
            return nil
        })
        return Set(keys.map(\.section).filter { !component.contains($0) && byName[$0] == nil })
    }

    /// Top-level names that are keys themselves rather than sections (`evaluators`).
    var topLevelKeys: Set<String> { Set(keys.map(\.name).filter { !$0.contains(".") }) }

    /// The built-in default of every key.
    var defaults: [String: ParameterValue] {
        Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0.spec.defaultValue) })
    }
}

extension HostKeys {
    /// Every key of the table in declaration order: the sections' stored `HostKey`s, read with
    /// `Mirror` so that a key is declared on one line and nowhere else.
    static var tableKeys: [any AnyHostKey] {
        Mirror(reflecting: table).children.flatMap { section in
            Mirror(reflecting: section.value).children.compactMap { $0.value as? any AnyHostKey }
        }
    }
}
