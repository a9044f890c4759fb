import Foundation

/// A call that could not be made (missing, extra or mistyped arguments) or whose result could
/// not be read. The message names the parameter and the function's prototype.
public struct FunctionCallError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, ending with the prototype.
    public var message: String

    /// An error about `prototype`: "NAME: DETAIL (prototype: PROTOTYPE)".
    init(_ prototype: CPrototype, _ detail: String) {
        message = "\(prototype.name): \(detail) (prototype: \(prototype))"
    }

    /// The message.
    public var description: String { message }
}
