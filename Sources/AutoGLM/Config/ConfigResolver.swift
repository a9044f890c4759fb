import Foundation

/// Phase 2 of loading: reads every key of the schema through the layers, validates it, looks up
/// the components it selects and reads their parameters, and records where each value came
/// from. The same rules validate a `RunConfig` built in code (`validate(_:schema:schemas:)`).
struct ConfigResolver {
    /// One key of a resolved config in `config show` order: a host key, or a parameter of a
    /// selected component.
    struct Slot: Sendable {
        /// Dotted key.
        let key: String
        /// Its declaration (for a parameter: the plugin's spec, named by the parameter).
        let spec: ParameterSpec
        /// The component it is a parameter of (nil for a host key).
        let component: (kind: ComponentKind, name: String)?
        /// For one field of a hook's binding map (`args.warmup`), the hook key and the field.
        var hookField: (key: String, field: String)?

        /// The slot's value in `config`.
        func value(in config: RunConfig) -> ParameterValue {
            if let (hook, field) = hookField, case .hook(let binding)? = config.values[hook] {
                return .string(binding.fields.first { $0.field == field }?.text ?? "")
            }
            guard let (kind, name) = component else { return config.values[key] ?? spec.defaultValue }
            return config.componentParameters[kind]?[name]?[spec.name] ?? spec.defaultValue
        }

        /// The slot's value as JSON text (a hook's argument as a number when it reads as one).
        func json(in config: RunConfig) -> String {
            let value = value(in: config)
            if hookField != nil, case .string(let text) = value, let number = ParameterSpec.parseNumber(text) {
                return JSONText.number(number)
            }
            return spec.jsonText(value)
        }

        /// The source of a value nobody set.
        var defaultSource: ConfigSource {
            component.map { .componentDefault(kind: $0.kind, name: $0.name) } ?? .default
        }
    }

    /// The components a config selects, by the section or list that selects them.
    struct Selection {
        /// Component sections (`attention`) and the schema of the component they name.
        var bySection: [(section: String, schema: ComponentSchema)] = []
        /// Listed components (evaluators, then callbacks) in order.
        var listed: [ComponentSchema] = []
    }

    /// The parsed layers.
    let layers: ConfigLayers
    /// Component schemas.
    let schemas: any ComponentSchemaSource
    /// The configuration being built.
    private var config: RunConfig
    /// Sources of the values read so far, by key.
    private var sources: [String: ConfigSource] = [:]

    /// A resolver for `layers`.
    init(layers: ConfigLayers, schemas: any ComponentSchemaSource) {
        self.layers = layers
        self.schemas = schemas
        config = RunConfig(schema: layers.schema)
    }

    /// Resolves everything.
    mutating func resolve() throws -> ResolvedConfig {
        // Host sections were checked for unknown keys by `ConfigLoader.load`.
        var selection = Selection()
        for key in layers.schema.keys {
            let value = try read(key)
            try Self.select(key, value: value, schema: layers.schema, schemas: schemas, source: sources[key.name] ?? .default,
                            into: &selection)
        }
        let layout = Self.layout(layers.schema, selection, config: config)
        try UnknownKeyCheck(layers: layers, schemas: schemas)
            .checkComponents(UnknownKeyCheck.Selected(bySection: Dictionary(selection.bySection, uniquingKeysWith: { a, _ in a }),
                                                      listed: selection.listed),
                             knownKeys: layout.map(\.key))
        for (section, schema) in selection.bySection {
            config.store(ComponentSelection(kind: schema.kind, name: schema.name,
                                            parameters: try parameters(of: schema, prefix: section + ".")))
        }
        for schema in selection.listed {
            config.store(ComponentSelection(kind: schema.kind, name: schema.name,
                                            parameters: try parameters(of: schema, prefix: "\(ConfigSchema.paramsSection).\(schema.name).")))
        }
        try HostKeys.checkConsistency(config, sources: sources)
        return ResolvedConfig(config: config, layout: layout, sources: sources)
    }

