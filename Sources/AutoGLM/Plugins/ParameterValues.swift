import CAutoGLM
import Foundation

/// The host side of an `aglm_params`: a component instance's validated parameter values, with
/// C strings kept alive for the duration of `create`.
final class ParameterValues {
    /// Values by parameter name (complete: defaults applied).
    let values: [String: ParameterValue]
    private var cStrings: [String: UnsafeMutablePointer<CChar>] = [:]

    /// Wraps validated values.
    init(_ values: [String: ParameterValue]) { self.values = values }

    deinit { cStrings.values.forEach { free($0) } }

    /// The pointer handed to C.
    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The object behind a C pointer.
    static func from(_ pointer: OpaquePointer?) -> ParameterValues? {
        guard let pointer else { return nil }
        return Unmanaged<ParameterValues>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// Number value (0 if absent or not a number).
    func number(_ name: String) -> Double {
        if case .number(let d)? = values[name] { return d }
        return 0
    }

    /// String value as a C string owned by this object ("" if absent).
    func cString(_ name: String) -> UnsafePointer<CChar> {
        if let s = cStrings[name] { return UnsafePointer(s) }
        var text = ""
        if case .string(let s)? = values[name] { text = s }
        let c = strdup(text)!
        cStrings[name] = c
        return UnsafePointer(c)
    }

    /// List value (empty if absent).
    func list(_ name: String) -> [Double] {
        if case .list(let l)? = values[name] { return l }
        return []
    }
}
