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

    func testCallEvaluatesAFunctionAndNamesBadArguments() throws {
        let args = ["call", "warmup_cosine", "step=500", "base_lr=0.001", "warmup=100", "total=2000"]
        let ok = try autoglm(args + ["min_lr=0.0001"])
        XCTAssertEqual(ok.status, 0, ok.output)
        let expected = NanoGPTSchedule.lr(500, peak: 0.001, minLR: 0.0001, warmup: 100, total: 2000, shape: .cosine)
        XCTAssertEqual(ok.output.trimmingCharacters(in: .whitespacesAndNewlines), "\(expected)")
        let prototype = "double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)"
        for (arguments, message) in [(args, "missing argument 'min_lr' (double)"),
                                     (args + ["min_lr=0.0001", "min_rl=1"], "unknown argument 'min_rl' (did you mean 'min_lr'?)"),
                                     (args + ["min_lr=small"], "argument 'min_lr' is double: 'small' is not a number")] {
            let bad = try autoglm(arguments)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.output.contains(message) && bad.output.contains(prototype), bad.output)
        }
        let unknown = try autoglm(["call", "warmup_cosin", "step=1"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.output.contains("no function named 'warmup_cosin' (did you mean 'warmup_cosine'?)"), unknown.output)
    }

    func testCallPrintsTheBuffersAFunctionWrites() throws {
        let dir = try PluginBuilder.temporaryDirectory()
        try PluginBuilder.compileFixture("function_plugin.c", into: dir)
        let sum = try autoglm(["call", "--plugins", dir.path, "scaled_sum", "x=1,2,3.5", "scale=2"])
        XCTAssertEqual(sum.status, 0, sum.output)
        XCTAssertEqual(sum.output.trimmingCharacters(in: .whitespacesAndNewlines), "13.0")
        let scaled = try autoglm(["call", "--plugins", dir.path, "scale_in_place", "x=1,-2,0.5", "factor=4"])
        XCTAssertEqual(scaled.status, 0, scaled.output)
        XCTAssertEqual(scaled.output.trimmingCharacters(in: .whitespacesAndNewlines), "x=4.0,-8.0,2.0")  // void: only the buffer
    }

    func testPluginsListsAndShowsFunctions() throws {
        let list = try autoglm(["plugins"])
        XCTAssertEqual(list.status, 0, list.output)
        for expected in ["Functions:", "warmup_cosine", "libaglm_lr_schedules.so",
                         "double one_cycle(int64_t step, double max_lr, int64_t total, double pct_start, double div_factor, double final_div_factor)"] {
            XCTAssertTrue(list.output.contains(expected), "missing '\(expected)' in:\n\(list.output)")
        }
        let show = try autoglm(["plugins", "show", "warmup_stable_decay"])
        XCTAssertEqual(show.status, 0, show.output)
        for expected in ["warmup_stable_decay — function", "WSD: linear warmup", "(ABI 1.4)", "decay    int64_t",
                         "example: autoglm call warmup_stable_decay step=1900 base_lr=0.001"] {
            XCTAssertTrue(show.output.contains(expected), "missing '\(expected)' in:\n\(show.output)")
        }
    }
}
