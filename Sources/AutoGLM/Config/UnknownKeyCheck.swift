import Foundation

/// Finds keys the config sets that nothing reads: in the file and `--set` options (which keys
/// they hold is known exactly) and among `AUTOGLM_*` variables (matched against the variable
/// names of all known keys). Reports each with a "did you mean" hint.
struct UnknownKeyCheck {
    /// The components a resolved config selected, which decide the component keys.
    struct Selected {
        /// The component each component section selects (`attention` → flash's schema).
        var bySection: [String: ComponentSchema]
        /// Listed evaluators and callbacks, in order.
        var listed: [ComponentSchema]
    }

    /// The layers to check.
    let layers: ConfigLayers
    /// The registry, to tell "not listed" from "no such component" (phase 2 only).
    let schemas: (any ComponentSchemaSource)?

    /// Keys set by the file and by `--set`, with their sources.
    private var presentKeys: [(key: String, isNull: Bool, origin: ConfigSource)] {
        var keys: [(String, Bool, ConfigSource)] = []
        if let file = layers.file {
            keys += file.keys.map { ($0.key, $0.isNull, ConfigSource.file(file.path)) }
        }
        keys += layers.overrides.map { ($0.key, false, ConfigSource.commandLine($0.argument)) }
        return keys
    }

    /// Phase 1: unknown top-level names, unknown keys of host-owned sections, values where a
    /// section is expected.
    func checkHostSections() throws {
        let schema = layers.schema
        let topLevel = schema.topLevel, hostSections = schema.hostSections, topLevelKeys = schema.topLevelKeys
        for (key, isNull, origin) in presentKeys {
            let parts = key.split(separator: ".").map(String.init)
            let top = parts[0]
            guard topLevel.contains(top) else {
                let what = parts.count == 1 ? "unknown key '\(top)'" : "unknown section '\(top)'"
                throw origin.error(key: key, what + Suggestion.hint(for: top, in: topLevel))
            }
            let isSection = (parts.count == 1 && !topLevelKeys.contains(top))
                || (top == ConfigSchema.paramsSection && parts.count == 2)
            if isSection {
                if isNull { continue }
                throw origin.error(key: key, "'\(key)' is a section: expected keys under it, not a value")
            }
            if let hook = schema.keys.first(where: { key.hasPrefix($0.name + ".") && { if case .hook = $0.role { return true } else { return false } }($0) }) {
                let field = String(key.dropFirst(hook.name.count + 1))
                let argument = field.hasPrefix(HookBinding.argsField + ".") ? String(field.dropFirst(HookBinding.argsField.count + 1)) : nil
                if HookBinding.mapFields.contains(field) || argument.map(DescriptorValidation.isIdentifier) == true { continue }
                let candidates = HookBinding.mapFields.map { "\(hook.name).\($0)" } + ["\(hook.name).args.NAME"]
                throw origin.error(key: key, "unknown field of the hook \(hook.name) (fields: function, library, symbol, prototype, args.NAME)"
                                   + Suggestion.hint(for: key, in: candidates))
            }
            if hostSections.contains(top), schema.byName[key] == nil {
                let candidates = schema.keys.map(\.name).filter { $0.hasPrefix(top + ".") }
                throw origin.error(key: key, "unknown key" + Suggestion.hint(for: key, in: candidates))
            }
            if topLevelKeys.contains(top), parts.count > 1 {
                throw origin.error(key: key, "unknown key ('\(top)' is a list of component names)")
            }
        }
    }

    /// Phase 2: unknown component keys (`attention.*`, `optimizer.*`, `params.*`) and unknown
    /// `AUTOGLM_*` variables, given the selected components.
    func checkComponents(_ selected: Selected, knownKeys: [String]) throws {
        for (key, isNull, origin) in presentKeys {
            let parts = key.split(separator: ".").map(String.init)
            guard parts.count >= 2 else { continue }  // sections and lists: checked in phase 1
            if let schema = selected.bySection[parts[0]] {
                try checkComponentKey(key, parts: parts, schema: schema, origin)
            } else if parts[0] == ConfigSchema.paramsSection, parts.count >= 3 || !isNull {
                try checkParamsKey(key, parts: parts, listed: selected.listed, origin)
            }
        }
        let byVariable = Dictionary(knownKeys.map { (ConfigEnvironment.variableName(forKey: $0), $0) },
                                    uniquingKeysWith: { first, _ in first })
        for name in layers.environment.keys.sorted() where byVariable[name] == nil {
            let hint = Suggestion.hint(for: name, in: Array(byVariable.keys).sorted())
            throw ConfigSource.environment(name).error("unknown variable: no config key maps to it" + hint)
        }
    }

    /// `attention.X` / `optimizer.X`: X must be a host key of the section or a parameter of the
    /// selected component.
    private func checkComponentKey(_ key: String, parts: [String], schema: ComponentSchema,
                                   _ origin: ConfigSource) throws {
        let hostOwned = layers.schema.keys.filter { $0.section == parts[0] }.map { $0.components.dropFirst().joined(separator: ".") }
        let params = schema.parameters.map(\.name)
        let rest = parts.dropFirst().joined(separator: ".")
        if parts.count == 2, hostOwned.contains(rest) || params.contains(rest) { return }
        throw origin.error(key: key, "unknown key for \(schema.kind.rawValue) '\(schema.name)'"
                           + hint(rest, hostOwned + params, noParameters: params.isEmpty))
    }

    /// `params.C.P`: C must be a listed evaluator or callback and P one of its parameters.
    private func checkParamsKey(_ key: String, parts: [String], listed: [ComponentSchema],
                                _ origin: ConfigSource) throws {
        let name = parts[1]
        guard let schema = listed.first(where: { $0.name == name }) else {
            let listKeys = layers.schema.keys.compactMap { key -> (ComponentKind, String)? in
                if case .lists(let kind) = key.role { return (kind, key.name) }
                return nil
            }
            if let (kind, list) = listKeys.first(where: { schemas?.schema(kind: $0.0, name: name) != nil }) {
                throw origin.error(key: "params.\(name)", "\(kind.rawValue) '\(name)' is not listed in \(list)")
            }
            throw origin.error(key: "params.\(name)", "no listed evaluator or callback named '\(name)'"
                               + Suggestion.hint(for: name, in: listed.map(\.name)))
        }
        let params = schema.parameters.map(\.name)
        let rest = parts.dropFirst(2).joined(separator: ".")
        if parts.count == 3, params.contains(rest) { return }
        throw origin.error(key: key, "unknown key for \(schema.kind.rawValue) '\(schema.name)'"
                           + hint(rest, params, noParameters: params.isEmpty))
    }

    /// A "did you mean" hint, or a note that the component takes no parameters.
    private func hint(_ word: String, _ candidates: [String], noParameters: Bool) -> String {
        let h = Suggestion.hint(for: word, in: candidates)
        return h.isEmpty && noParameters ? " (it takes no parameters)" : h
    }
}
