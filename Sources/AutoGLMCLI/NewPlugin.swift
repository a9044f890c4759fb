import ArgumentParser
import AutoGLM
import Foundation

/// `--kind attention|optimizer|evaluator|callback`.
extension ComponentKind: ExpressibleByArgument {}

/// `autoglm plugins new NAME --kind KIND [--dir DIR]`: a plugin folder to start from.
struct NewPlugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make a plugin folder: a working C example of the kind, a Makefile (make, make check, make try), a config and a README.",
        discussion: "The folder builds and passes `autoglm plugins validate` unchanged: `cd NAME && make check`.")

    @Argument(help: "Component name: 1-64 characters of a-z, 0-9 and _, starting with a letter.")
    var name: String

    @Option(help: "Kind of component.")
    var kind: ComponentKind

    @Option(help: ArgumentHelp("Folder to create (default: ./NAME); must not exist or be empty.", valueName: "DIR"))
    var dir: String?

    func run() throws {
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().path
        let include = executable.flatMap(PluginScaffold.includeDirectory(forExecutable:))
        let scaffold = try PluginScaffold(name: name, kind: kind, includeDirectory: include, executable: executable)
        let folder = URL(fileURLWithPath: ConfigPaths.expandingTilde(dir ?? name), isDirectory: true)
        let files = try scaffold.write(into: folder)
        print("made \(folder.path) (\(kind.rawValue) '\(name)'): " + files.map(\.lastPathComponent).joined(separator: ", "))
        if let include {
            print("plugin header: \(include) (pkg-config autoglm is used instead when it is installed)")
        } else {
            printError("warning: no include/autoglm/plugin.h found next to \(executable ?? "autoglm"): the Makefile needs pkg-config autoglm or `make AUTOGLM_INCLUDE=DIR`")
        }
        print("next: cd \(folder.path) && make check   # build, then run the conformance checks")
        print("      make try                          # train a small model with it (try.yaml)")
    }
}
