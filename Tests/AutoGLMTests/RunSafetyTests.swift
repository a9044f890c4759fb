import AutoGLM
import Foundation
import XCTest

/// A run directory is never mixed, overwritten or half-read, and bad input is refused with the
/// file and the fix, before anything is built: each case is `autoglm` run as a user runs it.
final class RunSafetyTests: XCTestCase {
    /// A corpus long enough for the tiny model, written once.
    private static let corpus: URL = {
        let dir = (try? PluginBuilder.temporaryDirectory("run-safety")) ?? FileManager.default.temporaryDirectory
        let url = dir.appendingPathComponent("corpus.txt")
        try? TrainingTests.corpus.write(to: url, atomically: true, encoding: .utf8)
        return url
    }()

    /// `train` of the tiny model into `runDir` with `extra` settings.
    private func train(_ runDir: URL, _ extra: [String] = [], flags: [String] = [], data: URL = RunSafetyTests.corpus)
        throws -> AutoGLMChild.Outcome {
        let settings = ["data.path=\(data.path)", "model.n_layer=1", "model.n_head=2", "model.n_embd=16", "model.block_size=8",
                        "train.batch_size=4", "train.steps=6", "train.warmup_steps=1", "train.eval_interval=2",
                        "train.eval_batches=1", "checkpoint.every=2", "run.dir=\(runDir.path)"] + extra
        return try AutoGLMChild.run(["train", "--quiet"] + flags + settings.flatMap { ["--set", $0] })
    }

    func testASecondTrainIntoARunIsRefusedUnlessResumedOrOverwritten() throws {
        let runDir = try PluginBuilder.temporaryDirectory("mixed").appendingPathComponent("run")
        XCTAssertEqual(try train(runDir).status, 0)
        let before = try Data(contentsOf: runDir.appendingPathComponent("checkpoints/step-00000006/model.safetensors"))
        let again = try train(runDir, ["train.seed=9"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("run.dir: '\(runDir.path)' holds a previous run"), again.output)
        XCTAssertTrue(again.output.contains("--resume \(runDir.path)") && again.output.contains("--overwrite"), again.output)
        XCTAssertEqual(try Data(contentsOf: runDir.appendingPathComponent("checkpoints/step-00000006/model.safetensors")), before,
                       "the refused run changed nothing")
        let replaced = try train(runDir, ["train.seed=9"], flags: ["--overwrite"])
        XCTAssertEqual(replaced.status, 0, replaced.output)
        XCTAssertNotEqual(try Data(contentsOf: runDir.appendingPathComponent("checkpoints/step-00000006/model.safetensors")), before)
    }

    func testTwoTrainingsOfOneRunDirectoryAtOnce() throws {
        let plugins = try PluginBuilder.temporaryDirectory("concurrent")
        try PluginBuilder.compileFixture("fault_callback.c", into: plugins)
        let runDir = plugins.appendingPathComponent("run")
        var second: AutoGLMChild.Outcome?
        let first = try AutoGLMChild.run(["train", "--quiet", "--plugins", plugins.path] + [
            "data.path=\(Self.corpus.path)", "model.n_layer=1", "model.n_head=2", "model.n_embd=16", "model.block_size=8",
            "train.batch_size=4", "train.steps=20", "run.dir=\(runDir.path)", "callbacks=fault",
            "params.fault.action=slow", "params.fault.sleep_ms=100",
        ].flatMap { ["--set", $0] }) { _ in
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !FileManager.default.fileExists(atPath: runDir.appendingPathComponent("run.json").path) {
                usleep(10_000)
            }
            second = try? self.train(runDir, flags: ["--overwrite"])
        }
        XCTAssertEqual(first.status, 0, first.output)
        let refused = try XCTUnwrap(second)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("is in use by another training (process "), refused.output)
        XCTAssertEqual(try RunDirectory.readRecord(runDir).step, 20, "the first run was not disturbed")
    }

