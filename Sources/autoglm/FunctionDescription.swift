import AutoGLM
import Foundation

/// How `autoglm plugins show` prints a registered function.
enum FunctionDescription {
    /// Name, prototype, doc, origin, parameters and the documented example as a command line.
    static func print(_ function: RegisteredFunction) {
        let info = function.info, prototype = function.binding.prototype
        Swift.print("\(info.name) — function")
        Swift.print("  \(info.prototype)")
        if !info.doc.isEmpty { Swift.print("  \(info.doc)") }
        Swift.print("  file: \(info.file)" + (info.abi.map { " (ABI \($0))" } ?? ""))
        if prototype.parameters.isEmpty {
            Swift.print("  parameters: none")
        } else {
            Swift.print("  parameters:")
            let rows = prototype.parameters.map { p in
                ["  " + p.name, p.type.spelling + (p.length.map { " (buffer; length \($0.type.spelling) \($0.name))" } ?? "")]
            }
            Swift.print(Table.render(header: ["  NAME", "TYPE"], rows: rows))
        }
        if !info.exampleArguments.isEmpty { Swift.print("  example: autoglm call \(info.name) \(info.exampleArguments)") }
    }
}
