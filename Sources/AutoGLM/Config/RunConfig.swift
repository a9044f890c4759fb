import Foundation

/// The resolved, validated run configuration: the value of every host key (`HostKeys`) and the
/// parameters of every configured component. The trainer, the model and every front end read it
/// directly, by key:
///
///     config.train.steps          // Int, from HostKeys.table.train.steps
///     config[someDeclaredKey]     // any HostKey, e.g. one a test or an embedder declared
///     config.attention            // the attention component and its parameters
///
/// `ConfigLoader` builds it from the layers (defaults < file < environment < `--set`); code may
/// also build one and set values (`config.train.steps = 10`), which the session validates like
/// any other.
@dynamicMemberLookup
public struct RunConfig: Sendable, Equatable {
    /// Every host key's value by dotted name (typed and validated).
    public private(set) var values: [String: ParameterValue]
    /// Parameters of the components the config names, by kind and component name.
    var componentParameters: [ComponentKind: [String: [String: ParameterValue]]] = [:]

    /// Every key of `schema` at its built-in default; component parameters are empty until
    /// resolved against the components' schemas (which only the plugins know).
    public init(schema: ConfigSchema = .host) {
        values = schema.defaults
    }

    /// The value of `key` (its default when the config was built from a schema without it).
    public subscript<Value>(key: HostKey<Value>) -> Value {
        get { values[key.name].flatMap(Value.init(parameterValue:)) ?? key.defaultValue }
        set { values[key.name] = newValue.parameterValue }
    }

    /// Sets the raw value of a host key (validated by the caller).
    mutating func setValue(_ value: ParameterValue, forKey key: String) {
        values[key] = value
    }

    /// The keys of one section of the table, read and written by name: `config.train.steps`.
    public subscript<Section: HostKeySection>(dynamicMember section: KeyPath<HostKeys, Section>) -> SectionValues<Section> {
        get { SectionValues(config: self, keys: HostKeys.table[keyPath: section]) }
        set { self = newValue.config }
    }

    /// `optimizer.lr`: the peak learning rate of the schedule.
    public var lr: Double {
        get { self[HostKeys.table.optimizer.lr] }
        set { self[HostKeys.table.optimizer.lr] = newValue }
    }

    /// The attention component (`attention.name`) with its parameters (`attention.<param>`).
    public var attention: ComponentSelection {
        get { selection(.attention, self[HostKeys.table.attention.name]) }
        set { self[HostKeys.table.attention.name] = newValue.name; store(newValue) }
    }

    /// The optimizer (`optimizer.name`) with its own parameters (`optimizer.<param>`; the peak
    /// learning rate is host-owned, see `lr`).
    public var optimizer: ComponentSelection {
        get { selection(.optimizer, self[HostKeys.table.optimizer.name]) }
        set { self[HostKeys.table.optimizer.name] = newValue.name; store(newValue) }
    }

    /// `evaluators`, in order, each with its parameters (`params.<name>.<param>`).
    public var evaluators: [ComponentSelection] {
        get { self[HostKeys.table.components.evaluators].map { selection(.evaluator, $0) } }
        set { self[HostKeys.table.components.evaluators] = newValue.map(\.name); newValue.forEach { store($0) } }
    }

    /// `callbacks`, in order, each with its parameters (`params.<name>.<param>`).
    public var callbacks: [ComponentSelection] {
        get { self[HostKeys.table.components.callbacks].map { selection(.callback, $0) } }
        set { self[HostKeys.table.components.callbacks] = newValue.map(\.name); newValue.forEach { store($0) } }
    }

    /// Every component the config selects: attention, optimizer, evaluators, callbacks.
    public var selectedComponents: [ComponentSelection] { [attention, optimizer] + evaluators + callbacks }

    /// The parameters configured for component `name` of `kind`.
    func selection(_ kind: ComponentKind, _ name: String) -> ComponentSelection {
        ComponentSelection(kind: kind, name: name, parameters: componentParameters[kind]?[name] ?? [:])
    }

    /// Stores a component's parameters.
    mutating func store(_ selection: ComponentSelection) {
        componentParameters[selection.kind, default: [:]][selection.name] = selection.parameters
    }
}

/// The values of one section of the key table, read (and written) as `config.train.steps`.
@dynamicMemberLookup
public struct SectionValues<Section: HostKeySection> {
    /// The configuration read through.
    var config: RunConfig
    /// The section's keys.
    let keys: Section

    /// The value of the section's key at `key`.
    public subscript<Value>(dynamicMember key: KeyPath<Section, HostKey<Value>>) -> Value {
        get { config[keys[keyPath: key]] }
        set { config[keys[keyPath: key]] = newValue }
    }
}
