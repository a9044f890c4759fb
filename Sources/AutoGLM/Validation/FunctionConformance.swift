import Foundation

/// Checks of a function registered by prototype: its canonical prototype parses back to the
/// same prototype, it has a doc line, and its documented example arguments bind to every
/// parameter and give a finite result (and finite values in the buffers it writes).
enum FunctionConformance {
    static func run(_ function: RegisteredFunction, into report: inout ConformanceReport) {
        let info = function.info, prototype = function.binding.prototype
        report.record(info.name, "prototype parses") {
            guard try CPrototype.parse(info.prototype) == prototype else {
                throw ConformanceFailure("the canonical prototype '\(info.prototype)' parses to a different prototype")
            }
            return info.prototype
        }
        report.record(info.name, "documented") {
            guard !info.doc.isEmpty else { throw ConformanceFailure("no doc line: pass an aglm_function_info with doc set") }
            return info.doc
        }
        report.record(info.name, "finite result on its example arguments") {
            if info.exampleArguments.isEmpty && !prototype.parameters.isEmpty {
                let sketch = prototype.parameters.map { "\($0.name)=…" }.joined(separator: " ")
                throw ConformanceFailure("no example arguments documented: set aglm_function_info.example_args (\"\(sketch)\")")
            }
            let arguments = try FunctionTextArguments(line: info.exampleArguments, prototype: prototype)
            let result = try function.binding.call(named: arguments.values)
            if let value = result.number, !value.isFinite {
                throw ConformanceFailure("\(info.exampleArguments) gives \(result)")
            }
            if let (name, _) = arguments.writtenBuffers.first(where: { $0.values.contains { !$0.isFinite } }) {
                throw ConformanceFailure("\(info.exampleArguments) leaves a non-finite value in buffer '\(name)'")
            }
            return "\(info.exampleArguments) → \(result)"
        }
    }
}
