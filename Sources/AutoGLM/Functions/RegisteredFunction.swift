import Foundation

/// Public description of a registered function, as listed by `autoglm plugins`.
public struct FunctionInfo: Sendable {
    /// Registered name (the prototype's function name).
    public var name: String
    /// The prototype in canonical spelling.
    public var prototype: String
    /// One-line description ("" if none was given).
    public var doc: String
    /// Documented example arguments, `name=value` separated by spaces ("" if none).
    public var exampleArguments: String
    /// The plugin library it came from, the shared library a symbol was bound from, or the
    /// origin an in-process registration named.
    public var file: String
    /// ABI version the registering plugin was built against ("1.2"); nil for a function that
    /// did not come from a plugin (in-process, or a symbol bound from a shared library).
    public var abi: String?
}

/// A function registered by prototype: its description and its prepared libffi binding. Lives
/// for the whole process (its library is never unloaded).
public final class RegisteredFunction: Sendable {
    /// Public description.
    public let info: FunctionInfo
    /// The binding to call it through.
    public let binding: FunctionBinding

    /// Parses `prototype`, checks that the function and every bound parameter have names usable
    /// as config keys, and prepares the call. Throws `FunctionRegistrationError` with the reason.
    init(prototype text: String, address: UnsafeRawPointer, doc: String, exampleArguments: String,
         file: String, abi: String?) throws {
        let prototype: CPrototype
        do {
            prototype = try CPrototype.parse(text)
        } catch let error as CPrototypeError {
            throw FunctionRegistrationError("prototype '\(text)': \(error)")
        }
        guard DescriptorValidation.isIdentifier(prototype.name) else {
            throw FunctionRegistrationError("function name '\(prototype.name)' is not valid: use 1-64 characters of a-z, 0-9 and _, starting with a letter (configs and `autoglm call` name it)")
        }
        if let bad = prototype.parameters.first(where: { !DescriptorValidation.isIdentifier($0.name) }) {
            throw FunctionRegistrationError("function '\(prototype.name)': parameter name '\(bad.name)' is not valid: use 1-64 characters of a-z, 0-9 and _, starting with a letter (arguments are bound by it in configs and on the command line)")
        }
        do {
            binding = try FunctionBinding(prototype: prototype, address: address)
        } catch {
            throw FunctionRegistrationError("\(error)")
        }
        info = FunctionInfo(name: prototype.name, prototype: prototype.description, doc: doc,
                            exampleArguments: exampleArguments, file: file, abi: abi)
    }
}

/// A function registration that was refused, with the reason and the fix.
public struct FunctionRegistrationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public var message: String
    init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
