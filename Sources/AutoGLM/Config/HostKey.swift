import Foundation

/// One host-owned config key, declared once with everything the config layer derives from it:
/// its dotted name, value type, default, bounds, doc line and role. The defaults layer, parsing
/// and validation, `config show`, the `AUTOGLM_*` variable, the README reference and
/// `autoglm init`'s starter file all read this declaration; the trainer reads the value with
/// `config.train.steps` (see `RunConfig`). `Value` is the Swift type the value is read as.
///
///     let steps = HostKey<Int>.integer("train.steps", default: 2000, min: 1, doc: "optimizer steps")
public struct HostKey<Value: HostKeyValue>: AnyHostKey {
    /// Name (the dotted key), type, default, bounds and doc, as for a plugin parameter.
    public let spec: ParameterSpec
    /// What the key means to the resolver beyond its value.
    public let role: HostKeyRole

    /// A key of `Value`'s kind; `spec.name` is the dotted key.
    init(spec: ParameterSpec, role: HostKeyRole = .value) {
        self.spec = spec
        self.role = role
    }

    /// The default as the Swift value.
    public var defaultValue: Value { Value(parameterValue: spec.defaultValue)! }
}

/// What a host key means to the resolver beyond its value.
public enum HostKeyRole: Sendable, Equatable {
    /// A plain value.
    case value
    /// A file or directory path: a relative value from the config file is taken relative to the
    /// file's directory; `~` is the home directory.
    case path
    /// A list of paths (as `.path`, per item).
    case paths
    /// The name of the one component of this kind the run uses; the component's parameters are
    /// keys of the same section (`attention.name` → `attention.<param>`).
    case selects(ComponentKind)
    /// The names of the components of this kind the run uses, in order; their parameters are
    /// keys under `params.<name>.<param>`.
    case lists(ComponentKind)
    /// A function the trainer calls at every step (`HookBinding`), with the shorthands the key
    /// accepts by name.
    case hook([HookShorthand])
}

/// A host key without its Swift value type: what the resolver, `config show` and the generated
/// documentation work with.
public protocol AnyHostKey: Sendable {
    /// Name (the dotted key), type, default, bounds and doc.
    var spec: ParameterSpec { get }
    /// What the key means to the resolver.
    var role: HostKeyRole { get }
}

extension AnyHostKey {
    /// The dotted key, e.g. `train.steps`.
    public var name: String { spec.name }
    /// The key's components (`["train", "steps"]`).
    var components: [String] { name.split(separator: ".").map(String.init) }
    /// The top-level section (`train`), or the key itself for a top-level key (`evaluators`).
    var section: String { components[0] }
}

// MARK: - Declaring keys

extension HostKey where Value == Int {
    /// An integer key within `min...max`.
    public static func integer(_ name: String, default value: Int, min: Int, max: Int? = nil, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .int, doc: doc, defaultValue: .number(Double(value)),
                                 min: Double(min), max: max.map(Double.init) ?? .infinity))
    }
}

extension HostKey where Value == Double {
    /// A number key; `above` makes the lower bound exclusive (`> 0`), `min` inclusive.
    public static func number(_ name: String, default value: Double, min: Double = -.infinity, above: Double? = nil,
                       max: Double = .infinity, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .float, doc: doc, defaultValue: .number(value),
                                 min: above ?? min, max: max, minExclusive: above != nil))
    }
}

extension HostKey where Value == Bool {
    /// A true/false key.
    public static func flag(_ name: String, default value: Bool, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .bool, doc: doc, defaultValue: .number(value ? 1 : 0)))
    }
}

extension HostKey where Value == String {
    /// A free-text key (`role` `.path` for a path).
    public static func text(_ name: String, default value: String, role: HostKeyRole = .value, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .string, doc: doc, defaultValue: .string(value)), role: role)
    }

    /// The name of the one component of `kind` the run uses.
    public static func component(_ kind: ComponentKind, _ name: String, default value: String, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .string, doc: doc, defaultValue: .string(value)), role: .selects(kind))
    }
}

extension HostKey where Value == [String] {
    /// A list of names (`role` `.paths` for paths).
    public static func names(_ name: String, default value: [String], role: HostKeyRole = .value, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .stringList, doc: doc, defaultValue: .strings(value)), role: role)
    }

    /// The names of the components of `kind` the run uses.
    public static func components(_ kind: ComponentKind, _ name: String, default value: [String], doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .stringList, doc: doc, defaultValue: .strings(value)), role: .lists(kind))
    }
}

extension HostKey where Value == HookBinding {
    /// A hook: a function the trainer calls for a quantity at every step, written as one of
    /// `shorthands` (default `shorthand`) or as a `HookBinding` map.
    public static func hook(_ name: String, default shorthand: String, shorthands: [HookShorthand], doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .hook, doc: doc, defaultValue: .hook(HookBinding(shorthand: shorthand)),
                                 choices: shorthands.map(\.name)), role: .hook(shorthands))
    }
}

extension HostKey where Value: HostKeyChoice {
    /// A key holding one of `Value`'s cases (written as their raw values).
    public static func choice(_ name: String, default value: Value, doc: String) -> Self {
        Self(spec: ParameterSpec(name: name, kind: .choice, doc: doc, defaultValue: .string(value.rawValue),
                                 choices: Value.allCases.map(\.rawValue)))
    }
}

// MARK: - Value types

/// A Swift type a host key's value is read as, converted from and to the validated
/// `ParameterValue` that the config holds.
public protocol HostKeyValue: Sendable {
    /// The value as a Swift value (nil when `value` is of another kind).
    init?(parameterValue value: ParameterValue)
    /// The value as the config holds it.
    var parameterValue: ParameterValue { get }
}

extension Int: HostKeyValue {
    /// An integral number.
    public init?(parameterValue value: ParameterValue) {
        guard case .number(let d) = value, d == d.rounded(), abs(d) < 9.2e18 else { return nil }
        self = Int(d)
    }
    /// As a number.
    public var parameterValue: ParameterValue { .number(Double(self)) }
}

extension Double: HostKeyValue {
    /// A number.
    public init?(parameterValue value: ParameterValue) {
        guard case .number(let d) = value else { return nil }
        self = d
    }
    /// As a number.
    public var parameterValue: ParameterValue { .number(self) }
}

extension Bool: HostKeyValue {
    /// 0 or 1.
    public init?(parameterValue value: ParameterValue) {
        guard case .number(let d) = value else { return nil }
        self = d != 0
    }
    /// As 0 or 1.
    public var parameterValue: ParameterValue { .number(self ? 1 : 0) }
}

extension String: HostKeyValue {
    /// A string.
    public init?(parameterValue value: ParameterValue) {
        guard case .string(let s) = value else { return nil }
        self = s
    }
    /// As a string.
    public var parameterValue: ParameterValue { .string(self) }
}

extension Array: HostKeyValue where Element == String {
    /// A list of names.
    public init?(parameterValue value: ParameterValue) {
        guard case .strings(let items) = value else { return nil }
        self = items
    }
    /// As a list of names.
    public var parameterValue: ParameterValue { .strings(self) }
}

/// An enumeration a choice key's value is read as (its raw values are the accepted strings).
public protocol HostKeyChoice: HostKeyValue, RawRepresentable, CaseIterable where RawValue == String {}

extension HostKeyChoice {
    /// The case whose raw value is the string.
    public init?(parameterValue value: ParameterValue) {
        guard case .string(let s) = value else { return nil }
        self.init(rawValue: s)
    }
    /// As its raw value.
    public var parameterValue: ParameterValue { .string(rawValue) }
}
