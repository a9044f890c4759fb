import Foundation

extension ParameterSpec {
    /// A value of this parameter as `config show` prints it (bools as true/false).
    public func displayText(_ value: ParameterValue) -> String {
        if kind == .bool, case .number(let d) = value { return d != 0 ? "true" : "false" }
        return value.description
    }

    /// A value of this parameter as JSON text (bools as true/false, strings quoted).
    func jsonText(_ value: ParameterValue) -> String {
        switch value {
        case .number(let d):
            if kind == .bool { return d != 0 ? "true" : "false" }
            return JSONText.number(d)
        case .string(let s): return JSONText.string(s)
        case .list(let items): return "[" + items.map(JSONText.number).joined(separator: ",") + "]"
        case .strings(let items): return JSONText.strings(items)
        case .hook(let binding):
            if let shorthand = binding.shorthand { return JSONText.string(shorthand) }
            return JSONText.object(dottedKeys: binding.fields.map { ($0.field, JSONText.string($0.text)) })
        }
    }
}
