import AutoGLM
import Foundation
import XCTest

/// Nothing is lost: runs killed (SIGKILL) at several moments, crashed by a plugin (SIGSEGV,
/// abort), failed by a plugin's error, or stopped by SIGINT continue with `--resume` to weights
/// byte-identical to an uninterrupted run's and the same logged losses. Each run is a real
/// `autoglm train` child process on a tiny model.
final class ReliabilityTests: XCTestCase {
    private static var executable: String { (PluginSearchPath.bundledDirectory ?? ".") + "/autoglm" }

    /// The fixtures (the fault callback) and the corpus, made once.
    private static let setup: (plugins: URL, corpus: URL) = {
        let dir = (try? PluginBuilder.temporaryDirectory("reliability")) ?? FileManager.default.temporaryDirectory
        _ = try? PluginBuilder.compileFixture("fault_callback.c", into: dir)
        let corpus = dir.appendingPathComponent("corpus.txt")
        try? TrainingTests.corpus.write(to: corpus, atomically: true, encoding: .utf8)
        return (dir, corpus)
    }()

    /// The tiny run: 24 steps, evaluations every 6, checkpoints every 4, a stateful callback
    /// (reduce_lr_on_plateau) and the fault callback.
    private func arguments(optimizer: String, runDir: URL, fault: [String]) -> [String] {
        let settings = [
            "data.path=\(Self.setup.corpus.path)", "model.n_layer=1", "model.n_head=2", "model.n_embd=32", "model.block_size=16",
            "train.batch_size=8", "train.steps=24", "train.warmup_steps=3", "train.eval_interval=6", "train.eval_batches=2",
            "train.log_interval=1", "checkpoint.every=4", "optimizer.name=\(optimizer)", "optimizer.lr=3e-3",
            "callbacks=reduce_lr_on_plateau,fault", "params.reduce_lr_on_plateau.patience=0",
            "params.reduce_lr_on_plateau.min_delta=0.5", "run.dir=\(runDir.path)",
        ] + fault.map { "params.fault.\($0)" }
        return ["train", "--quiet", "--plugins", Self.setup.plugins.path] + settings.flatMap { ["--set", $0] }
    }

