import Foundation

/// An error reported by, or about, a plugin: always names the file and, when known, the
/// component and the call, followed by the reason.
public struct PluginError: Error, CustomStringConvertible, Sendable {
    /// Path of the plugin library.
    public var file: String
    /// Component name, when the error concerns one component.
    public var component: String?
    /// The ABI call that failed ("create", "forward", "step", …), when there was one.
    public var call: String?
    /// What went wrong, and how to fix it where the host can tell.
    public var reason: String

    /// Creates an error.
    public init(file: String, component: String? = nil, call: String? = nil, reason: String) {
        self.file = file; self.component = component; self.call = call; self.reason = reason
    }

    /// "plugin FILE: component NAME: CALL: REASON".
    public var description: String {
        var s = "plugin \(file)"
        if let component { s += ": component '\(component)'" }
        if let call { s += ": \(call)" }
        return s + ": " + reason
    }
}
