import AutoGLM
import Foundation
import XCTest

/// The shell completions swift-argument-parser generates for `autoglm`: the bash script is valid
/// bash and completes the subcommands and option values; `make install-completions` puts the
/// three scripts where bash-completion, zsh and fish look.
final class CompletionTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// The completion script for `shell`.
    private func script(_ shell: String) throws -> String {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let (status, output) = try PluginBuilder.run([executable, "--generate-completion-script", shell])
        XCTAssertEqual(status, 0, output)
        return output
    }

    /// What bash completes for the words of a command line (the last one being completed), with
    /// the script sourced as bash-completion does.
    private func complete(_ words: [String], with file: URL) throws -> [String] {
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let line = words.joined(separator: " ")
        let program = """
        source '\(file.path)'
        COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
        _autoglm autoglm '\(words[words.count - 1])' '\(words[words.count - 2])'
        printf '%s\\n' "${COMPREPLY[@]}"
        """
        let (status, output) = try PluginBuilder.run(["bash", "-c", program])
        XCTAssertEqual(status, 0, output)
        return output.split(separator: "\n").map(String.init)
    }

    func testBashScriptIsValidAndCompletesSubcommandsAndKinds() throws {
        let file = try PluginBuilder.temporaryDirectory().appendingPathComponent("autoglm.bash")
        try script("bash").write(to: file, atomically: true, encoding: .utf8)
        let syntax = try PluginBuilder.run(["bash", "-n", file.path])
        XCTAssertEqual(syntax.status, 0, syntax.output)
        let top = try complete(["autoglm", ""], with: file)
        for command in ["train", "sample", "plugins", "config", "init", "bench", "plot"] {
            XCTAssertTrue(top.contains(command), "\(command) missing from \(top)")
        }
        let plugins = try complete(["autoglm", "plugins", ""], with: file)
        for command in ["list", "show", "validate", "new"] { XCTAssertTrue(plugins.contains(command), "\(command) missing from \(plugins)") }
        XCTAssertEqual(try complete(["autoglm", "plugins", "new", "x", "--kind", ""], with: file),
                       ["attention", "optimizer", "evaluator", "callback"])
        XCTAssertTrue(try complete(["autoglm", "train", "--"], with: file).contains("--log-format"))
    }

    func testZshAndFishScriptsNameTheSubcommands() throws {
        for shell in ["zsh", "fish"] {
            let text = try script(shell)
            for command in ["train", "plugins", "validate", "new", "plot"] {
                XCTAssertTrue(text.contains(command), "\(shell) script does not name \(command)")
            }
        }
    }

    func testInstallTargetPutsTheScriptsWhereTheShellsLook() throws {
        let (status, output) = try PluginBuilder.run(["make", "-n", "-C", PluginBuilder.repoRoot.path, "install-completions",
                                                      "PREFIX=/opt/aglm", "DESTDIR=/tmp/stage"])
        XCTAssertEqual(status, 0, output)
        for destination in ["/tmp/stage/opt/aglm/share/bash-completion/completions/autoglm",
                            "/tmp/stage/opt/aglm/share/zsh/site-functions/_autoglm",
                            "/tmp/stage/opt/aglm/share/fish/vendor_completions.d/autoglm.fish"] {
            XCTAssertTrue(output.contains(destination), "\(destination) missing from:\n\(output)")
        }
    }
}