    func testResumingWithAChangedConfigListsTheDifferencesUnlessAllowed() throws {
        let runDir = try PluginBuilder.temporaryDirectory("changed").appendingPathComponent("run")
        XCTAssertEqual(try train(runDir, ["train.steps=4"]).status, 0)
        let refused = try AutoGLMChild.run(["train", "--quiet", "--resume", runDir.path, "--set", "optimizer.lr=0.01", "--set", "train.steps=6"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("the checkpoint differs from this run"), refused.output)
        XCTAssertTrue(refused.output.contains("optimizer.lr: "), refused.output)
        XCTAssertTrue(refused.output.contains("--allow-config-change"), refused.output)
        let allowed = try AutoGLMChild.run(["train", "--quiet", "--resume", runDir.path, "--allow-config-change",
                                            "--set", "optimizer.lr=0.01", "--set", "train.steps=6"])
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertEqual(try RunDirectory.readRecord(runDir).step, 6)
        let log = try String(contentsOf: runDir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        XCTAssertTrue(log.contains(#""kind":"resume""#) && log.contains("optimizer.lr"), "the accepted differences are logged")
    }

    func testANonFiniteStepStopsWithTheLastGoodStateOrIsSkipped() throws {
        let runDir = try PluginBuilder.temporaryDirectory("nan").appendingPathComponent("run")
        // SGD with an absurd learning rate: the weights overflow within a few steps.
        let blowUp = ["optimizer.name=sgd", "optimizer.lr=1e30", "train.warmup_steps=0", "train.grad_clip=0", "train.steps=20"]
        let stopped = try train(runDir, blowUp)
        XCTAssertEqual(stopped.status, 1, stopped.output)
        XCTAssertTrue(stopped.output.contains("is not finite") && stopped.output.contains("train.on_nonfinite: stop"), stopped.output)
        XCTAssertTrue(stopped.output.contains("the last good state is checkpointed"), stopped.output)
        let record = try RunDirectory.readRecord(runDir)
        XCTAssertLessThan(record.step, 20)
        XCTAssertNotNil(record.latest, "the last good state is on disk")
        let skipped = try train(runDir, blowUp + ["train.on_nonfinite=skip", "train.max_skipped_steps=3"], flags: ["--overwrite"])
        XCTAssertEqual(skipped.status, 1, skipped.output)
        XCTAssertTrue(skipped.output.contains("is skipped (train.on_nonfinite: skip)"), skipped.output)
    }

    func testRetentionKeepsTheLastNAndTheBest() throws {
        let runDir = try PluginBuilder.temporaryDirectory("retention").appendingPathComponent("run")
        let run = try train(runDir, ["train.steps=12", "checkpoint.every=2", "checkpoint.keep_last=2"])
        XCTAssertEqual(run.status, 0, run.output)
        let record = try RunDirectory.readRecord(runDir)
        let best = try XCTUnwrap(record.best)
        var expected = ["checkpoints/step-00000010", "checkpoints/step-00000012"]
        if !expected.contains(best.checkpoint) { expected.insert(best.checkpoint, at: 0) }
        XCTAssertEqual(record.checkpoints, expected)
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: runDir.appendingPathComponent("checkpoints").path)
            .filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(onDisk.map { "checkpoints/" + $0 }, expected.sorted())
        // Each kept checkpoint samples.
        for choice in ["latest", "best", "10"] {
            let sample = try AutoGLMChild.run(["sample", "--run", runDir.path, "--checkpoint", choice, "--tokens", "5"])
            XCTAssertEqual(sample.status, 0, "\(choice): \(sample.output)")
        }
        let gone = try AutoGLMChild.run(["sample", "--run", runDir.path, "--checkpoint", "4", "--tokens", "5"])
        XCTAssertNotEqual(gone.status, 0)
        XCTAssertTrue(gone.output.contains("has no step 4 checkpoint (kept: "), gone.output)
    }

    func testDamagedRunFilesAreNamedWithWhatToDo() throws {
        let runDir = try PluginBuilder.temporaryDirectory("damaged").appendingPathComponent("run")
        XCTAssertEqual(try train(runDir).status, 0)
        let checkpoint = runDir.appendingPathComponent("checkpoints/step-00000006")
        // A tokenizer that does not belong to the model.
        let tokenizerURL = checkpoint.appendingPathComponent("tokenizer.json")
        let tokenizerData = try Data(contentsOf: tokenizerURL)
        var tokenizer = try XCTUnwrap(try JSONSerialization.jsonObject(with: tokenizerData) as? [String: [Int]])
        tokenizer["vocabulary"]?.removeLast()
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: tokenizerURL)
        var sample = try AutoGLMChild.run(["sample", "--run", runDir.path, "--tokens", "5"])
        XCTAssertNotEqual(sample.status, 0)
        XCTAssertTrue(sample.output.contains("\(tokenizerURL.path): ") && sample.output.contains("do not belong together"), sample.output)
        // A tokenizer that is not JSON.
        try Data("{not json".utf8).write(to: tokenizerURL)
        sample = try AutoGLMChild.run(["sample", "--run", runDir.path, "--tokens", "5"])
        XCTAssertNotEqual(sample.status, 0)
        XCTAssertTrue(sample.output.contains("\(tokenizerURL.path): cannot be read"), sample.output)
        try tokenizerData.write(to: tokenizerURL)
        // A damaged run.json.
        let recordURL = runDir.appendingPathComponent("run.json")
        try Data("[]".utf8).write(to: recordURL)
        sample = try AutoGLMChild.run(["sample", "--run", runDir.path, "--tokens", "5"])
        XCTAssertNotEqual(sample.status, 0)
        XCTAssertTrue(sample.output.contains("\(recordURL.path): cannot be read") && sample.output.contains("damaged"), sample.output)
        XCTAssertFalse(sample.output.contains("Usage:"), sample.output)
    }

    func testBadCorporaAreRefusedWithThePathBeforeAnythingIsBuilt() throws {
        let dir = try PluginBuilder.temporaryDirectory("bad-data")
        let cases: [(name: String, bytes: Data, says: String)] = [
            ("empty.txt", Data(), "is empty"),
            ("binary.txt", Data([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0, 0]), "is binary (it holds NUL bytes)"),
            ("latin1.txt", Data([0x63, 0x61, 0x66, 0xe9, 0x0a]), "is not UTF-8 text"),
            ("short.txt", Data("to be or not".utf8), "too few for block_size 8"),
        ]
        for item in cases {
            let file = dir.appendingPathComponent(item.name)
            try item.bytes.write(to: file)
            let runDir = dir.appendingPathComponent("run-" + item.name)
            let run = try train(runDir, data: file)
            XCTAssertEqual(run.status, 1, "\(item.name): \(run.output)")
            XCTAssertTrue(run.output.contains("data.path: '\(file.path)'"), "\(item.name): \(run.output)")
            XCTAssertTrue(run.output.contains(item.says), "\(item.name): \(run.output)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: runDir.appendingPathComponent("checkpoints").path),
                           "\(item.name): nothing written")
        }
        // A folder: the bad files are skipped with a warning naming them, the good one trains.
        let folder = dir.appendingPathComponent("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data([0x63, 0x61, 0x66, 0xe9, 0x0a]).write(to: folder.appendingPathComponent("a-latin1.txt"))
        try TrainingTests.corpus.write(to: folder.appendingPathComponent("b-good.txt"), atomically: true, encoding: .utf8)
        let run = try train(dir.appendingPathComponent("run-folder"), data: folder)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("skipped '\(folder.path)/a-latin1.txt': it is not UTF-8 text"), run.output)
        // One distinct character: trains, with a warning.
        let ones = dir.appendingPathComponent("ones.txt")
        try String(repeating: "a", count: 4000).write(to: ones, atomically: true, encoding: .utf8)
        let single = try train(dir.appendingPathComponent("run-ones"), data: ones)
        XCTAssertEqual(single.status, 0, single.output)
        XCTAssertTrue(single.output.contains("holds one distinct character"), single.output)
    }

    func testAnUnwritableRunDirectoryAndAnImpossibleModelAreRefusedUpFront() throws {
        let dir = try PluginBuilder.temporaryDirectory("up-front")
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let unwritable = try train(file.appendingPathComponent("run"))
        XCTAssertEqual(unwritable.status, 1, unwritable.output)
        XCTAssertTrue(unwritable.output.contains("run.dir: cannot create '\(file.path)/run'"), unwritable.output)
        let huge = try train(dir.appendingPathComponent("huge"), ["model.n_embd=65536", "model.n_head=64", "model.n_layer=96"])
        XCTAssertEqual(huge.status, 1, huge.output)
        XCTAssertTrue(huge.output.contains("model: the model (") && huge.output.contains("lower model.n_embd"), huge.output)
        let bench = try AutoGLMChild.run(["bench", "--steps", "0"])
        XCTAssertNotEqual(bench.status, 0)
        XCTAssertTrue(bench.output.contains("--steps must be >= 1"), bench.output)
    }

    func testTheMemoryEstimateCountsTheModelsParameters() throws {
        let registry = PluginBuilder.bundledRegistry()
        for shape in [GPTConfig(nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, vocabSize: 65),
                      GPTConfig(nLayer: 3, nHead: 4, nEmbd: 64, blockSize: 32, vocabSize: 100, positionEmbedding: false)] {
            let model = try GPT(config: shape, attention: ComponentSelection(kind: .attention, name: "causal_dense"),
                                registry: registry, seed: 1)
            XCTAssertEqual(MemoryEstimate(model: shape, batch: 4).parameters, Double(model.parameterCount))
        }
        let estimate = MemoryEstimate(model: GPTConfig(nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 4, vocabSize: 10), batch: 2)
        XCTAssertNil(estimate.refusal(available: estimate.bytes))
        XCTAssertNotNil(estimate.refusal(available: estimate.bytes - 1))
    }
}