    /// Runs `autoglm` with `arguments`; returns how it ended and what it printed.
    @discardableResult
    private func autoglm(_ arguments: [String], until ready: ((Process) -> Void)? = nil)
        throws -> (reason: Process.TerminationReason, status: Int32, output: String) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.executable), "build the autoglm executable first")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        ready?(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The bytes that must match between an interrupted-and-resumed run and an uninterrupted one:
    /// the final weights and optimizer state, and every step's logged loss (as written).
    private func outcome(_ runDir: URL) throws -> (model: Data, optimizer: Data, losses: [String]) {
        let last = runDir.appendingPathComponent("checkpoints/step-00000024")
        let log = try String(contentsOf: runDir.appendingPathComponent("log.jsonl"), encoding: .utf8)
        let losses = log.split(separator: "\n").filter { $0.contains(#""kind":"step""#) }.map { line -> String in
            let loss = line.range(of: #""loss":[^,}]+"#, options: .regularExpression).map { String(line[$0]) } ?? "?"
            let step = line.range(of: #""step":[0-9]+"#, options: .regularExpression).map { String(line[$0]) } ?? "?"
            return step + " " + loss
        }
        return (try Data(contentsOf: last.appendingPathComponent("model.safetensors")),
                try Data(contentsOf: last.appendingPathComponent("optimizer.safetensors")), losses)
    }

    /// An uninterrupted run (the fault's marker exists, so it never acts).
    private func reference(_ optimizer: String) throws -> (model: Data, optimizer: Data, losses: [String]) {
        let dir = try PluginBuilder.temporaryDirectory("reference")
        let marker = dir.appendingPathComponent("done")
        FileManager.default.createFile(atPath: marker.path, contents: nil)
        let run = try autoglm(arguments(optimizer: optimizer, runDir: dir.appendingPathComponent("run"),
                                        fault: ["action=kill", "marker=\(marker.path)"]))
        XCTAssertEqual(run.status, 0, run.output)
        return try outcome(dir.appendingPathComponent("run"))
    }

    /// Interrupts a run with the fault `action` at `step`/`event`, checks how it ended, resumes it
    /// and checks it ends exactly as `expected`.
    private func interruptAndResume(_ optimizer: String, action: String, step: Int, event: String,
                                    expected: (model: Data, optimizer: Data, losses: [String]),
                                    ended check: (Process.TerminationReason, Int32, String) -> Void,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try PluginBuilder.temporaryDirectory("interrupted")
        let runDir = dir.appendingPathComponent("run")
        let fault = ["action=\(action)", "at_step=\(step)", "event=\(event)", "marker=\(dir.appendingPathComponent("fired").path)"]
        let first = try autoglm(arguments(optimizer: optimizer, runDir: runDir, fault: fault))
        check(first.reason, first.status, first.output)
        let record = try RunDirectory.readRecord(runDir)
        XCTAssertNotNil(record.latest, "a checkpoint survives: \(first.output)", file: file, line: line)
        let resumed = try autoglm(["train", "--quiet", "--plugins", Self.setup.plugins.path, "--resume", runDir.path])
        XCTAssertEqual(resumed.status, 0, "\(action)@\(step) \(event): \(resumed.output)", file: file, line: line)
        let got = try outcome(runDir)
        XCTAssertEqual(got.losses, expected.losses, "\(action)@\(step) \(event): the same logged losses", file: file, line: line)
        XCTAssertEqual(got.model, expected.model, "\(action)@\(step) \(event): byte-identical weights", file: file, line: line)
        XCTAssertEqual(got.optimizer, expected.optimizer, "\(action)@\(step) \(event): byte-identical optimizer state",
                       file: file, line: line)
        XCTAssertEqual(try RunDirectory.readRecord(runDir).status, .finished, file: file, line: line)
    }

    func testKilledRunsResumeBitForBitForAdamWAndMuon() throws {
        for optimizer in ["adamw", "muon"] {
            let expected = try reference(optimizer)
            XCTAssertEqual(expected.losses.count, 24)
            for (step, event) in [(9, "step_begin"), (14, "step_end"), (18, "evaluate")] {
                try interruptAndResume(optimizer, action: "kill", step: step, event: event, expected: expected) { reason, status, _ in
                    XCTAssertEqual(reason, .uncaughtSignal)
                    XCTAssertEqual(status, SIGKILL)
                }
            }
        }
    }

    func testACrashingPluginLeavesTheLastCheckpointAndResumeWorks() throws {
        let expected = try reference("adamw")
        for action in ["segv", "abort"] {
            try interruptAndResume("adamw", action: action, step: 10, event: "step_end", expected: expected) { reason, status, output in
                XCTAssertEqual(reason, .uncaughtSignal, output)
                XCTAssertEqual(status, action == "segv" ? SIGSEGV : SIGABRT, output)
            }
        }
    }

    func testAPluginErrorStopsCleanlyWithTheLastGoodStateAndResumes() throws {
        let expected = try reference("adamw")
        try interruptAndResume("adamw", action: "error", step: 10, event: "step_end", expected: expected) { reason, status, output in
            XCTAssertEqual(reason, .exit)
            XCTAssertEqual(status, 1, output)
            XCTAssertTrue(output.contains("fault_callback.so: component 'fault': on_event(AGLM_EVENT_STEP_END)")
                          || output.contains("fault_callback.so: component 'fault': on_event"), output)
            XCTAssertTrue(output.contains("injected failure at step 10"), output)
            XCTAssertTrue(output.contains("resume with `autoglm train --resume"), output)
        }
    }

    func testSIGINTFinishesTheStepCheckpointsAndExitsNonZero() throws {
        let expected = try reference("adamw")
        let dir = try PluginBuilder.temporaryDirectory("sigint")
        let runDir = dir.appendingPathComponent("run")
        let slow = ["action=slow", "sleep_ms=60"]
        let first = try autoglm(arguments(optimizer: "adamw", runDir: runDir, fault: slow)) { process in
            // Once a checkpoint exists, interrupt at a moment of the next few steps.
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, (try? RunDirectory.readRecord(runDir))?.latest == nil { usleep(10_000) }
            usleep(UInt32.random(in: 0..<150_000))
            process.interrupt()
        }
        XCTAssertEqual(first.reason, .exit)
        XCTAssertEqual(first.status, 130, first.output)
        XCTAssertTrue(first.output.contains("SIGINT: finishing the current step and checkpointing"), first.output)
        XCTAssertTrue(first.output.contains("resume with `autoglm train --resume \(runDir.path)`"), first.output)
        let record = try RunDirectory.readRecord(runDir)
        XCTAssertEqual(record.status, .stopped)
        XCTAssertLessThan(record.step, 24)
        XCTAssertEqual(record.latest, "checkpoints/step-\(String(format: "%08d", record.step))", "the stop is checkpointed")
        // The resumed run (without the slow callback changing anything) ends as the reference.
        let resumed = try autoglm(["train", "--quiet", "--plugins", Self.setup.plugins.path, "--resume", runDir.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let got = try outcome(runDir)
        XCTAssertEqual(got.model, expected.model)
        XCTAssertEqual(got.optimizer, expected.optimizer)
        XCTAssertEqual(got.losses, expected.losses)
    }

    func testAKillAtARandomMomentAfterTheHalfwayCheckpointResumesBitForBit() throws {
        let expected = try reference("adamw")
        let dir = try PluginBuilder.temporaryDirectory("random-kill")
        let runDir = dir.appendingPathComponent("run")
        let first = try autoglm(arguments(optimizer: "adamw", runDir: runDir, fault: ["action=slow", "sleep_ms=40"])) { process in
            let deadline = Date().addingTimeInterval(60)
            func latestStep() -> Int { Int((try? RunDirectory.readRecord(runDir))?.latest?.suffix(8) ?? "") ?? 0 }
            while Date() < deadline, latestStep() < 12 { usleep(5_000) }
            usleep(UInt32.random(in: 0..<400_000))
            kill(process.processIdentifier, SIGKILL)
        }
        XCTAssertEqual(first.reason, .uncaughtSignal, first.output)
        let resumed = try autoglm(["train", "--quiet", "--plugins", Self.setup.plugins.path, "--resume", runDir.path])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        let got = try outcome(runDir)
        XCTAssertEqual(got.model, expected.model)
        XCTAssertEqual(got.optimizer, expected.optimizer)
        XCTAssertEqual(got.losses, expected.losses)
    }
}
