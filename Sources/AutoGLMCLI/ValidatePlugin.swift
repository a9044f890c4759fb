import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm plugins validate FILE.so`: conformance checks for plugin authors' CI.
struct ValidatePlugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Load plugin libraries in isolation and run the host's conformance checks on every component.",
        discussion: "Exits with status 1 if any check fails. Run it in your plugin's CI.")

    @Argument(help: "Plugin library files (.so).")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            let report = PluginValidator.validate(file: file)
            report.render().forEach { print($0) }
            failed = failed || !report.passed
        }
        if failed { throw ExitCode(1) }
    }
}
