@testable import AutoGLM
import Foundation
import XCTest

/// `autoglm plugins new`: every kind's folder builds warning-free through its Makefile, passes
/// `make check` (autoglm plugins validate) and trains with the component selected by its config.
final class PluginScaffoldTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// Runs the autoglm executable (skipping when it was not built).
    private func autoglm(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        return try PluginBuilder.run([executable] + arguments, in: directory)
    }

    /// A small corpus file.
    private func corpus(in dir: URL) throws -> String {
        let file = dir.appendingPathComponent("corpus.txt")
        try String(repeating: TrainingTests.corpus, count: 2).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// The JSON records of a run's log.jsonl.
    private func logRecords(_ runDir: URL) throws -> [[String: Any]] {
        try String(contentsOf: runDir.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testEveryKindBuildsValidatesAndTrains() throws {
        let work = try PluginBuilder.temporaryDirectory("autoglm-scaffold")
        let data = try corpus(in: work)
        for kind in ComponentKind.allCases {
            let name = "my_\(kind.rawValue)"
            let folder = work.appendingPathComponent(name)
            let made = try autoglm(["plugins", "new", name, "--kind", kind.rawValue, "--dir", folder.path])
            XCTAssertEqual(made.status, 0, made.output)
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertEqual(files, ["Makefile", "README.md", "\(name).c", "try.yaml"])
            // Warning-free as C99 with -pedantic (the Makefile's flags), then the conformance checks.
            let build = try PluginBuilder.run(["make", "-C", folder.path, "CFLAGS=-O2 -Werror"])
            XCTAssertEqual(build.status, 0, build.output)
            let check = try PluginBuilder.run(["make", "-C", folder.path, "check"])
            XCTAssertEqual(check.status, 0, check.output)
            XCTAssertTrue(check.output.contains("PASSED:") && !check.output.contains("FAIL"), check.output)
            // Trained through its config, as `make try` runs it.
            let trained = try autoglm(["train", "--plugins", ".", "--config", "try.yaml",
                                       "--set", "data.path=\(data)", "--set", "train.steps=3", "--set", "train.eval_batches=2",
                                       "--set", "model.n_layer=1", "--set", "model.n_head=2", "--set", "model.n_embd=16",
                                       "--set", "model.block_size=16", "--set", "train.batch_size=2"], in: folder)
            XCTAssertEqual(trained.status, 0, trained.output)
            XCTAssertTrue(trained.output.contains("done: 3 steps"), trained.output)
            let records = try logRecords(folder.appendingPathComponent("runs/\(name)"))
            let config = try XCTUnwrap(records.first)
            switch kind {
            case .attention:
                XCTAssertEqual((config["attention"] as? [String: Any])?["name"] as? String, name, "\(config)")
            case .optimizer:
                XCTAssertEqual((config["optimizer"] as? [String: Any])?["name"] as? String, name, "\(config)")
                XCTAssertEqual((config["optimizer"] as? [String: Any])?["momentum"] as? Double, 0.9)
            case .evaluator:
                let eval = try XCTUnwrap(records.last { $0["kind"] as? String == "eval" })
                let accuracy = try XCTUnwrap(eval["val/\(name)"] as? Double, "\(eval)")
                XCTAssertTrue((0...1).contains(accuracy))
            case .callback:
                XCTAssertTrue(trained.output.contains("\(name): finished at step 3"), trained.output)
            }
        }
    }

    func testMakefilePrefersPkgConfig() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/pkg-config"), "pkg-config is not installed")
        let work = try PluginBuilder.temporaryDirectory("autoglm-scaffold-pc")
        try PluginScaffold(name: "pc_metric", kind: .evaluator, includeDirectory: "/nonexistent/include", executable: nil)
            .write(into: work.appendingPathComponent("pc_metric"))
        let pcDir = work.appendingPathComponent("pkgconfig")
        try FileManager.default.createDirectory(at: pcDir, withIntermediateDirectories: true)
        try "Name: autoglm\nDescription: test\nVersion: 0.1.0\nCflags: -I\(PluginBuilder.includeDir)\n"
            .write(to: pcDir.appendingPathComponent("autoglm.pc"), atomically: true, encoding: .utf8)
        let folder = work.appendingPathComponent("pc_metric").path
        let without = try PluginBuilder.run(["make", "-C", folder])
        XCTAssertNotEqual(without.status, 0, "the recorded include directory does not exist")
        let with = try PluginBuilder.run(["env", "PKG_CONFIG_PATH=\(pcDir.path)", "make", "-C", folder])
        XCTAssertEqual(with.status, 0, with.output)
        XCTAssertTrue(with.output.contains("-I\(PluginBuilder.includeDir)"), with.output)
    }

    func testBadNamesAndNonEmptyFoldersAreRefused() throws {
        for bad in ["My_Opt", "1opt", "my-opt", "", String(repeating: "a", count: 65)] {
            XCTAssertThrowsError(try PluginScaffold(name: bad, kind: .optimizer, includeDirectory: nil, executable: nil)) {
                XCTAssertTrue("\($0)".contains("is not a valid component name"), "\($0)")
            }
        }
        let work = try PluginBuilder.temporaryDirectory("autoglm-scaffold-bad")
        let refused = try autoglm(["plugins", "new", "My-Opt", "--kind", "optimizer", "--dir", work.appendingPathComponent("x").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("'My-Opt' is not a valid component name"), refused.output)
        try "keep".write(to: work.appendingPathComponent("note.txt"), atomically: true, encoding: .utf8)
        let occupied = try autoglm(["plugins", "new", "ok_opt", "--kind", "optimizer", "--dir", work.path])
        XCTAssertNotEqual(occupied.status, 0)
        XCTAssertTrue(occupied.output.contains("exists and is not empty"), occupied.output)
        XCTAssertEqual(try String(contentsOf: work.appendingPathComponent("note.txt"), encoding: .utf8), "keep")
        let kind = try autoglm(["plugins", "new", "ok_opt", "--kind", "scheduler"])
        XCTAssertNotEqual(kind.status, 0)
        XCTAssertTrue(kind.output.contains("attention") && kind.output.contains("callback"), kind.output)
    }

    func testTheIncludeDirectoryIsFoundInTheRepositoryOrTheInstalledPrefix() throws {
        let work = try PluginBuilder.temporaryDirectory("autoglm-scaffold-prefix")
        let bin = work.appendingPathComponent("prefix/bin"), include = work.appendingPathComponent("prefix/include/autoglm")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: include, withIntermediateDirectories: true)
        try "".write(to: bin.appendingPathComponent("autoglm"), atomically: true, encoding: .utf8)
        XCTAssertNil(PluginScaffold.includeDirectory(forExecutable: bin.appendingPathComponent("autoglm").path), "no header yet")
        try "".write(to: include.appendingPathComponent("plugin.h"), atomically: true, encoding: .utf8)
        XCTAssertEqual(PluginScaffold.includeDirectory(forExecutable: bin.appendingPathComponent("autoglm").path),
                       work.appendingPathComponent("prefix/include").resolvingSymlinksInPath().path)
        // A link to the executable (e.g. from ~/bin) finds the prefix of its target.
        let link = work.appendingPathComponent("autoglm-link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: bin.appendingPathComponent("autoglm"))
        XCTAssertEqual(PluginScaffold.includeDirectory(forExecutable: link.path),
                       work.appendingPathComponent("prefix/include").resolvingSymlinksInPath().path)
        XCTAssertEqual(PluginScaffold.includeDirectory(forExecutable: executable), PluginBuilder.includeDir,
                       "a swift build executable finds the repository's include/")
    }
}
