@testable import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// Data-parallel training as users run it: `mpirun -np 2 autoglm train` children (Open MPI,
/// root allowed through its two environment variables, set for the children only), against
/// single processes on the same config. Skipped, saying why, when mpirun is not installed.
final class MPITrainingTests: XCTestCase {
    private var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }
    /// Every child must end within this many seconds (a hang fails the test instead of CI).
    private let timeout = 180.0

    /// mpirun's path, or a skip.
    private func mpirun() throws -> String {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: executable), "build the autoglm executable first")
        let path = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        return try XCTUnwrap(path, "mpirun is not installed (Debian: openmpi-bin libopenmpi-dev, scripts/install-deps.sh)")
    }

    /// A folder with the corpus, the callbacks `fixtures` built into plugins/, and a config of a
    /// small model training `steps` steps with those callbacks and the `bundled` ones.
    private func workspace(steps: Int, fixtures: [String] = ["rank_witness"], bundled: [String] = [], extra: String = "") throws -> URL {
        let dir = try PluginBuilder.temporaryDirectory("mpi")
        try TrainingTests.corpus.write(to: dir.appendingPathComponent("corpus.txt"), atomically: true, encoding: .utf8)
        let plugins = dir.appendingPathComponent("plugins")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        for fixture in fixtures { try PluginBuilder.compileFixture(fixture + ".c", into: plugins) }
        try """
            data: { path: corpus.txt }
            model: { n_layer: 2, n_head: 2, n_embd: 32, block_size: 32 }
            train: { steps: \(steps), batch_size: 6, eval_interval: 25, eval_batches: 3, log_interval: 1, warmup_steps: 5, threads: 1 }
            attention: { name: causal_dense }
            evaluators: [perplexity, accuracy, macro_f1]
            callbacks: [\((fixtures + bundled).joined(separator: ", "))]
            plugins: { paths: [plugins] }
            distributed: { bucket_mb: 0.01 }
            \(extra)
            """.write(to: dir.appendingPathComponent("run.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Starts `command` in `dir` (output to `dir/NAME.out`), with Open MPI allowed to run as root.
    private func launch(_ command: [String], in dir: URL, name: String) throws -> Process {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AUTOGLM_") }
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        return try AutoGLMChild.start(command, in: dir, name: name, environment: environment)
    }

    /// Waits for `process` up to the timeout (terminating it and failing past it): (status, output).
    private func finish(_ process: Process, in dir: URL, name: String) throws -> (Int32, String) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("\(name) did not end within \(timeout) s")
        }
        return (process.terminationStatus, try String(contentsOf: dir.appendingPathComponent(name + ".out"), encoding: .utf8))
    }

    /// Runs `autoglm ARGS` under `mpirun -np RANKS` (nil: as one process) to its end.
    @discardableResult
    private func train(_ arguments: [String], ranks: Int?, in dir: URL, name: String) throws -> (Int32, String) {
        try run(command(arguments, ranks: ranks), in: dir, name: name)
    }

    /// Runs `command` in `dir` to its end (output in `dir/NAME.out`): (status, output).
    private func run(_ command: [String], in dir: URL, name: String) throws -> (Int32, String) {
        try finish(try launch(command, in: dir, name: name), in: dir, name: name)
    }

    /// The command line of `autoglm ARGS` under `mpirun -np RANKS` (nil: alone).
    private func command(_ arguments: [String], ranks: Int?) throws -> [String] {
        try mpi([executable, "train"] + arguments, ranks: ranks)
    }

    /// `program` under `mpirun -np RANKS` (nil: alone); `tagged`: each output line starts with
    /// its rank (`[1,R]<stdout>:`, see `lines(_:rank:)`).
    private func mpi(_ program: [String], ranks: Int?, tagged: Bool = false) throws -> [String] {
        guard let ranks else { return program }
        return [try mpirun(), "-np", "\(ranks)", "--oversubscribe", "--bind-to", "none"] + (tagged ? ["--tag-output"] : []) + program
    }

    /// The standard output lines rank `rank` printed in a tagged job's `output`.
    private func lines(_ output: String, rank: Int) -> [String] {
        let tag = "[1,\(rank)]<stdout>:"
        return output.split(separator: "\n").filter { $0.hasPrefix(tag) }.map { String($0.dropFirst(tag.count)) }
    }

    /// The number of step records in a run's log.jsonl (each step once when one rank writes).
    private func stepRecordCount(_ run: URL) throws -> Int {
        try String(contentsOf: run.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { $0.contains(#""kind":"step""#) }.count
    }

    /// The step and eval records of a run's log.jsonl, by kind then step.
    private func records(_ run: URL) throws -> (steps: [Int: [String: Any]], evals: [Int: [String: Any]]) {
        let text = try String(contentsOf: run.appendingPathComponent("log.jsonl"), encoding: .utf8)
        var steps: [Int: [String: Any]] = [:], evals: [Int: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = object["kind"] as? String, let step = object["step"] as? Int else { continue }
            if kind == "step" { steps[step] = object } else if kind == "eval" { evals[step] = object }
        }
        return (steps, evals)
    }

    /// Asserts that `b`'s losses (and evaluation metrics) equal `a`'s to 1e-5 relative at every
    /// step of `range`.
    private func assertSameCurve(_ a: URL, _ b: URL, steps range: ClosedRange<Int>, file: StaticString = #filePath, line: UInt = #line) throws {
        let (stepsA, evalsA) = try records(a), (stepsB, evalsB) = try records(b)
        for step in range {
            let la = try XCTUnwrap(stepsA[step]?["loss"] as? Double, "step \(step) of \(a.lastPathComponent)", file: file, line: line)
            let lb = try XCTUnwrap(stepsB[step]?["loss"] as? Double, "step \(step) of \(b.lastPathComponent)", file: file, line: line)
            XCTAssertEqual(lb, la, accuracy: 1e-5 * abs(la), "loss at step \(step)", file: file, line: line)
        }
        for (step, eval) in evalsA where range.contains(step) {
            let other = try XCTUnwrap(evalsB[step], "evaluation at step \(step)", file: file, line: line)
            for (name, value) in eval where name.hasPrefix("val/") {
                let v = try XCTUnwrap(value as? Double), w = try XCTUnwrap(other[name] as? Double, name, file: file, line: line)
                XCTAssertEqual(w, v, accuracy: 1e-5 * max(abs(v), 1e-3), "\(name) at step \(step)", file: file, line: line)
            }
        }
    }

    /// The weights of a run's latest checkpoint.
    private func weights(_ run: URL) throws -> [String: [Float]] {
        let checkpoint = try Checkpoint.read(from: try RunDirectory.checkpoint(at: run.path))
        return Dictionary(uniqueKeysWithValues: checkpoint.weights.map { ($0.name, $0.tensor.values) })
    }

    func testTwoRanksTrainLikeOneProcess() throws {
        _ = try mpirun()
        let dir = try workspace(steps: 50)
        let (soloStatus, soloOutput) = try train(["--config", "run.yaml", "--set", "run.dir=solo"], ranks: nil, in: dir, name: "solo")
        XCTAssertEqual(soloStatus, 0, soloOutput)
        XCTAssertFalse(soloOutput.contains("MPI"), soloOutput)
        let (status, output) = try train(["--config", "run.yaml", "--set", "run.dir=pair"], ranks: 2, in: dir, name: "pair")
        XCTAssertEqual(status, 0, output)
        let first = output.split(separator: "\n").filter { $0.hasPrefix("training ") }
        XCTAssertEqual(first.count, 2, output)
        for rank in 0..<2 { XCTAssertTrue(first.contains { $0.hasSuffix("(MPI rank \(rank) of 2)") }, output) }
        XCTAssertEqual(output.components(separatedBy: "done: 50 steps").count, 2, "rank 0 alone reports: \(output)")

        let solo = dir.appendingPathComponent("solo"), pair = dir.appendingPathComponent("pair")
        try assertSameCurve(solo, pair, steps: 1...50)
        XCTAssertNotNil(try records(pair).steps[50]?["allreduce_wait_s"] as? Double)
        // Weights after 50 AdamW steps: the ranks sum the gradients in another order than one
        // process adds them, which moves a weight by a few ulps per step at most.
        let a = try weights(solo), b = try weights(pair)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        var worst: Float = 0
        for (name, values) in a { for (x, y) in zip(values, b[name]!) { worst = max(worst, abs(x - y)) } }
        XCTAssertLessThan(worst, 1e-4, "largest weight difference after 50 steps")
        // Callbacks ran on both ranks and saw ABI 1.3's rank and world size.
        for rank in 0..<2 {
            let text = try String(contentsOf: pair.appendingPathComponent("rank-\(rank).txt"), encoding: .utf8)
            XCTAssertEqual(text, "\(rank) 2\n")
        }
        XCTAssertEqual(try String(contentsOf: solo.appendingPathComponent("rank-0.txt"), encoding: .utf8), "0 1\n")
    }

    func testAStopAskedByOneRankStopsEveryRank() throws {
        let dir = try workspace(steps: 50, extra: "params: { rank_witness: { stop_rank: 1, stop_step: 7 } }")
        let (status, output) = try train(["--config", "run.yaml", "--set", "run.dir=stop"], ranks: 2, in: dir, name: "stop")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("done: 7 steps"), output)
        XCTAssertEqual(try RunDirectory.readRecord(dir.appendingPathComponent("stop")).step, 7)
    }

    func testAKilledRankEndsTheJobAndOneProcessResumesIt() throws {
        let dir = try workspace(steps: 60, extra: "checkpoint: { every: 5 }\nparams: { rank_witness: { sleep_ms: 40 } }")
        let (soloStatus, soloOutput) = try train(["--config", "run.yaml", "--set", "run.dir=solo"], ranks: nil, in: dir, name: "solo")
        XCTAssertEqual(soloStatus, 0, soloOutput)

        let job = try launch(try command(["--config", "run.yaml", "--set", "run.dir=killed"], ranks: 2), in: dir, name: "killed")
        let run = dir.appendingPathComponent("killed")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, (try? RunDirectory.readRecord(run))?.latest.map({ $0.hasSuffix("00000015") }) != true { usleep(20_000) }
        let ranks = try children(of: job.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "mpirun's children")
        kill(try XCTUnwrap(ranks.last), SIGKILL)
        let (status, output) = try finish(job, in: dir, name: "killed")
        XCTAssertNotEqual(status, 0, output)

        let record = try RunDirectory.readRecord(run)
        let latest = try XCTUnwrap(record.latest)
        let checkpoint = try Checkpoint.read(from: run.appendingPathComponent(latest))  // intact
        let resumedFrom = checkpoint.manifest.trainer.step
        XCTAssertGreaterThanOrEqual(resumedFrom, 15)
        XCTAssertLessThan(resumedFrom, 60, "the job ended before its last step: \(output)")

        let (again, againOutput) = try train(["--resume", "killed"], ranks: nil, in: dir, name: "resumed")
        XCTAssertEqual(again, 0, againOutput)
        try assertSameCurve(dir.appendingPathComponent("solo"), run, steps: 1...60)
    }

    func testAOneProcessCheckpointResumesOnTwoRanks() throws {
        let dir = try workspace(steps: 40, extra: "checkpoint: { every: 10 }")
        let (soloStatus, soloOutput) = try train(["--config", "run.yaml", "--set", "run.dir=solo"], ranks: nil, in: dir, name: "solo")
        XCTAssertEqual(soloStatus, 0, soloOutput)
        let solo = dir.appendingPathComponent("solo"), copy = dir.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: solo, to: copy)
        try? FileManager.default.removeItem(at: copy.appendingPathComponent(".lock"))
        let (status, output) = try train(["--resume", "copy/checkpoints/step-00000020"], ranks: 2, in: dir, name: "pair")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("from step 20"), output)
        try assertSameCurve(solo, copy, steps: 1...40)
    }

    func testTheCExampleTrainsUnderMpirunLikeOneProcess() throws {
        _ = try mpirun()
        let dir = try workspace(steps: 20)
        let program = try EmbeddingLibrary.compile(PluginBuilder.repoRoot.appendingPathComponent("examples/c/train.c").path,
                                                   libraries: try EmbeddingLibrary.linkDirectory(), into: dir)
        let settings = ["train.steps=20", "train.log_interval=1", "train.eval_interval=10", "train.eval_batches=2", "train.threads=1"]
        let (soloStatus, soloOutput) = try run([program, "corpus.txt", "solo"] + settings, in: dir, name: "solo-c")
        XCTAssertEqual(soloStatus, 0, soloOutput)
        let (status, output) = try run(try mpi([program, "corpus.txt", "pair"] + settings, ranks: 2, tagged: true), in: dir, name: "pair-c")
        XCTAssertEqual(status, 0, "both ranks exit 0: \(output)")

        let solo = dir.appendingPathComponent("solo"), pair = dir.appendingPathComponent("pair")
        try assertSameCurve(solo, pair, steps: 1...20)
        XCTAssertEqual(try stepRecordCount(pair), 20, "rank 0 alone writes log.jsonl")
        XCTAssertEqual(try RunDirectory.readRecord(pair).step, 20)
        XCTAssertTrue(FileManager.default.fileExists(atPath: pair.appendingPathComponent("final/model.safetensors").path), output)
        let first = lines(output, rank: 0), second = lines(output, rank: 1)
        XCTAssertTrue(first.contains { $0.hasPrefix("step 20 loss ") }, "rank 0 reports progress: \(output)")
        XCTAssertFalse(second.contains { $0.hasPrefix("step ") }, "rank 1 reports none: \(output)")
        for rank in [first, second] { XCTAssertTrue(rank.contains("trained steps 20"), output) }
        let samples = [first, second].map { $0.first { $0.hasPrefix("sample: ") } }
        XCTAssertNotNil(samples[0], output)
        XCTAssertEqual(samples[0], samples[1], "the ranks hold the same weights, so they sample the same text")
    }

    func testAProgramThatInitialisesMPIKeepsItAndRunsOneSessionAtATime() throws {
        _ = try mpirun()
        let dir = try workspace(steps: 4)
        let flags = ["--showme:compile", "--showme:link"].map { try? PluginBuilder.run(["mpicc", $0]) }
        try XCTSkipUnless(flags.allSatisfy { $0?.status == 0 }, "mpicc is not installed (Debian: libopenmpi-dev)")
        let extra = flags.flatMap { $0!.output.split(whereSeparator: \.isWhitespace).map(String.init) }
        let program = try EmbeddingLibrary.compile(PluginBuilder.fixturesDir + "/api_mpi.c", libraries: try EmbeddingLibrary.linkDirectory(),
                                                   into: dir, extra: extra)
        let (status, output) = try run(try mpi([program, "corpus.txt", dir.path], ranks: 2, tagged: true), in: dir, name: "api-mpi")
        XCTAssertEqual(status, 0, output)
        let ranks = [lines(output, rank: 0), lines(output, rank: 1)]
        for (rank, printed) in ranks.enumerated() { XCTAssertEqual(printed.last, "ok rank \(rank) of 2", output) }
        for session in ["first", "second"] {
            let losses = ranks.map { $0.first { $0.contains(" \(session) steps 4 loss ") }?.split(separator: " ").last }
            XCTAssertNotNil(losses[0], output)
            XCTAssertEqual(losses[0], losses[1], "the \(session) session trained on both ranks as one run")
            XCTAssertEqual(try stepRecordCount(dir.appendingPathComponent(session)), 4, "one writer")
        }
    }

    func testADriftingRankStopsTheRunAtTheNextCheckpointWhichStaysResumable() throws {
        _ = try mpirun()
        let dir = try workspace(steps: 20, fixtures: ["rank_witness", "rank_drift"],
                                extra: "checkpoint: { every: 5 }\nparams: { rank_drift: { rank: 1, step: 7 } }")
        let (soloStatus, soloOutput) = try train(["--config", "run.yaml", "--set", "run.dir=solo"], ranks: nil, in: dir, name: "solo")
        XCTAssertEqual(soloStatus, 0, "rank 0 alone never drifts: \(soloOutput)")
        let (status, output) = try train(["--config", "run.yaml", "--set", "run.dir=drift"], ranks: 2, in: dir, name: "drift")
        XCTAssertNotEqual(status, 0, output)
        XCTAssertTrue(output.contains("step 10: the ranks drifted apart: rank 1 holds other weights or optimizer state than rank 0"), output)
        XCTAssertTrue(output.contains("the last good state is the previous checkpoint (checkpoints/step-00000005)"), output)

        let run = dir.appendingPathComponent("drift")
        let record = try RunDirectory.readRecord(run)
        XCTAssertEqual(record.status, .failed)
        XCTAssertEqual(record.latest, "checkpoints/step-00000005", "the drifted step is not checkpointed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoints/step-00000010").path))
        XCTAssertEqual(try Checkpoint.read(from: run.appendingPathComponent("checkpoints/step-00000005")).manifest.trainer.step, 5)

        let (again, againOutput) = try train(["--resume", "drift"], ranks: nil, in: dir, name: "resumed")
        XCTAssertEqual(again, 0, againOutput)
        try assertSameCurve(dir.appendingPathComponent("solo"), run, steps: 1...20)
    }

    func testTheBundledLoggingCallbacksWriteOnRankZeroAlone() throws {
        _ = try mpirun()
        let dir = try workspace(steps: 6, bundled: ["csv_log", "jsonl_log", "tensorboard"],
                                extra: "params: { csv_log: { every: 1 }, jsonl_log: { every: 1 }, tensorboard: { every: 1 } }")
        for (name, ranks) in [("solo", nil), ("pair", 2)] as [(String, Int?)] {
            let (status, output) = try train(["--config", "run.yaml", "--set", "run.dir=\(name)"], ranks: ranks, in: dir, name: name)
            XCTAssertEqual(status, 0, output)
        }
        func lineCount(_ run: String, _ file: String) throws -> Int {
            try String(contentsOf: dir.appendingPathComponent("\(run)/\(file)"), encoding: .utf8).split(separator: "\n").count
        }
        for file in ["metrics.csv", "events.jsonl"] {
            XCTAssertEqual(try lineCount("pair", file), try lineCount("solo", file), "\(file): each line once")
        }
        XCTAssertEqual(try lineCount("solo", "metrics.csv"), 7, "a header and 6 steps")
        let events = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("pair").path)
            .filter { $0.hasPrefix("events.out.tfevents.") }
        XCTAssertEqual(events.count, 1, "one TensorBoard event file: \(events)")
    }

    func testOneProcessNeverLoadsMPI() throws {
        let dir = try workspace(steps: 2)
        var options = SessionOptions()
        options.configFile = dir.appendingPathComponent("run.yaml").path
        options.overrides = ["run.dir=\(dir.appendingPathComponent("run").path)", "data.path=\(dir.appendingPathComponent("corpus.txt").path)",
                             "plugins.paths=[\(dir.appendingPathComponent("plugins").path)]"]
        options.environment = [:]
        let session = try Session(options)
        _ = try session.train()
        XCTAssertNil(session.parallelism)
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        XCTAssertFalse(maps.contains("libmpi"), "a process mpirun did not start has no MPI mapped")
    }

    /// The child processes of `pid` (from /proc).
    private func children(of pid: Int32) throws -> [Int32] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return try tasks.flatMap { task in
            try String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8).split(separator: " ").compactMap { Int32($0) }
        }.sorted()
    }
}
