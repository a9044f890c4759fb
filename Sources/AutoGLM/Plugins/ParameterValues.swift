import CAutoGLM
import Foundation

/// The host side of an `aglm_params`: a component instance's validated parameter values, with
/// C strings kept alive for the duration of `create`. It also remembers every lookup of a name
/// the schema does not declare, or of a parameter of another type, so `create` can be failed
/// loudly (ABI 1.2) instead of the plugin silently reading 0.
final class ParameterValues {
    /// Values by parameter name (complete: defaults applied).
    let values: [String: ParameterValue]
    /// The declared parameters, by name.
    private let schema: [String: ParameterSpec]
    private var cStrings: [String: UnsafeMutablePointer<CChar>] = [:]
    /// Lookups that asked for an undeclared name or the wrong type, in the order made (each once).
    private(set) var badLookups: [String] = []

    /// Wraps validated values of a component whose schema is `schema`.
    init(_ values: [String: ParameterValue], schema: [ParameterSpec]) {
        self.values = values
        self.schema = Dictionary(schema.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    deinit { cStrings.values.forEach { free($0) } }

    /// The pointer handed to C.
    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The object behind a C pointer.
    static func from(_ pointer: OpaquePointer?) -> ParameterValues? {
        guard let pointer else { return nil }
        return Unmanaged<ParameterValues>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Records what a lookup through `function` of `name`, expecting one of `kinds`, gets wrong
    /// (nothing when the schema declares `name` with one of those kinds).
    private func check(_ name: String, _ function: String, _ kinds: [ParameterSpec.Kind]) {
        let problem: String
        if let spec = schema[name] {
            guard !kinds.contains(spec.kind) else { return }
            problem = "\(function)(\"\(name)\"), but '\(name)' is a \(spec.kind.rawValue) parameter (use \(Self.lookup(for: spec.kind)))"
        } else {
            let declared = schema.keys.sorted()
            problem = "\(function)(\"\(name)\"), which its schema does not declare"
                + Suggestion.hint(for: name, in: declared)
                + " (declared: \(declared.isEmpty ? "none" : declared.joined(separator: ", ")))"
        }
        if !badLookups.contains(problem) { badLookups.append(problem) }
    }

    /// The host function that reads parameters of `kind`.
    private static func lookup(for kind: ParameterSpec.Kind) -> String {
        switch kind {
        case .float, .int, .bool: return "param_number"
        case .string, .choice, .hook: return "param_string"  // hooks are host keys (listed as strings)
        case .floatList, .stringList: return "param_list"
        }
    }

    /// Number value (0 if absent or not a number).
    func number(_ name: String) -> Double {
        check(name, "param_number", [.float, .int, .bool])
        if case .number(let d)? = values[name] { return d }
        return 0
    }

    /// String value as a C string owned by this object ("" if absent).
    func cString(_ name: String) -> UnsafePointer<CChar> {
        check(name, "param_string", [.string, .choice])
        if let s = cStrings[name] { return UnsafePointer(s) }
        var text = ""
        if case .string(let s)? = values[name] { text = s }
        let c = strdup(text)!
        cStrings[name] = c
        return UnsafePointer(c)
    }

    /// List value (empty if absent).
    func list(_ name: String) -> [Double] {
        check(name, "param_list", [.floatList])
        if case .list(let l)? = values[name] { return l }
        return []
    }
}
