import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm plugins`: what the plugin search path provides.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the components and functions found on the plugin search path, and the files that failed to load.",
        subcommands: [ListPlugins.self, ShowPlugin.self, ValidatePlugin.self, NewPlugin.self, LockPlugins.self, ProbePlugin.self],
        defaultSubcommand: ListPlugins.self
    )
}

/// `autoglm plugins [list]`.
struct ListPlugins: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every component, every function and every failed file.")

    @OptionGroup var plugins: PluginOptions

    func run() throws {
        let registry = plugins.registry()
        let rows = registry.allComponents.map { c in
            [c.kind.rawValue, c.name, c.version, "ABI \(c.abi)", URL(fileURLWithPath: c.file).lastPathComponent, c.summary]
        }
        print(Table.render(header: ["KIND", "NAME", "VERSION", "ABI", "FILE", "SUMMARY"], rows: rows))
        let functions = registry.allFunctions
        if !functions.isEmpty {
            print("\nFunctions:")
            print(Table.render(header: ["NAME", "FILE", "PROTOTYPE"],
                               rows: functions.map { [$0.name, URL(fileURLWithPath: $0.file).lastPathComponent, $0.prototype] }))
        }
        if !registry.libraries.isEmpty {
            print("\nLibraries:")
            for lib in registry.libraries { print("  \(lib.file)  (\(lib.name) \(lib.version), ABI \(lib.abi))") }
        }
        if !registry.failures.isEmpty {
            print("\nFailed to load:")
            for f in registry.failures { print("  \(f.file)\n    \(f.reason)") }
        }
    }
}

/// `autoglm plugins lock DIR...`: writes each folder's `plugins.lock`.
struct LockPlugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Record the SHA-256 of every plugin file of each folder in its plugins.lock; from then on only those files, unchanged, load from it.")

    @Argument(help: "Plugin folders to lock.")
    var folders: [String]

    func validate() throws {
        if folders.isEmpty { throw ValidationError("name at least one plugin folder, e.g. `autoglm plugins lock ~/.autoglm/plugins`") }
    }

    func run() throws {
        for folder in folders {
            let entries = try PluginLock.write(folder: folder)
            print("\((folder as NSString).appendingPathComponent(PluginLock.fileName)): \(entries.count) file\(entries.count == 1 ? "" : "s")")
            for entry in entries { print("  \(entry.digest)  \(entry.name)") }
        }
    }
}

/// `autoglm plugins probe FILE` (hidden): loads one plugin file in this process and exits; the
/// host runs it as a child before loading a plugin itself (see `PluginProbe`).
struct ProbePlugin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Load one plugin file and exit (used by the host).",
                                                    shouldDisplay: false)

    @Argument(help: "The plugin file.")
    var file: String

    func run() throws {
        let status = PluginProbe.probe(path: file)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `autoglm plugins show NAME`.
struct ShowPlugin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a component's description and parameter schema, or a function's prototype.")

    @OptionGroup var plugins: PluginOptions

    @Argument(help: "Component or function name, e.g. adamw or warmup_cosine.")
    var name: String

    func run() throws {
        let registry = plugins.registry()
        let found = registry.info(named: name)
        let function = registry.function(named: name)
        guard !found.isEmpty || function != nil else {
            let all = registry.allComponents.map(\.name) + registry.allFunctions.map(\.name)
            throw ValidationError("no component or function named '\(name)'\(Suggestion.hint(for: name, in: all)); run `autoglm plugins` to list them")
        }
        if let function { FunctionDescription.print(function) }
        for c in found {
            print("\(c.name) — \(c.kind.rawValue) \(c.version)")
            print("  \(c.summary)")
            print("  file: \(c.file) (ABI \(c.abi))")
            if let path = c.attentionPath { print("  implementation: \(path)") }
            if c.parameters.isEmpty { print("  parameters: none"); continue }
            print("  parameters:")
            let rows = c.parameters.map { p in ["  " + p.name, p.kind.rawValue, p.displayText(p.defaultValue), p.rangeDescription, p.doc] }
            print(Table.render(header: ["  NAME", "TYPE", "DEFAULT", "RANGE", "DESCRIPTION"], rows: rows))
        }
    }
}

/// Fixed-width text tables.
enum Table {
    /// Columns padded to their widest cell; the last column is not padded.
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
