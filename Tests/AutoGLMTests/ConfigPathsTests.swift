import AutoGLM
import Foundation
import XCTest

/// Path keys: relative paths written in a config file are relative to the file's directory,
/// from any working directory; `~` is the home directory; `--set` values stay relative to the
/// working directory.
final class ConfigPathsTests: XCTestCase {
    private static let registry = PluginBuilder.bundledRegistry()

    func testRelativePathsInAFileResolveAgainstItsDirectoryAndTildeIsHome() throws {
        let dir = try PluginBuilder.temporaryDirectory("config-paths")
        let project = dir.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        let config = project.appendingPathComponent("run.yaml")
        try """
        data: { path: corpus/input.txt }
        run: { dir: ../runs/one }
        plugins: { paths: [my_plugins, ~/aglm-plugins, /opt/aglm] }
        """.write(to: config, atomically: true, encoding: .utf8)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        // Loaded from another working directory, by a relative path to the file.
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path))
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let layers = try ConfigLoader.load(file: "project/run.yaml", environment: [:], overrides: [])
        let base = (project.path as NSString).standardizingPath
        XCTAssertEqual(layers.pluginPaths, [base + "/my_plugins", home + "/aglm-plugins", "/opt/aglm"])
        let config1 = try layers.resolve(schemas: Self.registry).config
        XCTAssertEqual(config1.data.path, base + "/corpus/input.txt")
        XCTAssertEqual(config1.run.dir, (dir.path as NSString).standardizingPath + "/runs/one")
        XCTAssertEqual(config1.plugins.paths, [base + "/my_plugins", home + "/aglm-plugins", "/opt/aglm"])

        // --set: relative to the working directory (as typed), `~` still expanded.
        let overridden = try ConfigLoader.load(file: "project/run.yaml", environment: [:],
                                               overrides: ["run.dir=runs/two", "data.path=~/corpus.txt"])
            .resolve(schemas: Self.registry).config
        XCTAssertEqual(overridden.run.dir, "runs/two")
        XCTAssertEqual(overridden.data.path, home + "/corpus.txt")
    }

    func testTildeIsHomeFromTheEnvironmentForEveryPath() throws {
        // One expansion for config keys and command-line paths alike (run directories, exports,
        // scaffolds, corpora): `$HOME` wins over the password database, as in a shell.
        let saved = ProcessInfo.processInfo.environment["HOME"]
        defer { if let saved { setenv("HOME", saved, 1) } else { unsetenv("HOME") } }
        setenv("HOME", "/tmp/aglm-home", 1)
        XCTAssertEqual(ConfigPaths.expandingTilde("~"), "/tmp/aglm-home")
        XCTAssertEqual(ConfigPaths.expandingTilde("~/runs/a"), "/tmp/aglm-home/runs/a")
        XCTAssertEqual(ConfigPaths.expandingTilde("~root/x"), "/root/x")  // another user's: the password database
        XCTAssertEqual(ConfigPaths.expandingTilde("~no-such-user-aglm/x"), "~no-such-user-aglm/x")
        XCTAssertEqual(ConfigPaths.expandingTilde("runs/~/x"), "runs/~/x")
        XCTAssertEqual(ConfigPaths.expandingTilde("/abs"), "/abs")
    }

    func testAConfigTextThatIsNotAFileKeepsRelativePaths() throws {
        let config = try ConfigLoader.load(text: "run: { dir: runs/x }\n", label: "in-memory", environment: [:], overrides: [])
            .resolve(schemas: Self.registry).config
        XCTAssertEqual(config.run.dir, "runs/x")
    }
}
