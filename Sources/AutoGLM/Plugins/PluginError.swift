import Foundation

/// An error reported by, or about, a plugin: always names the file and, when known, the
/// component, the training step, the call and (for an optimizer) the parameter, followed by the
/// reason.
public struct PluginError: Error, CustomStringConvertible, Sendable {
    /// Path of the plugin library.
    public var file: String
    /// Component name, when the error concerns one component.
    public var component: String?
    /// The ABI call that failed ("create", "forward", "step", …), when there was one.
    public var call: String?
    /// What went wrong, and how to fix it where the host can tell.
    public var reason: String
    /// The training step during which it happened (1-based), when it happened while training.
    public var step: Int?
    /// The model parameter the call was about (an optimizer's declare_state and step).
    public var parameter: String?

    /// Creates an error.
    public init(file: String, component: String? = nil, call: String? = nil, reason: String,
                step: Int? = nil, parameter: String? = nil) {
        self.file = file; self.component = component; self.call = call; self.reason = reason
        self.step = step; self.parameter = parameter
    }

    /// "plugin FILE: component 'NAME' at step N: CALL, parameter 'P': REASON".
    public var description: String {
        var s = "plugin \(file)"
        if let component { s += ": component '\(component)'" }
        if let step { s += " at step \(step)" }
        if let call { s += ": \(call)" }
        if let parameter { s += ", parameter '\(parameter)'" }
        return s + ": " + reason
    }

    /// Runs `body`; a `PluginError` it throws that names no step gets `step`.
    public static func during<T>(step: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch var error as PluginError {
            if error.step == nil { error.step = step }
            throw error
        }
    }
}
