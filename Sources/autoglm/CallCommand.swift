import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm call FUNCTION name=value ...`: evaluates one registered function.
struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Evaluate one registered function with named arguments and print its result.",
        discussion: """
            Give every parameter as name=value: integers in decimal, bool as true or false, floats, \
            strings verbatim, buffers as comma-separated floats. A float * buffer is printed after \
            the call as name=values. `autoglm plugins show NAME` prints a function's prototype.
            Example: autoglm call warmup_cosine step=500 base_lr=0.001 warmup=100 total=2000 min_lr=0.0001
            """)

    @OptionGroup var plugins: PluginOptions

    @Argument(help: "Function name, e.g. warmup_cosine.")
    var function: String

    @Argument(help: ArgumentHelp("The arguments, one per parameter.", valueName: "name=value"))
    var arguments: [String] = []

    func run() throws {
        let registry = plugins.registry()
        guard let found = registry.function(named: function) else {
            let names = registry.allFunctions.map(\.name)
            let failed = registry.failures.isEmpty ? "" : "; \(registry.failures.count) plugin files failed to load (`autoglm plugins` shows why)"
            throw ValidationError("no function named '\(function)'\(Suggestion.hint(for: function, in: names)); `autoglm plugins` lists them\(failed)")
        }
        let parsed = try FunctionTextArguments(arguments, prototype: found.binding.prototype)
        let result = try found.binding.call(named: parsed.values)
        if result != .void { print(result) }
        for (name, values) in parsed.writtenBuffers {
            print("\(name)=" + values.map { "\($0)" }.joined(separator: ","))
        }
    }
}