    /// Validates a configuration built in code as if every value came from `source`: each host
    /// key against its declaration, each selected component against its schema (missing
    /// parameters get their defaults), and the rules between keys.
    static func validate(_ config: RunConfig, schema: ConfigSchema, schemas: some ComponentSchemaSource,
                         source: ConfigSource) throws -> ResolvedConfig {
        var checked = config
        var selection = Selection()
        for key in schema.keys {
            let value = try key.spec.validate(config.values[key.name] ?? key.spec.defaultValue, key: key.name, source: source)
            checked.setValue(value, forKey: key.name)
            try select(key, value: value, schema: schema, schemas: schemas, source: source, into: &selection)
        }
        func complete(_ schema: ComponentSchema, prefix: String) throws {
            let given = config.selection(schema.kind, schema.name).parameters
            if let unknown = given.keys.sorted().first(where: { name in !schema.parameters.contains { $0.name == name } }) {
                throw source.error(key: prefix + unknown, "unknown key for \(schema.kind.rawValue) '\(schema.name)'"
                                   + Suggestion.hint(for: unknown, in: schema.parameters.map(\.name)))
            }
            var values: [String: ParameterValue] = [:]
            for spec in schema.parameters {
                let from: ConfigSource = given[spec.name] == nil ? .componentDefault(kind: schema.kind, name: schema.name) : source
                values[spec.name] = try spec.validate(given[spec.name] ?? spec.defaultValue, key: prefix + spec.name, source: from)
            }
            checked.store(ComponentSelection(kind: schema.kind, name: schema.name, parameters: values))
        }
        for (section, component) in selection.bySection { try complete(component, prefix: section + ".") }
        for component in selection.listed { try complete(component, prefix: "\(ConfigSchema.paramsSection).\(component.name).") }
        try HostKeys.checkConsistency(checked, sources: [:])
        return ResolvedConfig(config: checked, layout: layout(schema, selection, config: checked), sources: [:])
    }

    // MARK: Host keys

    /// Reads and validates a host key through the layers (its default when no layer has it).
    private mutating func read(_ key: any AnyHostKey) throws -> ParameterValue {
        if case .hook = key.role { return try readHook(key) }
        let list = key.spec.kind == .floatList || key.spec.kind == .stringList
        let value: ParameterValue
        if let (raw, source) = try layers.lookup(key.name, list: list) {
            value = Self.paths(in: try key.spec.validate(raw, key: key.name, source: source), role: key.role, source: source,
                               configDirectory: layers.configDirectory)
            sources[key.name] = source
        } else {
            value = key.spec.defaultValue
        }
        if key.spec.kind == .string, case .string(let s) = value, s.trimmingCharacters(in: .whitespaces).isEmpty,
           key.role != .value {
            throw (sources[key.name] ?? .default).error("\(key.name) must not be empty")
        }
        config.setValue(value, forKey: key.name)
        return value
    }

    /// A path key's value as paths (`ConfigPaths`); other values unchanged.
    private static func paths(in value: ParameterValue, role: HostKeyRole, source: ConfigSource,
                              configDirectory: String?) -> ParameterValue {
        switch (role, value) {
        case (.path, .string(let path)): return .string(ConfigPaths.resolve(path, source: source, configDirectory: configDirectory))
        case (.paths, .strings(let paths)):
            return .strings(paths.map { ConfigPaths.resolve($0, source: source, configDirectory: configDirectory) })
        default: return value
        }
    }

    /// Reads a hook key: the binding map's fields (`<key>.function`, `.library`, `.symbol`,
    /// `.prototype`, `.args.<name>`) through the layers, field by field, or else the key's own
    /// value, a shorthand (whose arguments `args` may override).
    private mutating func readHook(_ key: any AnyHostKey) throws -> ParameterValue {
        var fields: [String: String] = [:]
        func text(_ fieldKey: String) throws -> String? {
            guard let (raw, source) = try layers.lookup(fieldKey, list: false) else { return nil }
            guard case .scalar(let text) = raw else { throw source.error(key: fieldKey, "expected a single value, got a list [\(raw.description)]") }
            sources[fieldKey] = source
            return text
        }
        for field in HookBinding.mapFields { fields[field] = try text("\(key.name).\(field)") }
        var args: [String: String] = [:]
        for name in layers.argumentNames(of: key.name) { args[name] = try text("\(key.name).\(HookBinding.argsField).\(name)") }
        var binding: HookBinding
        if fields["function"] != nil || fields["library"] != nil {
            if fields["function"] != nil, fields["library"] != nil {
                throw (sources["\(key.name).library"] ?? .default).error(key: key.name, "give either function (a registered one) or library (with prototype), not both")
            }
            binding = HookBinding(function: fields["function"], library: fields["library"], symbol: fields["symbol"],
                                  prototype: fields["prototype"], args: args)
        } else {
            if let stray = ["symbol", "prototype"].first(where: { fields[$0] != nil }) {
                throw (sources["\(key.name).\(stray)"] ?? .default).error(key: "\(key.name).\(stray)", "a \(stray) belongs to a function from a library: add \(key.name).library")
            }
            let value: ParameterValue
            if let (raw, source) = try layers.lookup(key.name, list: false) {
                value = try key.spec.validate(raw, key: key.name, source: source)
                sources[key.name] = source
            } else {
                value = key.spec.defaultValue
            }
            guard case .hook(let shorthand) = value else { preconditionFailure("a hook key holds a hook") }
            binding = shorthand
            binding.args = args
        }
        config.setValue(.hook(binding), forKey: key.name)
        return .hook(binding)
    }

    // MARK: Components

