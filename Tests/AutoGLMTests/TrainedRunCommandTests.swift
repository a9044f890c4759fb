import AutoGLM
import Foundation
import XCTest

/// `autoglm eval`, `sample --no-echo/--json`, `logits` and the missing-plugin message, as a user
/// runs them, checked against the session's own answers for the same run.
final class TrainedRunCommandTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// Runs autoglm with `arguments`; standard output and standard error apart.
    private func autoglm(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Standard output of a command that must succeed, parsed as one JSON object.
    private func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try autoglm(arguments)
        XCTAssertEqual(result.status, 0, result.err)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], result.out)
    }

    func testEvalPrintsTheSessionsFullSplitMetrics() throws {
        let (session, corpus, dir) = TrainedRunTests.trained
        let expected = try session.evaluate(split: .val)
        let object = try json(["eval", dir.path, "--json"])
        XCTAssertEqual(object["split"] as? String, "val")
        XCTAssertEqual((object["step"] as? NSNumber)?.intValue, 30)
        XCTAssertEqual((object["tokens"] as? NSNumber)?.intValue, expected.tokens)
        XCTAssertEqual((object["blocks"] as? NSNumber)?.intValue, expected.blocks)
        let metrics = try XCTUnwrap(object["metrics"] as? [String: Double])
        XCTAssertEqual(Set(metrics.keys), Set(expected.metrics.map(\.name)))
        for metric in expected.metrics {  // the same numbers in another process, up to Foundation's JSON text round trip
            XCTAssertEqual(try XCTUnwrap(metrics[metric.name]), metric.value, accuracy: 1e-14 * abs(metric.value), metric.name)
        }

        let text = try autoglm(["eval", dir.path, "--split", "train"])
        XCTAssertEqual(text.status, 0, text.err)
        let train = try session.evaluate(split: .train)
        XCTAssertTrue(text.out.contains("step 30, train split of data.path '\(corpus)'"), text.out)
        XCTAssertTrue(text.out.contains("loss        " + String(format: "%.6f", train.metrics[0].value)), text.out)

        let own = dir.deletingLastPathComponent().appendingPathComponent("own.txt")
        try "we like the cat. ".write(to: own, atomically: true, encoding: .utf8)
        let given = try json(["eval", dir.path, "--data", own.path, "--json"])
        XCTAssertEqual(given["split"] as? String, "all", "a file of one's own is evaluated whole")
        XCTAssertEqual((given["tokens"] as? NSNumber)?.intValue, 17)
        let missing = try autoglm(["eval", dir.path, "--data", "/nonexistent/file.txt"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("--data: '/nonexistent/file.txt' does not exist") && !missing.err.contains("USAGE"), missing.err)
    }

    func testSampleWithoutEchoAndAsJSON() throws {
        let (session, _, dir) = TrainedRunTests.trained
        let continuation = try session.sample(prompt: "the ", tokens: 20, seed: 5)
        let echoed = try autoglm(["sample", "--run", dir.path, "--prompt", "the ", "--tokens", "20", "--seed", "5"])
        XCTAssertEqual(echoed.out, "the " + continuation + "\n")
        let bare = try autoglm(["sample", "--run", dir.path, "--prompt", "the ", "--tokens", "20", "--seed", "5", "--no-echo"])
        XCTAssertEqual(bare.out, continuation + "\n")
        let object = try json(["sample", "--run", dir.path, "--prompt", "the ", "--tokens", "20", "--seed", "5", "--json"])
        let tokens = try session.sampleTokens(prompt: "the ", tokens: 20, seed: 5)
        XCTAssertEqual(object["text"] as? String, continuation)
        XCTAssertEqual(object["ids"] as? [Int], tokens.map { Int($0.id) })
        XCTAssertEqual(object["prompt_ids"] as? [Int], try session.tokenizer.encode("the ").map(Int.init))
        let logprobs = try XCTUnwrap(object["logprobs"] as? [Double])
        XCTAssertEqual(logprobs.count, tokens.count)
        for (a, b) in zip(logprobs, tokens.map(\.logProb)) { XCTAssertEqual(a, b, accuracy: 1e-14 * abs(b)) }
    }

    func testLogitsAsJSONAreTheSessionsBitForBit() throws {
        let (session, _, dir) = TrainedRunTests.trained
        let object = try json(["logits", dir.path, "--input", "a dog", "--json"])
        let (ids, logits) = try session.logits(of: "a dog")
        XCTAssertEqual(object["ids"] as? [Int], ids.map(Int.init))
        let rows = try XCTUnwrap(object["logits"] as? [[Double]])
        XCTAssertEqual(rows.map { $0.map(Float.init) }, logits)
        XCTAssertEqual((object["vocabulary"] as? [String])?.count, session.tokenizer.count)
        let text = try autoglm(["logits", dir.path, "--input", "a dog", "--top", "3"])
        XCTAssertEqual(text.status, 0, text.err)
        let lines = text.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("0 'a' -> "), String(lines[0]))
    }

    func testAMissingPluginIsReportedWithoutUsageAndSuggestsTheRunsFolders() throws {
        let plugins = try PluginBuilder.temporaryDirectory("own-plugins")
        try PluginBuilder.compileFixture("toy_metric.c", into: plugins)
        let (_, corpus, dir) = TrainedRunTests.trained
        let run = dir.deletingLastPathComponent().appendingPathComponent("with-plugin").path
        let trained = try autoglm(["train", "--quiet", "--plugins", plugins.path, "--set", "data.path=\(corpus)",
                                   "--set", "run.dir=\(run)", "--set", "train.steps=2", "--set", "model.n_layer=1",
                                   "--set", "model.n_embd=16", "--set", "model.n_head=2", "--set", "model.block_size=8",
                                   "--set", "train.batch_size=2", "--set", "train.eval_batches=1", "--set", "train.warmup_steps=0",
                                   "--set", "evaluators=mean_logit"])
        XCTAssertEqual(trained.status, 0, trained.err)
        let record = try RunDirectory.readRecord(URL(fileURLWithPath: run))
        XCTAssertEqual(record.pluginPaths, [plugins.path], "the run records where its plugins came from")
        for command in [["sample", "--run", run], ["eval", run], ["logits", run, "--input", "a"]] {
            let missing = try autoglm(command)
            XCTAssertNotEqual(missing.status, 0)
            XCTAssertTrue(missing.err.contains("no evaluator component named 'mean_logit'"), missing.err)
            XCTAssertTrue(missing.err.contains("the run was trained with plugins from \(plugins.path): pass those folders with --plugins"), missing.err)
            XCTAssertFalse(missing.err.contains("USAGE") || missing.err.contains("--help"), "no usage text:\n\(missing.err)")
        }
        let found = try autoglm(["sample", "--run", run, "--plugins", plugins.path, "--prompt", "the ", "--tokens", "3"])
        XCTAssertEqual(found.status, 0, found.err)
    }
}
