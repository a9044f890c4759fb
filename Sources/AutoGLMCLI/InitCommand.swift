import ArgumentParser
import AutoGLM
import Foundation

/// `autoglm init [DIR]`: a commented starter config with every key at its default.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter config (autoglm.yaml): every key at its default, with its meaning.",
        discussion: "Then edit it and run `autoglm train --config DIR/autoglm.yaml`.")

    @OptionGroup var plugins: PluginOptions

    @Argument(help: "Directory to write autoglm.yaml into (created if missing).")
    var directory: String = "."

    @Flag(help: "Replace an existing autoglm.yaml.")
    var force = false

    func run() throws {
        let dir = URL(fileURLWithPath: ConfigPaths.expandingTilde(directory), isDirectory: true)
        let file = dir.appendingPathComponent("autoglm.yaml")
        if FileManager.default.fileExists(atPath: file.path), !force {
            throw ValidationError("\(file.path) exists; pass --force to replace it")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = ConfigReference.starterYAML(components: plugins.registry())
        try Data(text.utf8).write(to: file, options: .atomic)
        print("wrote \(file.path)")
    }
}
