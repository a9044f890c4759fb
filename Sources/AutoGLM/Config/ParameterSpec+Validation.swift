import Foundation

extension ParameterSpec {
    /// Validates a value as written in the config (a scalar, or a list for `.floatList`, where a
    /// scalar is taken as comma-separated) against
    /// this spec and returns the typed value. `key` is the full config key (e.g. `optimizer.betas`)
    /// and `origin` the text to put before the first colon of an error (e.g. `config.yaml`,
    /// `env AUTOGLM_OPTIMIZER_LR`); errors read `ORIGIN: KEY: expected an integer, got "abc"` or
    /// `ORIGIN: KEY must be > 0, got -1`.
    /// - Throws: `ConfigError` for a type, choice, range or list-length problem.
    public func validate(_ raw: RawConfigValue, key: String, origin: String?) throws -> ParameterValue {
        try validate(raw, key: key, source: .described(origin))
    }

    /// Checks that an already-typed value (e.g. a plugin's declared default) satisfies this spec:
    /// the right case for the kind, integral for `.int`, 0/1 for `.bool`, within the bounds,
    /// one of `choices`, of length `listLength`. Returns the value unchanged.
    /// - Throws: `ConfigError` naming `key` (and `origin`, when given).
    public func validate(_ value: ParameterValue, key: String, origin: String?) throws -> ParameterValue {
        try validate(value, key: key, source: .described(origin))
    }

    /// `validate(_:key:origin:)` for a typed value, with the source of the value.
    func validate(_ value: ParameterValue, key: String, source: ConfigSource) throws -> ParameterValue {
        switch (kind, value) {
        case (.float, .number(let d)), (.int, .number(let d)):
            guard d.isFinite, kind == .float || d == d.rounded() else {
                throw source.error(key: key, "expected \(kind == .int ? "an integer" : "a number"), got \(value)")
            }
            try checkRange(d, text: value.description, key: key, source: source)
        case (.bool, .number(let d)):
            guard d == 0 || d == 1 else { throw source.error(key: key, "expected true or false, got \(value)") }
        case (.string, .string):
            break
        case (.choice, .string(let s)):
            try checkChoice(s, key: key, source: source)
        case (.floatList, .list(let items)):
            _ = try checkList(items.map { ParameterValue.number($0).description }, key: key, source: source)
        case (.stringList, .strings):
            break
        case (.hook, .hook(let binding)):
            if let shorthand = binding.shorthand { try checkChoice(shorthand, key: key, source: source) }
        default:
            throw source.error(key: key, "expected \(typeDescription), got \(value)")
        }
        return value
    }

    /// What values of this kind look like, for messages.
    var typeDescription: String {
        switch kind {
        case .float: return "a number"
        case .int: return "an integer"
        case .bool: return "true or false"
        case .string: return "a string"
        case .choice: return "one of \(choices.joined(separator: ", "))"
        case .floatList:
            return listLength > 0 ? "a list of \(listLength) numbers" : "a list of numbers"
        case .stringList: return "a list of names"
        case .hook: return "one of \(choices.joined(separator: ", ")) or a function binding"
        }
    }

    /// The validation behind the public entry points, for a value as written, from `source`.
    func validate(_ raw: RawConfigValue, key: String, source: ConfigSource) throws -> ParameterValue {
        switch kind {
        case .floatList:
            // A scalar is read as a comma-separated list, as environment and --set values are.
            return .list(try checkList(raw.items, key: key, source: source))
        case .stringList:
            return .strings(raw.items)
        case .hook:
            // The map form is read field by field (ConfigResolver); a single value is a shorthand.
            guard case .scalar(let text) = raw else {
                throw source.error(key: key, "expected \(typeDescription), got a list [\(raw.description)]")
            }
            try checkChoice(text, key: key, source: source)
            return .hook(HookBinding(shorthand: text))
        default:
            break
        }
        guard case .scalar(let text) = raw else {
            throw source.error(key: key, "expected a single value, got a list [\(raw.description)]")
        }
        switch kind {
        case .float:
            guard let d = Self.parseNumber(text) else {
                throw source.error(key: key, "expected a number, got \(quotedForMessage(text))")
            }
            try checkRange(d, text: text, key: key, source: source)
            return .number(d)
        case .int:
            guard let i = Self.parseInteger(text) else {
                throw source.error(key: key, "expected an integer, got \(quotedForMessage(text))")
            }
            try checkRange(Double(i), text: text, key: key, source: source)
            return .number(Double(i))
        case .bool:
            guard let b = Self.parseBool(text) else {
                throw source.error(key: key, "expected true or false, got \(quotedForMessage(text))")
            }
            return .number(b ? 1 : 0)
        case .string:
            return .string(text)
        case .choice:
            try checkChoice(text, key: key, source: source)
            return .string(text)
        case .floatList, .stringList, .hook:
            fatalError("handled above")
        }
    }

    /// Elements of a float list, parsed and range-checked, with the length checked.
    private func checkList(_ items: [String], key: String, source: ConfigSource) throws -> [Double] {
        var values: [Double] = []
        for (index, item) in items.enumerated() {
            guard let d = Self.parseNumber(item) else {
                throw source.error(key: key, "expected \(typeDescription), got \(quotedForMessage(item)) at index \(index)")
            }
            try checkRange(d, text: item, key: "\(key)[\(index)]", source: source)
            values.append(d)
        }
        if listLength > 0 && values.count != listLength {
            throw source.error(key: key, "expected a list of \(listLength) numbers, got \(values.count)")
        }
        return values
    }

    /// `KEY must be > MIN, got TEXT` and the like (always naming the key).
    private func checkRange(_ d: Double, text: String, key: String, source: ConfigSource) throws {
        let belowMin = minExclusive ? d <= min : d < min
        let aboveMax = maxExclusive ? d >= max : d > max
        guard belowMin || aboveMax else { return }
        let lo = ParameterValue.number(min).description, hi = ParameterValue.number(max).description
        let bound: String
        if min.isFinite && max.isFinite {
            bound = "in \(minExclusive ? "(" : "[")\(lo), \(hi)\(maxExclusive ? ")" : "]")"
        } else if belowMin {
            bound = minExclusive ? "> \(lo)" : ">= \(lo)"
        } else {
            bound = maxExclusive ? "< \(hi)" : "<= \(hi)"
        }
        throw source.error("\(key) must be \(bound), got \(text)")
    }

    /// A `.choice` value must be one of `choices`.
    private func checkChoice(_ text: String, key: String, source: ConfigSource) throws {
        guard choices.contains(text) else {
            throw source.error(key: key, "expected one of \(choices.joined(separator: ", ")), got \(quotedForMessage(text))"
                               + Suggestion.hint(for: text, in: choices))
        }
    }

    /// A finite number (`1e-3`, `.5`, `3`).
    static func parseNumber(_ text: String) -> Double? {
        guard let d = Double(text.trimmingCharacters(in: .whitespaces)), d.isFinite else { return nil }
        return d
    }

    /// An integer, also written as an integral number (`2000`, `2e3`).
    static func parseInteger(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let i = Int(t) { return i }
        guard let d = Double(t), d.isFinite, d == d.rounded(), abs(d) <= 9.007_199_254_740_992e15 else { return nil }
        return Int(d)
    }

    /// true/false, yes/no, on/off, 1/0 (any case).
    static func parseBool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }
}

/// `"text"` with quotes and backslashes escaped, for messages.
func quotedForMessage(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
