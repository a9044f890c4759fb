import Foundation

/// The Swift mirror of a plugin's `aglm_param_spec`: one declared parameter of a component.
public struct ParameterSpec: Sendable, Equatable {
    /// Value type of a parameter.
    public enum Kind: String, Sendable, Equatable {
        /// A double within `min...max`.
        case float
        /// An integer within `min...max`.
        case int
        /// true/false.
        case bool
        /// Free text.
        case string
        /// One of `choices`.
        case choice
        /// A list of doubles, each within `min...max`, of length `listLength` (0 = any).
        case floatList = "float_list"
        /// A list of names or paths (host keys only: `evaluators`, `plugins.paths`; plugins cannot
        /// declare it).
        case stringList = "string_list"
        /// A function the trainer calls (host hook keys only: `train.lr_schedule`): one of the
        /// shorthands in `choices`, or a `HookBinding` map.
        case hook
    }

    /// Key in the config.
    public var name: String
    /// Value type.
    public var kind: Kind
    /// One-line description.
    public var doc: String
    /// Default value (always present and valid for the spec).
    public var defaultValue: ParameterValue
    /// Lower bound for numbers (-infinity for none); inclusive unless `minExclusive`.
    public var min: Double
    /// Upper bound for numbers (+infinity for none); inclusive unless `maxExclusive`.
    public var max: Double
    /// Whether `min` itself is excluded (`> min` rather than `>= min`).
    public var minExclusive: Bool
    /// Whether `max` itself is excluded (`< max` rather than `<= max`).
    public var maxExclusive: Bool
    /// Accepted strings for `.choice`.
    public var choices: [String]
    /// Required list length for `.floatList` (0 = any).
    public var listLength: Int

    /// Creates a spec.
    public init(name: String, kind: Kind, doc: String, defaultValue: ParameterValue,
                min: Double = -.infinity, max: Double = .infinity, minExclusive: Bool = false,
                maxExclusive: Bool = false, choices: [String] = [], listLength: Int = 0) {
        self.name = name; self.kind = kind; self.doc = doc; self.defaultValue = defaultValue
        self.min = min; self.max = max; self.minExclusive = minExclusive; self.maxExclusive = maxExclusive
        self.choices = choices; self.listLength = listLength
    }
}

/// A validated parameter value.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    /// FLOAT, INT (integral) and BOOL (0/1) values.
    case number(Double)
    /// STRING and CHOICE values.
    case string(String)
    /// FLOAT_LIST values.
    case list([Double])
    /// String lists (host keys only).
    case strings([String])
    /// A hook's function binding (host keys only).
    case hook(HookBinding)

    /// How the value is written in a config file.
    public var description: String {
        switch self {
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .string(let s): return s
        case .list(let l): return "[" + l.map { ParameterValue.number($0).description }.joined(separator: ", ") + "]"
        case .strings(let items): return "[" + items.joined(separator: ", ") + "]"
        case .hook(let binding):
            if let shorthand = binding.shorthand { return shorthand }
            return "{" + binding.fields.map { "\($0.field): \($0.text)" }.joined(separator: ", ") + "}"
        }
    }
}

/// The four kinds of component (mirrors `aglm_kind`).
public enum ComponentKind: String, Sendable, CaseIterable, Equatable {
    /// Attention variant.
    case attention
    /// Optimizer.
    case optimizer
    /// Evaluator.
    case evaluator
    /// Callback.
    case callback
}

/// What the config layer needs to know about a registered component: its schema.
public struct ComponentSchema: Sendable, Equatable {
    /// Kind of component.
    public var kind: ComponentKind
    /// Registered name.
    public var name: String
    /// Declared parameters, in declaration order.
    public var parameters: [ParameterSpec]

    /// Creates a schema.
    public init(kind: ComponentKind, name: String, parameters: [ParameterSpec]) {
        self.kind = kind; self.name = name; self.parameters = parameters
    }
}

/// Looks up component schemas by kind and name (implemented by the plugin registry).
public protocol ComponentSchemaSource: Sendable {
    /// The schema of the component registered under `name` with `kind`, if any.
    func schema(kind: ComponentKind, name: String) -> ComponentSchema?
    /// Names of all registered components of `kind`.
    func names(kind: ComponentKind) -> [String]
}

extension Array where Element == ParameterSpec {
    /// Every parameter's default value, by name: a complete parameter dictionary.
    public var defaultValues: [String: ParameterValue] {
        Dictionary(uniqueKeysWithValues: map { ($0.name, $0.defaultValue) })
    }
}

extension ParameterSpec {
    /// The accepted values in words: "0...1", "(0, 0.5]", ">= 0", "> 0", "adam|adamw",
    /// "4 items in 0...1", or "any".
    public var rangeDescription: String {
        func bound(_ d: Double) -> String { ParameterValue.number(d).description }
        var range: String
        switch (min.isFinite, max.isFinite) {
        case (true, true):
            range = minExclusive || maxExclusive
                ? "\(minExclusive ? "(" : "[")\(bound(min)), \(bound(max))\(maxExclusive ? ")" : "]")"
                : "\(bound(min))...\(bound(max))"
        case (true, false): range = "\(minExclusive ? ">" : ">=") \(bound(min))"
        case (false, true): range = "\(maxExclusive ? "<" : "<=") \(bound(max))"
        case (false, false): range = "any"
        }
        switch kind {
        case .bool: return "true|false"
        case .string: return "any text"
        case .choice: return choices.joined(separator: "|")
        case .floatList: return (listLength > 0 ? "\(listLength) items" : "items") + (range == "any" ? "" : " in \(range)")
        case .stringList: return "names"
        case .hook: return choices.joined(separator: "|") + " or {function: NAME, args: {...}}"
        case .float, .int: return range
        }
    }
}
