import AutoGLM
import AutoGLMCore
import Foundation
import XCTest

/// `autoglm search` as a user runs it, training tiny models (one block of width 16) for real:
/// parallel jobs, objectives read from the trials, a search killed mid-trial and resumed, two
/// processes sharing a study, an interrupted search, pruning.
final class SearchCommandTests: XCTestCase {
    /// A folder with the corpus of TrainingTests, a base config training for `steps` and a space.
    private func workspace(steps: Int, evalInterval: Int, space: String? = nil) throws -> URL {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: AutoGLMChild.executable), "build the autoglm executable first")
        let dir = try PluginBuilder.temporaryDirectory("search")
        try TrainingTests.corpus.write(to: dir.appendingPathComponent("corpus.txt"), atomically: true, encoding: .utf8)
        try """
            data: { path: corpus.txt }
            model: { n_layer: 1, n_head: 2, n_embd: 16, block_size: 16 }
            train: { steps: \(steps), batch_size: 4, eval_interval: \(evalInterval), eval_batches: 2, log_interval: 10, warmup_steps: 2 }
            attention: { name: causal_dense }
            """.write(to: dir.appendingPathComponent("base.yaml"), atomically: true, encoding: .utf8)
        try (space ?? """
            optimizer.lr: { loguniform: [1e-4, 3e-2] }
            attention:
              name: { choice: [causal_dense, alibi, sliding_window] }
              window: { int: [4, 16] }
            """).write(to: dir.appendingPathComponent("space.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Starts `autoglm ARGS` in `dir`, its output to `dir/NAME.out`.
    private func launch(_ arguments: [String], in dir: URL, name: String = "search") throws -> Process {
        try AutoGLMChild.start([AutoGLMChild.executable] + arguments, in: dir, name: name)
    }

    /// Runs `autoglm ARGS` in `dir` to its end: (status, output).
    @discardableResult
    private func autoglm(_ arguments: [String], in dir: URL, name: String = "search") throws -> (Int32, String) {
        let process = try launch(arguments, in: dir, name: name)
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: dir.appendingPathComponent(name + ".out"), encoding: .utf8))
    }

    /// The search command of these tests.
    private func search(_ extra: [String] = [], trials: Int, study: String = "s.db") -> [String] {
        ["search", "--config", "base.yaml", "--space", "space.yaml", "--trials", "\(trials)", "--study", study] + extra
    }

    /// Waits up to `seconds` for `condition`.
    private func wait(_ seconds: Double, for what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        XCTFail("timed out waiting for \(what)")
        throw XCTSkip("gave up")
    }

    /// Whether process `pid` is gone (or a zombie nobody reaped).
    private func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// The trial's run log.
    private func log(_ trial: StudySnapshot.Trial) throws -> RunLog { try RunLog(contentsOf: trial.runDirectory) }

    func testParallelSearchRecordsEveryObjectiveAndShowsTheBest() throws {
        let dir = try workspace(steps: 20, evalInterval: 10)
        let (status, output) = try autoglm(search(["--jobs", "2", "--seed", "1"], trials: 4), in: dir)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("2 at a time on 1 thread(s) each"), output)
        XCTAssertTrue(output.contains("attention.window: int [4, 16] (when attention.name is sliding_window)"), output)
        let study = try StudySnapshot(path: dir.appendingPathComponent("s.db").path)
        XCTAssertEqual(study.trials.map(\.record.state), [.complete, .complete, .complete, .complete])
        for t in study.trials {
            let log = try self.log(t)
            XCTAssertEqual(log.config["train.threads"], "1", "two jobs on two cores: one thread each")
            XCTAssertEqual(log.config["run.dir"], t.runDirectory)
            XCTAssertEqual(t.record.values, [log.metric("val/loss").last!.value], "the objective is the last evaluation's")
            XCTAssertEqual(t.record.intermediate.keys.sorted(), [10, 20])
            for p in t.parameters {  // what the trial trained with is what the study proposed
                let used = try XCTUnwrap(log.config[p.key], p.key)
                if let a = Double(used), let b = Double(p.value) { XCTAssertEqual(a, b, p.key) } else { XCTAssertEqual(used, p.value, p.key) }
            }
            XCTAssertEqual(t.parameters.contains { $0.key == "attention.window" }, log.config["attention.name"] == "sliding_window")
        }
        let owners = Set(study.trials.compactMap(\.owner))
        XCTAssertEqual(owners.count, 1)
        let (shown, text) = try autoglm(["search", "show", "s.db", "--plot"], in: dir, name: "show")
        XCTAssertEqual(shown, 0, text)
        let best = try XCTUnwrap(study.best)
        XCTAssertTrue(text.contains("best: trial \(best.record.number), val/loss \(SearchRunner.format(best.record.values![0]))"), text)
        for suffix in ["objectives.svg", "objectives.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("s-\(suffix)").path), suffix)
        }
    }

    func testFourObjectivesAreMeasuredAndTheParetoFrontShown() throws {
        let dir = try workspace(steps: 10, evalInterval: 10, space: "optimizer.lr: { loguniform: [1e-4, 3e-2] }\n"
                                + "model.n_embd: { choice: [8, 16] }\n")
        let (status, output) = try autoglm(search(["--objective", "val/loss", "--objective", "tokens_per_s", "--objective", "params",
                                                   "--objective", "peak_rss_mb", "--population", "2"], trials: 4), in: dir)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("sampler nsga2"), output)
        let study = try StudySnapshot(path: dir.appendingPathComponent("s.db").path)
        let vocab = Set(TrainingTests.corpus.unicodeScalars).count
        for t in study.complete {
            let values = try XCTUnwrap(t.record.values)
            let c = Int(t.parameters.first { $0.key == "model.n_embd" }!.value)!
            // Token and position embeddings, one block (two norms, qkv, proj, fc, out), the final norm.
            let expected = vocab * c + 16 * c + (2 * c + 3 * c * c + c * c + 8 * c * c) + c
            XCTAssertEqual(values[2], Double(expected), "params of n_embd \(c)")
            XCTAssertEqual(values[1], try log(t).steps.last!.tokensPerSecond, "tokens_per_s from the last step record")
            XCTAssertGreaterThan(values[3], 5)
            XCTAssertLessThan(values[3], 4096, "peak RSS in MiB of a tiny trial")
        }
        XCTAssertEqual(study.complete.count, 4)
        let (shown, text) = try autoglm(["search", "show", "s.db"], in: dir, name: "show")
        XCTAssertEqual(shown, 0, text)
        XCTAssertTrue(text.contains("Pareto front: \(study.paretoFront.count) of 4 complete trials; hypervolume"), text)
    }

    func testAKilledSearchResumesWithoutLosingOrRepeatingATrial() throws {
        let dir = try workspace(steps: 600, evalInterval: 100)
        let command = search(["--seed", "5"], trials: 3)
        let first = try launch(command, in: dir)
        let studyPath = dir.appendingPathComponent("s.db").path
        // Kill the search while trial 1 trains (it has reported an evaluation).
        try wait(120, for: "trial 1 to report") {
            let t = try StudySnapshot(path: studyPath).trials
            return t.count == 2 && t[1].record.state == .running && !t[1].record.intermediate.isEmpty && t[1].childPID != nil
        }
        let before = try StudySnapshot(path: studyPath).trials
        let child = try XCTUnwrap(before[1].childPID)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try wait(10, for: "the orphaned trial process to end") { isGone(child) }

        let (status, output) = try autoglm(command, in: dir, name: "resume")
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("trial 1 (again: attempt 2)"), output)
        let after = try StudySnapshot(path: studyPath).trials
        XCTAssertEqual(after.map(\.record.number), [0, 1, 2], "no trial lost, none repeated")
        XCTAssertEqual(after.map(\.record.state), [.complete, .complete, .complete])
        XCTAssertEqual(after.map(\.attempts), [1, 2, 1])
        XCTAssertEqual(after[1].record.parameters, before[1].record.parameters, "run again with its parameters")
        XCTAssertEqual(after[0].record.values, before[0].record.values, "the finished trial is kept as it was")
        XCTAssertEqual(try log(after[1]).metric("val/loss").map(\.step), [100, 200, 300, 400, 500, 600], "a fresh, whole run")

        // The same command on a new study, uninterrupted, proposes the same trials.
        let (fresh, freshOutput) = try autoglm(search(["--seed", "5"], trials: 3, study: "fresh.db"), in: dir, name: "fresh")
        XCTAssertEqual(fresh, 0, freshOutput)
        let uninterrupted = try StudySnapshot(path: dir.appendingPathComponent("fresh.db").path).trials
        XCTAssertEqual(uninterrupted.map(\.record.parameters), after.map(\.record.parameters))
        XCTAssertEqual(uninterrupted.map(\.record.values), after.map(\.record.values), "training is deterministic too")
    }

    func testTwoProcessesShareOneStudy() throws {
        let dir = try workspace(steps: 80, evalInterval: 40)
        let command = search(["--seed", "2"], trials: 8)
        let a = try launch(command, in: dir, name: "a"), b = try launch(command, in: dir, name: "b")
        a.waitUntilExit()
        b.waitUntilExit()
        let outputs = try ["a", "b"].map { try String(contentsOf: dir.appendingPathComponent($0 + ".out"), encoding: .utf8) }
        XCTAssertEqual(a.terminationStatus, 0, outputs[0])
        XCTAssertEqual(b.terminationStatus, 0, outputs[1])
        let trials = try StudySnapshot(path: dir.appendingPathComponent("s.db").path).trials
        XCTAssertEqual(trials.map(\.record.number), Array(0..<8))
        XCTAssertEqual(Set(trials.map(\.record.state)), [.complete])
        XCTAssertEqual(Set(trials.map(\.attempts)), [1], "no trial ran twice")
        XCTAssertEqual(Set(trials.map { $0.record.parameters }).count, 8, "eight different proposals")
        let owners = Set(trials.compactMap(\.owner))
        XCTAssertEqual(owners.count, 2, "both processes ran trials: \(trials.map(\.owner))")
        // Between them the two processes started every trial once.
        let started = outputs.flatMap { $0.split(separator: "\n").filter { $0.hasPrefix("trial ") && $0.contains("=") } }
        XCTAssertEqual(started.count, 8, "\(outputs)")
    }

    func testAnInterruptedSearchHandsItsTrialBack() throws {
        let dir = try workspace(steps: 4000, evalInterval: 200)
        let command = search(trials: 1)
        let process = try launch(command, in: dir)
        let studyPath = dir.appendingPathComponent("s.db").path
        try wait(120, for: "the trial to report") {
            let t = try StudySnapshot(path: studyPath).trials
            return t.first.map { !$0.record.intermediate.isEmpty && $0.childPID != nil } ?? false
        }
        let child = try XCTUnwrap(try StudySnapshot(path: studyPath).trials[0].childPID)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertTrue(isGone(child), "the trial's process was stopped")
        XCTAssertEqual(try StudySnapshot(path: studyPath).trials.map(\.record.state), [.waiting])
        let (status, output) = try autoglm(command, in: dir, name: "resume")
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(try StudySnapshot(path: studyPath).trials.map(\.record.state), [.complete])
    }

    func testSuccessiveHalvingStopsTrialsEarly() throws {
        // Trials long enough (about a second) for the search to see each evaluation while they run.
        let dir = try workspace(steps: 1600, evalInterval: 400, space: "optimizer.lr: { loguniform: [1e-5, 1e-1] }\n")
        let (status, output) = try autoglm(search(["--sampler", "random", "--pruner", "asha", "--min-resource", "400",
                                                   "--reduction-factor", "2", "--seed", "3"], trials: 6), in: dir)
        XCTAssertEqual(status, 0, output)
        let trials = try StudySnapshot(path: dir.appendingPathComponent("s.db").path).trials
        let pruned = trials.filter { $0.record.state == .pruned }
        XCTAssertFalse(pruned.isEmpty, "with η = 2 some of 6 trials lose a rung: \(output)")
        for t in pruned {
            let last = try XCTUnwrap(t.record.lastIntermediate)
            XCTAssertLessThan(last.step, 1600, "stopped before its last step")
            // The trial is sent SIGTERM once the search has read the evaluation that pruned it; on a
            // loaded machine it may have evaluated once more by then, never to its end.
            let evaluated = try log(t).metric("val/loss")
            XCTAssertTrue(evaluated.contains { $0.step == last.step }, "its log holds the evaluation that pruned it")
            XCTAssertLessThan(try XCTUnwrap(evaluated.last?.step), 1600, "it was stopped before its end")
            XCTAssertTrue(output.contains("trial \(t.record.number): pruned at step \(last.step)"), output)
        }
        for t in trials where t.record.state == .complete {
            XCTAssertEqual(t.record.intermediate.keys.sorted(), [400, 800, 1200, 1600])
        }
    }

    func testAnInvalidSpaceIsRefusedWithItsLine() throws {
        let dir = try workspace(steps: 10, evalInterval: 10, space: "optimizer:\n  lr: { loguniform: [0, 1] }\n")
        let (status, output) = try autoglm(search(trials: 2), in: dir)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(output.contains("space.yaml:2: optimizer.lr must be > 0, got 0"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("s.db").path), "no study for a bad space")
    }
}
