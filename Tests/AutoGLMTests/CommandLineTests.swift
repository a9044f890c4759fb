import AutoGLM
import Foundation
import XCTest

/// The `autoglm` executable as a user runs it (built next to the test binary by `swift build`).
final class CommandLineTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    private func autoglm(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        var env = environment.map { "\($0)=\($1)" }
        env.insert("-i", at: 0)
        env.append("PATH=/usr/bin:/bin")
        return try PluginBuilder.run(env + [executable] + arguments)
    }

    func testPluginsListsComponentsAndFailuresWithReasons() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        try PluginBuilder.compileFixture("toy_metric.c", into: dir)
        try PluginBuilder.compileFixture("wrong_major.c", into: dir)
        let (status, output) = try autoglm(["plugins", "--plugins", dir.path])
        XCTAssertEqual(status, 0, output)
        for expected in ["causal_dense", "adamw", "perplexity", "jsonl_log", "mean_logit", "toy_metric.so",
                         "Failed to load", "wrong_major.so", "built for ABI 2, host speaks 1"] {
            XCTAssertTrue(output.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
    }

    func testPluginsShowPrintsTheSchema() throws {
        let (status, output) = try autoglm(["plugins", "show", "adamw"])
        XCTAssertEqual(status, 0, output)
        for expected in ["betas", "[0.9, 0.999]", "weight_decay", "amsgrad", "false"] {
            XCTAssertTrue(output.contains(expected), "missing '\(expected)' in:\n\(output)")
        }
        let missing = try autoglm(["plugins", "show", "adamww"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("did you mean 'adamw'"), missing.output)
    }

    func testConfigShowNamesTheSourceOfEachLayer() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let file = dir.appendingPathComponent("c.yaml").path
        try "train:\n  steps: 50\n  batch_size: 4\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try autoglm(["config", "show", "--config", file, "--set", "optimizer.lr=3e-4"],
                                           environment: ["AUTOGLM_TRAIN_BATCH_SIZE": "6"])
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + " ") } ?? "" }
        XCTAssertTrue(line("train.steps").contains("50") && line("train.steps").contains("file \(file)"), line("train.steps"))
        XCTAssertTrue(line("train.batch_size").contains("6") && line("train.batch_size").contains("env AUTOGLM_TRAIN_BATCH_SIZE"))
        XCTAssertTrue(line("optimizer.lr").contains("--set"), line("optimizer.lr"))
        XCTAssertTrue(line("model.n_layer").contains("default"), line("model.n_layer"))
    }

    func testBrokenConfigNamesKeyAndFile() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        let file = dir.appendingPathComponent("bad.yaml").path
        try "optimizer:\n  name: adamw\n  lrr: 0.1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try autoglm(["train", "--config", file])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains(file) && output.contains("optimizer.lrr") && output.contains("did you mean 'lr'"), output)
    }
}