    /// Looks up the component(s) a selecting key names and adds them to `selection`.
    private static func select(_ key: any AnyHostKey, value: ParameterValue, schema: ConfigSchema,
                               schemas: some ComponentSchemaSource, source: ConfigSource,
                               into selection: inout Selection) throws {
        switch (key.role, value) {
        case (.selects(let kind), .string(let name)):
            if name.trimmingCharacters(in: .whitespaces).isEmpty { throw source.error("\(key.name) must not be empty") }
            let component = try lookUp(kind, name: name, key: key.name, schemas: schemas, source: source)
            let reserved = schema.keys.filter { $0.section == key.section }.map { String($0.components.last!) }
            try checkDeclaredNames(component, reserved: reserved)
            selection.bySection.append((key.section, component))
        case (.lists(let kind), .strings(let names)):
            for (index, name) in names.enumerated() {
                if names[..<index].contains(name) { throw source.error(key: key.name, "'\(name)' is listed twice") }
                let component = try lookUp(kind, name: name, key: key.name, schemas: schemas, source: source)
                try checkDeclaredNames(component, reserved: [])
                selection.listed.append(component)
            }
        default:
            break
        }
    }

    /// The schema of `name`, or an error listing the available components.
    private static func lookUp(_ kind: ComponentKind, name: String, key: String, schemas: some ComponentSchemaSource,
                               source: ConfigSource) throws -> ComponentSchema {
        if let schema = schemas.schema(kind: kind, name: name) { return schema }
        let available = schemas.names(kind: kind).sorted()
        throw source.error(key: key, "no \(kind.rawValue) component named '\(name)'"
                           + Suggestion.hint(for: name, in: available)
                           + "; available: " + (available.isEmpty ? "none" : available.joined(separator: ", ")))
    }

    /// A component's parameters must be addressable as config keys and not shadow host keys.
    private static func checkDeclaredNames(_ schema: ComponentSchema, reserved: [String]) throws {
        for spec in schema.parameters {
            if reserved.contains(spec.name) {
                throw ConfigError(origin: nil, message: "\(schema.kind.rawValue) '\(schema.name)' declares a parameter "
                                  + "named '\(spec.name)', which is a host-owned key (\(schema.kind.rawValue).\(spec.name))")
            }
            if spec.name.isEmpty || spec.name.contains(".") {
                throw ConfigError(origin: nil, message: "\(schema.kind.rawValue) '\(schema.name)' declares a parameter "
                                  + "named '\(spec.name)', which cannot be a config key")
            }
        }
    }

    /// Every parameter of `schema` under `prefix`, from the layers or the declared default.
    private mutating func parameters(of schema: ComponentSchema, prefix: String) throws -> [String: ParameterValue] {
        var values: [String: ParameterValue] = [:]
        for spec in schema.parameters {
            let key = prefix + spec.name
            if let (raw, source) = try layers.lookup(key, list: spec.kind == .floatList) {
                values[spec.name] = try spec.validate(raw, key: key, source: source)
                sources[key] = source
            } else {
                values[spec.name] = try spec.validate(spec.defaultValue, key: key,
                                                      source: .componentDefault(kind: schema.kind, name: schema.name))
            }
        }
        return values
    }

    // MARK: Layout

    /// Every key of a config of `schema` selecting `selection`, in `config show` order: host keys
    /// in table order; after the last key of a component section, the selected component's
    /// parameters; after the last list of components, each listed component's `params.*`.
    static func layout(_ schema: ConfigSchema, _ selection: Selection, config: RunConfig) -> [Slot] {
        var slots: [Slot] = []
        let lastListKey = schema.keys.last { if case .lists = $0.role { return true } else { return false } }?.name
        for (index, key) in schema.keys.enumerated() {
            if case .hook(let binding)? = config.values[key.name] {
                if binding.shorthand != nil { slots.append(Slot(key: key.name, spec: key.spec, component: nil)) }
                for (field, _) in binding.fields where binding.shorthand == nil || field.hasPrefix(HookBinding.argsField + ".") {
                    let spec = ParameterSpec(name: field, kind: .string, doc: "", defaultValue: .string(""))
                    slots.append(Slot(key: "\(key.name).\(field)", spec: spec, component: nil, hookField: (key.name, field)))
                }
            } else {
                slots.append(Slot(key: key.name, spec: key.spec, component: nil))
            }
            let endsSection = index + 1 == schema.keys.count || schema.keys[index + 1].section != key.section
            if endsSection, let (section, component) = selection.bySection.first(where: { $0.section == key.section }) {
                slots += component.parameters.map {
                    Slot(key: "\(section).\($0.name)", spec: $0, component: (component.kind, component.name))
                }
            }
            if key.name == lastListKey {
                slots += selection.listed.flatMap { component in
                    component.parameters.map {
                        Slot(key: "\(ConfigSchema.paramsSection).\(component.name).\($0.name)", spec: $0,
                             component: (component.kind, component.name))
                    }
                }
            }
        }
        return slots
    }
}
